import CProtobufC

/// A message whose wire format is handled by protobuf-c: the generated code converts
/// between the Swift value and protoc-c's C struct; packing and unpacking are protobuf-c's.
public protocol ProtoCMessage: ProtoMessage {
    /// The protoc-c struct of this message.
    associatedtype CStruct
    /// Sets `p` to the message's defaults (protoc-c's `__init`).
    static func cInit(_ p: UnsafeMutablePointer<CStruct>)
    /// protoc-c's descriptor of this message (read once from an initialised struct).
    static var cDescriptor: UnsafePointer<ProtobufCMessageDescriptor> { get }
    /// Writes this value into an initialised struct; everything it points to lives in `arena`.
    func cFill(_ p: UnsafeMutablePointer<CStruct>, _ arena: ProtoArena)
    /// Reads a value out of a struct.
    init(c p: UnsafePointer<CStruct>) throws
}

extension ProtoCMessage {
    /// Packs the message and hands the bytes to `body` without an intermediate copy.
    public func withSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let arena = ProtoArena()
        defer { arena.release() }
        let c = arena.message(self)
        let base = UnsafeMutableRawPointer(c).assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(base)
        let out = arena.allocateBytes(max(size, 1))
        let written = protobuf_c_message_pack(base, out)
        return try body(UnsafeRawBufferPointer(start: out, count: written))
    }

    public func serializedBytes() -> [UInt8] {
        withSerializedBytes { Array($0) }
    }

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws {
        var empty: UInt8 = 0
        let m: UnsafeMutablePointer<ProtobufCMessage>?
        if let base = bytes.baseAddress, bytes.count > 0 {
            m = protobuf_c_message_unpack(Self.cDescriptor, nil, bytes.count, base.assumingMemoryBound(to: UInt8.self))
        } else {
            m = protobuf_c_message_unpack(Self.cDescriptor, nil, 0, &empty)
        }
        guard let m else { throw ProtoDecodingError.malformed(message: Self.protoName) }
        defer { protobuf_c_message_free_unpacked(m, nil) }
        try NULScan.check(bytes, Self.cDescriptor)
        try self.init(c: UnsafeRawPointer(m).assumingMemoryBound(to: CStruct.self))
    }
}

/// A message kept as its wire bytes, undecoded: what a proxy forwards, and what tools that read
/// messages by their schema at run time send and receive.
public struct RawMessage: ProtoMessage {
    /// The message in protobuf wire format.
    public var bytes: [UInt8]

    public static let protoName = "bytes"

    /// An empty message.
    public init() { bytes = [] }

    /// The message with wire bytes `bytes`.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    public init(serializedBytes bytes: UnsafeRawBufferPointer) throws { self.bytes = Array(bytes) }

    public func serializedBytes() -> [UInt8] { bytes }

    public func withSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }
}

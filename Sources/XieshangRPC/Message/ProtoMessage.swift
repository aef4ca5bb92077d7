import CProtobufC

/// A protobuf message as a Swift value: what RPCs send and receive.
public protocol ProtoMessage: Sendable, Hashable {
    /// A message with every field at its default.
    init()
    /// The message's full proto name, e.g. `grpc.testing.SimpleRequest`.
    static var protoName: String { get }
    /// The message in protobuf wire format.
    func serializedBytes() -> [UInt8]
    /// Hands the wire bytes to `body` (without a copy where the encoder allows).
    func withSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    /// Decodes `bytes` (protobuf wire format); throws ``ProtoDecodingError`` when they are not this message.
    init(serializedBytes bytes: UnsafeRawBufferPointer) throws
}

extension ProtoMessage {
    public func withSerializedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try serializedBytes().withUnsafeBytes(body)
    }

    /// Decodes a byte array (protobuf wire format).
    public init(serializedBytes bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try Self(serializedBytes: $0) }
    }
}

/// A proto enum: open, so numbers it does not know survive a round trip.
public protocol ProtoEnum: Sendable, Hashable, RawRepresentable where RawValue == Int32 {
    /// The enum's default (its first value).
    init()
    /// The case for a wire number; unknown numbers are kept.
    init(rawValue: Int32)
    /// Every case this build knows, in declaration order.
    static var allKnownCases: [Self] { get }
}

extension ProtoEnum {
    /// Whether this build knows the value (false for numbers kept in `.UNRECOGNIZED`).
    public var isKnown: Bool { Self.allKnownCases.contains(self) }
}

/// A decoding failure: the bytes are not a valid encoding of the message.
public enum ProtoDecodingError: Error, Hashable, CustomStringConvertible {
    /// protobuf-c rejected the bytes.
    case malformed(message: String)
    /// A string field holds bytes that are not UTF-8.
    case invalidUTF8(field: String)
    /// A string field holds U+0000, which protobuf-c's C strings would cut at (the field's path).
    case nulCharacter(field: String)
    /// A field holds a value protobuf-c left inconsistent (a null where one is required).
    case missing(field: String)

    public var description: String {
        switch self {
        case .malformed(let m): return "bytes do not decode as \(m)"
        case .invalidUTF8(let f): return "field \(f) is not valid UTF-8"
        case .nulCharacter(let f): return "field \(f) contains a NUL character"
        case .missing(let f): return "field \(f) is missing"
        }
    }
}

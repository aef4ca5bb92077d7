/// A call that ended with a non-OK status: thrown by clients, and by handlers to answer with a status.
public struct RPCError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The status code.
    public var code: StatusCode
    /// The human-readable message (`grpc-message`), any Unicode.
    public var message: String
    /// Trailing metadata sent or received with the status.
    public var metadata: Metadata

    /// An error with a code and message.
    public init(_ code: StatusCode, _ message: String = "", metadata: Metadata = Metadata()) {
        self.code = code
        self.message = message
        self.metadata = metadata
    }

    public var description: String { message.isEmpty ? "\(code)" : "\(code): \(message)" }
}

/// Errors a handler can throw that know their own gRPC status (domain errors conform to this).
public protocol RPCErrorConvertible: Error {
    /// The status a caller sees.
    var rpcError: RPCError { get }
}

extension RPCError {
    /// The status a handler's thrown error is reported as.
    public static func from(_ error: any Error) -> RPCError {
        switch error {
        case let e as RPCError: return e
        case let e as RPCErrorConvertible: return e.rpcError
        // Well-formed protobuf whose string field is not UTF-8 is bad input and names the field;
        // bytes that are not the message at all are INTERNAL, as other gRPC servers report them.
        case ProtoDecodingError.invalidUTF8(let field): return RPCError(.invalidArgument, "\(field): not valid UTF-8")
        case ProtoDecodingError.nulCharacter(let field): return RPCError(.invalidArgument, "\(field): contains a NUL character (U+0000)")
        case let e as ProtoDecodingError: return RPCError(.internal, "failed to decode message: \(e)")
        case is CancellationError: return RPCError(.cancelled, "call cancelled")
        default: return RPCError(.unknown, String(describing: error))
        }
    }
}

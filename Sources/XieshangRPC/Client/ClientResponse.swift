/// A unary response with its metadata.
public struct ClientResponse<Message: ProtoMessage>: Sendable {
    /// The response message.
    public var message: Message
    /// The response headers' metadata.
    public var initialMetadata: Metadata
    /// The trailers' metadata.
    public var trailingMetadata: Metadata
}

/// Collects a unary call's single response (event-loop side).
final class UnarySink: ClientStreamSink, @unchecked Sendable {
    var stream: ClientConnectionHandler.Stream?
    var cancelledEarly = false
    private var headers = Metadata()
    private var message: [UInt8]?
    private var count = 0
    private var continuation: CheckedContinuation<(Metadata, [UInt8], Metadata), Error>?

    func attach(_ c: CheckedContinuation<(Metadata, [UInt8], Metadata), Error>) { continuation = c }

    func receivedHeaders(_ metadata: Metadata) { headers = metadata }

    func receivedMessage(_ bytes: [UInt8]) -> Bool {
        count += 1
        if message == nil { message = bytes }
        return true
    }

    func finished(_ status: RPCError, trailers: Metadata) {
        guard let c = continuation else { return }
        continuation = nil
        if status.code != .ok {
            var e = status
            e.metadata = trailers
            c.resume(throwing: e)
        } else if count != 1 || message == nil {
            c.resume(throwing: RPCError(.internal, "expected one response message, received \(count)"))
        } else {
            c.resume(returning: (headers, message!, trailers))
        }
    }
}

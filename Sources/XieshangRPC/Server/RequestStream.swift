/// The request messages of a client- or bidirectional-streaming call, decoded as they arrive.
public struct RequestStream<Message: ProtoMessage>: AsyncSequence, Sendable {
    public typealias Element = Message
    let call: ServerCall

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[UInt8], Error>.AsyncIterator
        let call: ServerCall

        public mutating func next() async throws -> Message? {
            guard let bytes = try await base.next() else { return nil }
            // Taking a message is what lets the client send the next ones (HTTP/2 flow control).
            call.consumed(bytes.count + 5)
            return try Message(serializedBytes: bytes)
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: call.requests!.makeAsyncIterator(), call: call)
    }
}

/// Sends response messages of a server- or bidirectional-streaming call; waits when the peer reads slowly.
public struct ResponseWriter<Message: ProtoMessage>: Sendable {
    let call: ServerCall

    /// Sends one message; suspends while too much is queued for a slow reader.
    public func send(_ message: Message) async throws {
        try await call.send(MessageFramer.frame(message))
    }

    /// Sends `messages` in order with one hand-over to the connection (for a stream of many
    /// small messages: one wake-up of the event loop instead of one per message).
    public func send(contentsOf messages: [Message]) async throws {
        guard !messages.isEmpty else { return }
        var framed: [UInt8] = []
        for m in messages { framed += MessageFramer.frame(m) }
        try await call.send(framed)
    }
}

import NIOCore

/// Where a call's responses go: an HTTP/2 connection's stream, or an HTTP/1.1 exchange. Only ever
/// touched on its connection's event loop.
protocol CallSink: AnyObject {
    /// Queues a framed message; resumes `waiter` once there is room for more.
    func enqueue(stream id: Int32, framed: [UInt8], waiter: CheckedContinuation<Void, Error>)
    /// The handler took a request message of `count` framed bytes.
    func consumed(stream id: Int32, count: Int)
    /// Ends the call with a last message (unary answers) and a status (nil = OK).
    func finish(stream id: Int32, message: [UInt8]?, error: RPCError?, dropQueued: Bool)
}

/// A handler's side of one server stream. Everything that touches the connection hops to its
/// event loop (a no-op when the handler already runs there).
final class ServerCall: @unchecked Sendable {
    let context: ServerContext
    /// Request messages of client- and bidirectional-streaming calls (nil for single-request calls).
    let requests: AsyncThrowingStream<[UInt8], Error>?
    let continuation: AsyncThrowingStream<[UInt8], Error>.Continuation?
    let streamID: Int32
    private let connection: LoopConfined<any CallSink>
    /// The request of a unary or server-streaming call; written before the handler starts.
    var singleRequest: [UInt8] = []

    init(context: ServerContext, streamID: Int32, connection: any CallSink, loop: EventLoop, streaming: Bool) {
        self.context = context
        self.streamID = streamID
        self.connection = LoopConfined(connection, eventLoop: loop)
        if streaming {
            let (s, c) = AsyncThrowingStream.makeStream(of: [UInt8].self)
            requests = s
            continuation = c
        } else {
            requests = nil
            continuation = nil
        }
    }

    /// Runs `handler` on this call as a task, on the connection's loop when `executor` is given,
    /// with ``ServerContext/current`` set for the calls it makes.
    func run(_ handler: MethodHandler, on executor: EventLoopExecutor?) -> Task<Void, Never> {
        let ctx = context
        let work: @Sendable () async -> Void = {
            await ServerContext.$current.withValue(ctx) { await handler.run(self) }
        }
        return executor.map { Task(executorPreference: $0, operation: work) } ?? Task(operation: work)
    }

    func takeSingleRequest<T: ProtoMessage>(_: T.Type) throws -> T {
        try T(serializedBytes: singleRequest)
    }

    private func onLoop(_ body: @escaping (any CallSink) -> Void) {
        let loop = connection.eventLoop
        if loop.inEventLoop {
            body(connection.value)
        } else {
            let c = connection
            loop.execute { body(c.value) }
        }
    }

    /// Queues a framed message; resumes once the queue is below the high-water mark.
    func send(_ framed: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, Error>) in
            let id = streamID
            onLoop { $0.enqueue(stream: id, framed: framed, waiter: cont) }
        }
    }

    /// The handler took a request message of `count` body bytes (its 5-byte prefix included).
    func consumed(_ count: Int) {
        let id = streamID
        onLoop { $0.consumed(stream: id, count: count) }
    }

    /// Ends the call with a last message (unary answers) and a status (nil = OK).
    func finish(message: [UInt8]?, error: RPCError?) {
        let id = streamID
        onLoop { $0.finish(stream: id, message: message, error: error, dropQueued: false) }
    }
}

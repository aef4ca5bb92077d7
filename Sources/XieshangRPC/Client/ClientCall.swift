import NIOConcurrencyHelpers
import NIOCore

/// A streaming call: send requests, read responses, see metadata and the final status.
/// Client-, server- and bidirectional-streaming stubs all return one.
public final class ClientCall<Request: ProtoMessage, Response: ProtoMessage>: Sendable {
    /// Response messages; ends normally on OK, throws ``RPCError`` on any other status.
    public let responses: AsyncThrowingStream<Response, Error>
    private let sink: StreamingSink<Response>
    private let started: Task<ClientConnection, Error>

    init(channel: RPCChannel, path: String, options: CallOptions, initial: [[UInt8]], end: Bool) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Response.self)
        let sink = StreamingSink<Response>(continuation: continuation)
        self.responses = stream
        self.sink = sink
        let deadline = options.effectiveDeadline
        let metadata = options.metadata
        started = Task {
            let conn: ClientConnection
            do {
                conn = try await channel.acquire(deadline: deadline)
            } catch {
                sink.failBeforeStart(RPCError.from(error))
                throw error
            }
            sink.onFinish = { channel.release(conn) }
            conn.withHandler { h in
                h.start(path: path, metadata: metadata, deadline: deadline, sink: sink, initial: initial, end: end)
            }
            return conn
        }
        // Dropping the response sequence (or the call) cancels the stream; no cycle through self.
        let startedTask = started
        continuation.onTermination = { [weak sink] reason in
            if case .cancelled = reason, let sink { Self.cancel(sink: sink, started: startedTask) }
        }
    }

    private static func cancel(sink: StreamingSink<Response>, started: Task<ClientConnection, Error>) {
        Task {
            guard let conn = try? await started.value else { return }
            conn.withHandler { $0.cancel(sink) }
        }
    }

    /// Sends one request; suspends while too much is queued for the connection.
    public func send(_ message: Request) async throws {
        let conn = try await started.value
        let framed = MessageFramer.frame(message)
        let sink = self.sink
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            conn.withHandler { h in
                guard let s = sink.stream else { return c.resume(throwing: RPCError(.cancelled, "call ended")) }
                h.send(s, framed: framed, waiter: c)
            }
        }
    }

    /// Ends the request side (half-close).
    public func closeSend() async throws {
        let conn = try await started.value
        let sink = self.sink
        conn.withHandler { h in if let s = sink.stream { h.closeSend(s) } }
    }

    /// Cancels the call: the server sees RST_STREAM, the caller CANCELLED.
    public func cancel() {
        Self.cancel(sink: sink, started: started)
    }

    /// The response headers' metadata (waits for them).
    public var initialMetadata: Metadata {
        get async throws { try await sink.headers.value() }
    }

    /// The final status and trailing metadata (waits for the end of the call).
    public var status: RPCError {
        get async { (try? await sink.status.value()) ?? RPCError(.unknown, "no status") }
    }

    /// The trailing metadata (waits for the end of the call).
    public var trailingMetadata: Metadata {
        get async { await status.metadata }
    }

    /// For client-streaming calls: half-closes, then returns the single response.
    public func response() async throws -> Response {
        try await closeSend()
        var result: Response?
        for try await r in responses where result == nil { result = r }
        guard let result else { throw RPCError(.internal, "no response message") }
        return result
    }
}

/// A value set once and awaited by any number of readers.
final class OnceValue<T: Sendable>: Sendable {
    private let state = NIOLockedValueBox<(value: Result<T, Error>?, waiters: [CheckedContinuation<T, Error>])>((nil, []))

    func set(_ r: Result<T, Error>) {
        let waiters: [CheckedContinuation<T, Error>] = state.withLockedValue { s in
            guard s.value == nil else { return [] }
            s.value = r
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(with: r) }
    }

    func value() async throws -> T {
        try await withCheckedThrowingContinuation { c in
            let ready: Result<T, Error>? = state.withLockedValue { s in
                if let v = s.value { return v }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }
}

/// Feeds a streaming call's responses into an AsyncThrowingStream (event-loop side).
final class StreamingSink<Response: ProtoMessage>: ClientStreamSink, @unchecked Sendable {
    var stream: ClientConnectionHandler.Stream?
    var cancelledEarly = false
    let continuation: AsyncThrowingStream<Response, Error>.Continuation
    let headers = OnceValue<Metadata>()
    let status = OnceValue<RPCError>()
    var onFinish: (@Sendable () -> Void)?

    init(continuation: AsyncThrowingStream<Response, Error>.Continuation) {
        self.continuation = continuation
    }

    func receivedHeaders(_ metadata: Metadata) { headers.set(.success(metadata)) }

    func receivedMessage(_ bytes: [UInt8]) -> Bool {
        guard let m = try? Response(serializedBytes: bytes) else { return false }
        continuation.yield(m)
        return true
    }

    func finished(_ status: RPCError, trailers: Metadata) {
        var st = status
        st.metadata = trailers
        headers.set(status.code == .ok ? .success(Metadata()) : .failure(st))
        self.status.set(.success(st))
        if status.code == .ok { continuation.finish() } else { continuation.finish(throwing: st) }
        onFinish?()
        onFinish = nil
    }

    func failBeforeStart(_ e: RPCError) {
        headers.set(.failure(e))
        status.set(.success(e))
        continuation.finish(throwing: e)
    }
}

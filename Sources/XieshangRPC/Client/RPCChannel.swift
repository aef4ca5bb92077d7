import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A client's way to a server: a small pool of multiplexed HTTP/2 connections that reconnects
/// with backoff. Calls made while the server cannot be reached fail with UNAVAILABLE.
public final class RPCChannel: Sendable {
    /// The server's host.
    public let host: String
    /// The server's port.
    public let port: Int
    /// Its settings.
    public let configuration: ChannelConfiguration
    private let group: MultiThreadedEventLoopGroup

    private struct State {
        var connections: [ClientConnection] = []
        var connecting: Task<ClientConnection, Error>?
        var failures = 0
        var retryAt: NIODeadline?
        var lastError = ""
        var closed = false
    }
    /// Made once from ``ChannelConfiguration/tls``; a bad trust file fails every connect with its reason.
    private let tlsContext: Result<NIOSSLContext, Error>?
    private let state = NIOLockedValueBox(State())
    /// The loops of ``ChannelConfiguration/sharedLoops`` (empty without them).
    private let sharedLoops: [EventLoop]

    /// A channel to `host:port` (no connection is made until the first call).
    public init(host: String, port: Int, configuration: ChannelConfiguration = .init()) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = configuration.sharedLoops ?? MultiThreadedEventLoopGroup(numberOfThreads: max(configuration.threads, 1))
        sharedLoops = configuration.sharedLoops.map { g in g.makeIterator().map { $0 } } ?? []
        tlsContext = configuration.tls.map { tls in Result { try tls.makeContext() } }
    }

    /// Closes every connection; later calls fail with UNAVAILABLE.
    public func close() async {
        let conns = state.withLockedValue { s -> [ClientConnection] in
            s.closed = true
            defer { s.connections = [] }
            return s.connections
        }
        for c in conns { try? await c.channel.close() }
        if configuration.sharedLoops == nil { try? await group.shutdownGracefully() }
    }

    /// Whether a call would be tried now: a connection is up, or no reconnect delay is running.
    /// False while the address is backing off after failed connects.
    public var isReachable: Bool {
        state.withLockedValue { s in
            if s.closed { return false }
            if s.connections.contains(where: { $0.usable }) { return true }
            guard let at = s.retryAt else { return true }
            return at <= .now()
        }
    }

    /// When the current reconnect delay ends (nil when none runs).
    var retryAt: NIODeadline? { state.withLockedValue { $0.retryAt } }

    private enum Pick {
        case use(ClientConnection)
        case wait(Task<ClientConnection, Error>)
        case fail(RPCError)
    }

    /// A connection to start a call on (its load counted until ``release(_:)``).
    func acquire(deadline: Deadline?) async throws -> ClientConnection {
        while true {
            let pick: Pick = state.withLockedValue { s in
                if s.closed { return .fail(RPCError(.unavailable, "channel to \(host):\(port) is closed")) }
                let usable = s.connections.filter { $0.usable }
                if let loop = affinityLoop() {
                    if let mine = usable.first(where: { $0.loop === loop }) {
                        mine.load += 1
                        return .use(mine)
                    }
                    // None on this loop yet: make one there, and meanwhile use another if there is one.
                    let backingOff = s.retryAt.map { $0 > .now() } ?? false
                    if s.connecting == nil && !backingOff {
                        let t = Task { [self] in try await self.connect(on: loop) }
                        s.connecting = t
                        if usable.isEmpty { return .wait(t) }
                    }
                }
                if let best = usable.min(by: { $0.load < $1.load }),
                   best.load < 100 || usable.count >= configuration.connectionsPerAddress || s.connecting != nil {
                    best.load += 1
                    return .use(best)
                }
                if let t = s.connecting { return .wait(t) }
                if let at = s.retryAt, at > .now() {
                    return .fail(RPCError(.unavailable, "\(host):\(port) unreachable (\(s.lastError)); retrying in \((at - .now()).nanoseconds / 1_000_000) ms"))
                }
                let t = Task { [self] in try await self.connect(on: group) }
                s.connecting = t
                return .wait(t)
            }
            switch pick {
            case .use(let c): return c
            case .fail(let e): throw e
            case .wait(let t):
                do {
                    _ = try await withDeadline(deadline) { try await t.value }
                } catch let e as RPCError where e.code == .deadlineExceeded {
                    throw e
                } catch {
                    throw RPCError(.unavailable, "cannot connect to \(host):\(port): \(error)")
                }
            }
        }
    }

    private func withDeadline<T: Sendable>(_ deadline: Deadline?, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let deadline else { return try await body() }
        return try await withThrowingTaskGroup(of: T?.self) { g in
            g.addTask { try await body() }
            g.addTask {
                try await Task.sleep(nanoseconds: UInt64(deadline.remainingNanoseconds))
                return nil
            }
            let first = try await g.next()!
            g.cancelAll()
            guard let v = first else { throw RPCError(.deadlineExceeded, "deadline exceeded while connecting to \(host):\(port)") }
            return v
        }
    }

    /// The shared loop the caller runs on, when connections follow their callers' loops.
    private func affinityLoop() -> EventLoop? {
        guard !sharedLoops.isEmpty, let current = MultiThreadedEventLoopGroup.currentEventLoop else { return nil }
        return sharedLoops.first { $0 === current }
    }

    private func connect(on loops: any EventLoopGroup) async throws -> ClientConnection {
        do {
            // The connection may become unusable (GOAWAY, close) before it is in the pool: both the
            // signal and the append happen under the pool's lock, so neither can be lost.
            let signal = PoolSignal()
            let conn = try await ClientConnection.connect(host: host, port: port, group: loops, config: configuration,
                                                          tls: try tlsContext?.get()) { [weak self] in
                guard let self else { return }
                self.state.withLockedValue { s in
                    signal.dead = true
                    if let c = signal.connection {
                        c.usable = false
                        s.connections.removeAll { $0 === c }
                    }
                }
            }
            let dead = state.withLockedValue { s -> Bool in
                signal.connection = conn
                s.connecting = nil
                if signal.dead { return true }
                s.connections.append(conn)
                s.failures = 0
                s.retryAt = nil
                return false
            }
            if dead { throw RPCError(.unavailable, "connection to \(host):\(port) closed as it opened") }
            return conn
        } catch {
            state.withLockedValue { s in
                s.failures += 1
                let delay = min(configuration.initialBackoff * pow16(s.failures - 1), configuration.maxBackoff)
                let jitter = Double.random(in: 0.8...1.2)
                s.retryAt = .now() + .nanoseconds(Int64(delay * jitter * 1e9))
                s.lastError = "\(error)"
                s.connecting = nil
            }
            throw error
        }
    }

    private func pow16(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<max(n, 0) { r *= 1.6 }
        return r
    }

    /// What a connection's unusable-callback and `connect` share; touched only under the pool's lock.
    private final class PoolSignal: @unchecked Sendable {
        var dead = false
        var connection: ClientConnection?
    }

    /// Ends the accounting of a call started with ``acquire(deadline:)``.
    func release(_ c: ClientConnection) {
        state.withLockedValue { _ in c.load -= 1 }
    }

    // MARK: calls

    /// A unary call, with the response's metadata.
    public func unary<Req, Resp>(
        _ method: MethodDescriptor<Req, Resp>, _ request: Req, options: CallOptions = .init()
    ) async throws -> ClientResponse<Resp> {
        let conn = try await acquire(deadline: options.effectiveDeadline)
        defer { release(conn) }
        return try await unary(method, request, options: options, on: conn)
    }

    /// A unary call on `conn`, a connection ``acquire(deadline:)`` gave (released by the caller).
    func unary<Req, Resp>(
        _ method: MethodDescriptor<Req, Resp>, _ request: Req, options: CallOptions, on conn: ClientConnection
    ) async throws -> ClientResponse<Resp> {
        let deadline = options.effectiveDeadline
        let framed = MessageFramer.frame(request)
        let sink = UnarySink()
        let metadata = options.metadata
        let (h, m, t) = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<(Metadata, [UInt8], Metadata), Error>) in
                sink.attach(c)
                conn.withHandler { h in
                    h.start(path: method.path, metadata: metadata, deadline: deadline, sink: sink, initial: [framed], end: true)
                }
            }
        } onCancel: {
            conn.withHandler { $0.cancel(sink) }
        }
        do {
            return ClientResponse(message: try Resp(serializedBytes: m), initialMetadata: h, trailingMetadata: t)
        } catch {
            throw RPCError(.internal, "failed to decode response: \(error)")
        }
    }

    /// A server-streaming call: the request is sent at once; read responses from the call.
    public func serverStreaming<Req, Resp>(
        _ method: MethodDescriptor<Req, Resp>, _ request: Req, options: CallOptions = .init()
    ) -> ClientCall<Req, Resp> {
        ClientCall(channel: self, path: method.path, options: options, initial: [MessageFramer.frame(request)], end: true)
    }

    /// A client- or bidirectional-streaming call.
    public func makeCall<Req, Resp>(_ method: MethodDescriptor<Req, Resp>, options: CallOptions = .init()) -> ClientCall<Req, Resp> {
        ClientCall(channel: self, path: method.path, options: options, initial: [], end: false)
    }
}

import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A gRPC server: plaintext HTTP/2 with prior knowledge, one nghttp2 session per connection;
/// with ``ServerConfiguration/web`` also gRPC-Web and Connect, over HTTP/2 and HTTP/1.1 on the
/// same port.
public final class RPCServer: Sendable {
    /// Its settings.
    public let configuration: ServerConfiguration
    private let router: Router
    private let group: MultiThreadedEventLoopGroup
    /// Whether ``shutdown()`` stops the loops (not when they were handed in).
    private let ownsGroup: Bool
    private let registry = ConnectionRegistry()
    private let channel = NIOLockedValueBox<Channel?>(nil)

    /// A server for `services`; call ``start()`` to listen. With `loops` its connections run on
    /// those (shared with clients that forward on them), which the caller shuts down.
    public init(configuration: ServerConfiguration = .init(), services: [RPCService], loops: MultiThreadedEventLoopGroup? = nil) {
        self.configuration = configuration
        self.router = Router(services: services)
        self.group = loops ?? MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads ?? System.coreCount)
        ownsGroup = loops == nil
    }

    /// Every service name served.
    public var serviceNames: [String] { router.serviceNames }

    /// Binds and starts accepting connections; returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        let router = self.router
        let config = self.configuration
        let registry = self.registry
        let ssl = try configuration.tls.map { try $0.makeContext(http1: config.web != nil) }
        let ch = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let ssl {
                        // Whatever ALPN chose, the sniffer (or the HTTP/2 handler) reads the decrypted bytes.
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: ssl))
                    }
                    if let web = config.web {
                        try channel.pipeline.syncOperations.addHandler(
                            ProtocolSniffer(router: router, config: config, web: web, registry: registry))
                    } else {
                        try channel.pipeline.syncOperations.addHandler(
                            ServerConnectionHandler(router: router, config: config, registry: registry))
                    }
                }
            }
            .bind(host: configuration.host, port: configuration.port).get()
        channel.withLockedValue { $0 = ch }
        return ch.localAddress?.port ?? configuration.port
    }

    /// The bound port (after ``start()``).
    public var port: Int? { channel.withLockedValue { $0?.localAddress?.port } }

    /// Open client connections.
    public var connectionCount: Int { registry.count }

    /// Stops accepting, sends GOAWAY, lets in-flight calls finish for up to the drain limit, then closes.
    public func shutdown() async {
        if let ch = channel.withLockedValue({ $0 }) { try? await ch.close() }
        registry.forEach { $0.beginGracefulShutdown() }
        let limit = NIODeadline.now() + .nanoseconds(Int64(configuration.drainLimit * 1e9))
        while registry.count > 0 && NIODeadline.now() < limit {
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        registry.forEach { $0.forceClose() }
        while registry.count > 0 { try? await Task.sleep(nanoseconds: 5_000_000) }
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    /// Waits until the listening socket closes.
    public func waitUntilClosed() async throws {
        if let ch = channel.withLockedValue({ $0 }) { try await ch.closeFuture.get() }
    }
}

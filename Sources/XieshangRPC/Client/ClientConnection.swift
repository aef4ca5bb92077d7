import NIOCore
import NIOPosix
import NIOSSL

/// An established client connection: the channel and its HTTP/2 handler.
final class ClientConnection: @unchecked Sendable {
    let channel: Channel
    let handler: LoopConfined<ClientConnectionHandler>
    var loop: EventLoop { channel.eventLoop }
    /// Calls started on this connection and not yet finished (read under the pool's lock).
    var load = 0
    var usable = true

    init(channel: Channel, handler: ClientConnectionHandler) {
        self.channel = channel
        self.handler = LoopConfined(handler, eventLoop: channel.eventLoop)
    }

    /// Runs `body` with the handler on the connection's loop.
    func withHandler(_ body: @escaping (ClientConnectionHandler) -> Void) {
        let h = handler
        if loop.inEventLoop { body(h.value) } else { loop.execute { body(h.value) } }
    }

    static func connect(
        host: String, port: Int, group: EventLoopGroup, config: ChannelConfiguration, tls: NIOSSLContext?,
        onUnusable: @escaping @Sendable () -> Void
    ) async throws -> ClientConnection {
        let authority = "\(host):\(port)"
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(Int64(config.connectTimeout * 1e9)))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let tls {
                        // SNI takes names only; an address is checked against the certificate's IP entries.
                        let name = config.tls?.serverHostname ?? host
                        let sni = IPRange.bytes(name) == nil ? name : nil
                        try ch.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: sni))
                    }
                    let h = ClientConnectionHandler(config: config, authority: authority)
                    h.onUnusable = onUnusable
                    try ch.pipeline.syncOperations.addHandler(h)
                }
            }
            .connect(host: host, port: port).get()
        let handler = try await channel.pipeline.handler(type: ClientConnectionHandler.self).get()
        return ClientConnection(channel: channel, handler: handler)
    }
}

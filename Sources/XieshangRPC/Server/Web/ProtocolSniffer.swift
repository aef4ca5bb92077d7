import NIOCore
import NIOHTTP1

/// The first handler of a connection to a port that speaks HTTP/2 and HTTP/1.1 together: reads
/// until the bytes are, or cannot be, HTTP/2's connection preface, then puts the right
/// connection handler in its place and hands it what was read. A client that sends nothing
/// decisive within the request timeout is disconnected.
final class ProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    private let router: Router
    private let config: ServerConfiguration
    private let web: WebConfiguration
    private let registry: ConnectionRegistry
    private var seen: ByteBuffer?
    private var timer: Scheduled<Void>?

    init(router: Router, config: ServerConfiguration, web: WebConfiguration, registry: ConnectionRegistry) {
        self.router = router
        self.config = config
        self.web = web
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let c = context
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(web.requestTimeout * 1e9))) { c.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buf = unwrapInboundIn(data)
        if var s = seen {
            s.writeBuffer(&buf)
            seen = s
        } else {
            seen = buf
        }
        guard let s = seen else { return }
        let n = min(s.readableBytes, Self.preface.count)
        let head = s.getBytes(at: s.readerIndex, length: n) ?? []
        let isH2 = head == Array(Self.preface[0..<n])
        if isH2 && n < Self.preface.count { return }  // could still be either
        timer?.cancel()
        do {
            let ops = context.pipeline.syncOperations
            if isH2 {
                try ops.addHandler(ServerConnectionHandler(router: router, config: config, registry: registry))
            } else {
                let watcher = RequestStartWatcher()
                let connection = HTTP1ConnectionHandler(router: router, config: config, web: web, registry: registry)
                watcher.connection = connection
                try ops.addHandler(watcher)
                try ops.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                try ops.addHandler(connection)
            }
        } catch {
            context.close(promise: nil)
            return
        }
        seen = nil
        context.fireChannelRead(wrapInboundOut(s))
        context.fireChannelReadComplete()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

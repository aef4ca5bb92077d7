import XieshangRPC

/// A service under test on a loopback port: one event-loop thread, handlers off the loop, and the
/// channel tests call it through over HTTP/2.
public struct LoopbackServer {
    public let server: RPCServer
    public let channel: RPCChannel

    public init(_ services: [RPCService]) async throws {
        var c = ServerConfiguration()
        c.threads = 1
        c.handlersOnEventLoop = false
        server = RPCServer(configuration: c, services: services)
        channel = RPCChannel(host: "127.0.0.1", port: try await server.start())
    }

    public func close() async {
        await channel.close()
        await server.shutdown()
    }
}

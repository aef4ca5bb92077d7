#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import XieshangAPI
import XieshangInterop
import XieshangRPC

/// `xieshang interop-server`: grpc.testing.TestService for conformance runs and benchmarks.
struct InteropServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interop-server",
        abstract: "Serve grpc.testing.TestService (the gRPC interop test server) and health.")

    @Option(name: [.customLong("port"), .customLong("server_port")], help: "Port to listen on (0 picks one).")
    var port: Int = 50051

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int?

    @Option(name: .customLong("keepalive-interval"), help: "Seconds of idleness before a keepalive PING.")
    var keepaliveInterval: Double = 7200

    @Option(name: .customLong("keepalive-timeout"), help: "Seconds to wait for a PING acknowledgement before closing.")
    var keepaliveTimeout: Double = 20

    func run() async throws {
        var config = ServerConfiguration()
        config.host = host
        config.port = port
        config.threads = threads
        config.keepaliveInterval = keepaliveInterval
        config.keepaliveTimeout = keepaliveTimeout
        let health = HealthService(serving: [Grpc_Testing_TestService.name])
        let server = RPCServer(configuration: config, services: [InteropTestService(), health])
        let bound = try await server.start()
        print("listening on \(bound)")
        fflush(stdout)
        try await SignalWaiter.waitForTermination()
        health.markAllNotServing()
        await server.shutdown()
    }
}

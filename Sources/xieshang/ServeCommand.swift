#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import XieshangAPI
import XieshangDirectory
import XieshangRPC
import XieshangStore

/// `xieshang serve <service>`: one service process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one service (directory) with its health service.",
        discussion: "Migrates its database on start. Stops gracefully on SIGTERM or Ctrl-C.")

    @Argument(help: "The service: directory.")
    var service: String

    @OptionGroup var options: ServiceOptions

    @Flag(name: .customLong("seed-demo"), help: "Create the demo prefecture if the directory is empty.")
    var seedDemo = false

    func run() async throws {
        guard service == "directory" else {
            throw ValidationError("unknown service '\(service)'; available: directory")
        }
        let running = try await DirectoryProcess.start(options: options, port: options.resolvedPort(default: 50061), seedDemo: seedDemo)
        print("directory listening on \(options.resolvedHost()):\(running.port)")
        fflush(stdout)
        try await SignalWaiter.waitForTermination()
        await running.stop()
    }
}

/// A running directory service: its server, database and hashing threads.
struct DirectoryProcess {
    let server: RPCServer
    let health: HealthService
    let database: Database
    let secrets: Secrets
    let port: Int

    static func start(options: ServiceOptions, port: Int, seedDemo: Bool) async throws -> DirectoryProcess {
        let database = try Database(configuration: options.database(service: "directory"))
        let store = DirectoryStore(database: database)
        try await store.migrate()
        let secrets = Secrets(strength: try options.secretsStrength())
        if seedDemo {
            let summary = try await DemoDirectory(store: store, secrets: secrets).generate(progress: SeedCommand.progress)
            SeedCommand.report(summary)
        }
        var config = ServerConfiguration()
        config.host = options.resolvedHost()
        config.port = port
        config.threads = options.resolvedThreads()
        config.handlersOnEventLoop = false
        let health = HealthService(serving: [Xieshang_Directory_V1_DirectoryService.name])
        let server = RPCServer(configuration: config, services: [DirectoryService(store: store, secrets: secrets), health])
        let bound = try await server.start()
        return DirectoryProcess(server: server, health: health, database: database, secrets: secrets, port: bound)
    }

    func stop() async {
        health.markAllNotServing()
        await server.shutdown()
        await database.close()
        await secrets.shutdown()
    }
}

#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import XieshangAPI
import XieshangDirectory
import XieshangIntake
import XieshangRPC
import XieshangStore

/// `xieshang serve <service>`: one service process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one service (directory or intake) with its health service.",
        discussion: """
            Migrates its database on start. Stops gracefully on SIGTERM or Ctrl-C. Default ports: \
            directory 50061, intake 50062. Intake checks members, units and places against the \
            directory named by --directory.
            """)

    @Argument(help: "The service: directory or intake.")
    var service: String

    @OptionGroup var options: ServiceOptions

    @Flag(name: .customLong("seed-demo"), help: "Create the demo prefecture if the directory is empty.")
    var seedDemo = false

    func run() async throws {
        let running: any RunningService
        switch service {
        case "directory":
            running = try await DirectoryProcess.start(options: options, port: options.resolvedPort(default: 50061), seedDemo: seedDemo)
        case "intake":
            running = try await IntakeProcess.start(options: options, port: options.resolvedPort(default: 50062))
        default:
            throw ValidationError("unknown service '\(service)'; available: directory, intake")
        }
        print("\(service) listening on \(options.resolvedHost()):\(running.port)")
        fflush(stdout)
        try await SignalWaiter.waitForTermination()
        await running.stop()
    }
}

/// A service started by `serve`: the port it is bound to, and a graceful stop.
protocol RunningService {
    var port: Int { get }
    func stop() async
}

/// A running directory service: its server, database and hashing threads.
struct DirectoryProcess: RunningService {
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
        let config = options.serverConfiguration(port: port)
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

/// A running intake service: its server, database and directory channel.
struct IntakeProcess: RunningService {
    let server: RPCServer
    let health: HealthService
    let database: Database
    let directoryChannel: RPCChannel
    let port: Int

    static func start(options: ServiceOptions, port: Int) async throws -> IntakeProcess {
        let database = try Database(configuration: options.database(service: "intake"))
        let store = IntakeStore(database: database)
        try await store.migrate()
        let (dirHost, dirPort) = try options.resolvedDirectory()
        let channel = RPCChannel(host: dirHost, port: dirPort)
        let config = options.serverConfiguration(port: port)
        let health = HealthService(serving: [Xieshang_Intake_V1_IntakeService.name])
        let service = IntakeService(store: store, directory: RemoteDirectory(channel: channel))
        let server = RPCServer(configuration: config, services: [service, health])
        let bound = try await server.start()
        return IntakeProcess(server: server, health: health, database: database, directoryChannel: channel, port: bound)
    }

    func stop() async {
        health.markAllNotServing()
        await server.shutdown()
        await directoryChannel.close()
        await database.close()
    }
}

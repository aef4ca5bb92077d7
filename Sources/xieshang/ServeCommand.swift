#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import NIOCore
import NIOPosix
import XieshangAnalytics
import XieshangAPI
import XieshangConsultation
import XieshangDirectory
import XieshangGateway
import XieshangIntake
import XieshangKit
import XieshangNotify
import XieshangProposal
import XieshangRPC
import XieshangStore

/// `xieshang serve <service>`: one service process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one service (directory, intake, proposals, consultation, analytics, notify) or the gateway, with health.",
        discussion: """
            Migrates its database on start. Stops gracefully on SIGTERM or Ctrl-C. Every process needs \
            XIESHANG_PRINCIPAL_SECRET: the gateway signs the principal it forwards with it and the services refuse calls \
            whose principal is not signed with it. Default ports: gateway 50060, directory 50061, intake 50062, proposals 50063, consultation 50064, analytics 50065, notify 50066. The other services \
            check members, units, places and the working-day calendar against the directory named by --directory. \
            Analytics reads the change feeds of the directory, intake, proposals and consultation (--directory, --intake, \
            --proposals, --consultation) and keeps up with them while it runs; notify reads intake's, proposals' and \
            consultation's, tells whoever must be told (inbox, webhooks to loopback or --webhook-hosts) and reminds of due \
            dates on the directory's working-day calendar. Several proposal \
            replicas may share one database: registration numbers stay gap-free and unique; \
            consultation replicas too: a venue or person is never double-booked. The gateway (--directory, --intake, \
            --proposals, --consultation, --analytics, --notify; each host:port or a comma-separated list, names resolved to every \
            replica) authenticates callers, applies the role × method policy and forwards every service's RPCs.
            """)

    @Argument(help: "The service: gateway, directory, intake, proposals, consultation, analytics or notify.")
    var service: String

    @OptionGroup var options: ServiceOptions

    @Flag(name: .customLong("seed-demo"), help: "Create the demo prefecture if the directory is empty.")
    var seedDemo = false

    func run() async throws {
        let signer = try options.installSigner()
        let running: RunningService
        switch service {
        case "gateway":
            running = try await RunningService.gateway(options: options, port: options.resolvedPort(default: 50060), signer: signer)
        case "directory":
            running = try await RunningService.directory(options: options, port: options.resolvedPort(default: 50061), seedDemo: seedDemo)
        case "intake":
            running = try await RunningService.intake(options: options, port: options.resolvedPort(default: 50062))
        case "proposals":
            running = try await RunningService.proposals(options: options, port: options.resolvedPort(default: 50063))
        case "consultation":
            running = try await RunningService.consultation(options: options, port: options.resolvedPort(default: 50064))
        case "analytics":
            running = try await RunningService.analytics(options: options, port: options.resolvedPort(default: 50065))
        case "notify":
            running = try await RunningService.notify(options: options, port: options.resolvedPort(default: 50066))
        default:
            throw ValidationError("unknown service '\(service)'; available: gateway, directory, intake, proposals, consultation, analytics, notify")
        }
        print("\(service) listening on \(options.resolvedHost()):\(running.port)")
        fflush(stdout)
        try await SignalWaiter.waitForTermination()
        await running.stop()
    }
}

/// A service started by `serve`: its server with health, the port it is bound to, and what to
/// close after the server (database, threads, channels to other services).
struct RunningService {
    let server: RPCServer
    let health: HealthService
    let port: Int
    let cleanup: @Sendable () async -> Void

    /// Serves `service` (and health, marked serving for `name`) on `port`.
    static func serve(options: ServiceOptions, port: Int, name: String, service: RPCService,
                      cleanup: @escaping @Sendable () async -> Void) async throws -> RunningService {
        let health = HealthService(serving: [name])
        let server = RPCServer(configuration: try options.serverConfiguration(port: port, signer: PrincipalSigner.process), services: [service, health])
        let bound = try await server.start()
        return RunningService(server: server, health: health, port: bound, cleanup: cleanup)
    }

    /// The directory, with its hashing threads; creates the demo prefecture first when asked.
    static func directory(options: ServiceOptions, port: Int, seedDemo: Bool,
                          prepare: (DemoDirectory) async throws -> Void = { _ in }) async throws -> RunningService {
        let database = try Database(configuration: options.database(service: "directory"))
        let store = DirectoryStore(database: database)
        try await store.migrate()
        let secrets = Secrets(strength: try options.secretsStrength())
        let demo = DemoDirectory(store: store, secrets: secrets)
        if seedDemo {
            // Replicas starting together: one creates the demo data, the others then find it there.
            let summary = try await database.exclusively("directory.seed") { try await demo.generate(progress: SeedCommand.progress) }
            SeedCommand.report(summary)
        }
        try await prepare(demo)
        return try await serve(options: options, port: port, name: Xieshang_Directory_V1_DirectoryService.name,
                               service: DirectoryService(store: store, secrets: secrets)) {
            await database.close()
            await secrets.shutdown()
        }
    }

    /// Intake, with its channel to the directory.
    static func intake(options: ServiceOptions, port: Int) async throws -> RunningService {
        // Its searches' plans do not depend on the words: planned once (PostgreSQL).
        try await withDirectory(options: options, port: port, name: Xieshang_Intake_V1_IntakeService.name, database: "intake",
                                genericPlans: true) {
            let store = IntakeStore(database: $0)
            try await store.migrate()
            return IntakeService(store: store, directory: RemoteDirectory(channel: $1, serviceName: "intake"))
        }
    }

    /// Proposals, with its channel to the directory.
    static func proposals(options: ServiceOptions, port: Int) async throws -> RunningService {
        try await withDirectory(options: options, port: port, name: Xieshang_Proposal_V1_ProposalService.name, database: "proposals") {
            let store = ProposalStore(database: $0)
            try await store.migrate()
            return ProposalService(store: store, directory: RemoteDirectory(channel: $1, serviceName: "proposals"))
        }
    }

    /// Consultation, with its channel to the directory.
    static func consultation(options: ServiceOptions, port: Int) async throws -> RunningService {
        try await withDirectory(options: options, port: port, name: Xieshang_Consultation_V1_ConsultationService.name, database: "consultation") {
            let store = ConsultationStore(database: $0)
            try await store.migrate()
            return ConsultationService(store: store, directory: RemoteDirectory(channel: $1, serviceName: "consultation"))
        }
    }

    /// Analytics, with a channel to each service whose feed it reads and its consumers running.
    static func analytics(options: ServiceOptions, port: Int) async throws -> RunningService {
        let database = try Database(configuration: options.database(service: "analytics"))
        let store = AnalyticsStore(database: database)
        try await store.migrate()
        var channels: [Source: BalancedChannel] = [:]
        for peer in [PeerService.directory, .intake, .proposals, .consultation] {
            if let source = Source(rawValue: peer.rawValue) { channels[source] = try options.channel(to: peer) }
        }
        // Replicas on one PostgreSQL: the holder of this lock ingests, the others answer.
        let leadership = Leadership(database: database, name: "analytics.ingest")
        let ingestor = Ingestor(store: store, channels: channels, leadership: leadership)
        let opened = Array(channels.values)
        ingestor.start()
        return try await serve(options: options, port: port, name: Xieshang_Analytics_V1_AnalyticsService.name,
                               service: AnalyticsService(ingestor: ingestor)) {
            await ingestor.stop()
            await leadership.shutdown()
            for c in opened { await c.close() }
            await database.close()
        }
    }

    /// Notify, with a channel to each feed it reads and one to the directory (calendars, and the
    /// names and phones webhook deliveries carry); its followers, reminders and deliverer running.
    static func notify(options: ServiceOptions, port: Int) async throws -> RunningService {
        let settings = try options.webhookSettings()
        let database = try Database(configuration: options.database(service: "notify"))
        let store = NotifyStore(database: database)
        try await store.migrate()
        var channels: [NotifyFeed: BalancedChannel] = [:]
        for feed in NotifyFeed.allCases { channels[feed] = try options.channel(to: PeerService(rawValue: feed.rawValue)!) }
        let directoryChannel = try options.channel(to: .directory)
        let directory = RemoteDirectory(channel: directoryChannel, serviceName: "notify")
        let client = try WebhookClient(trustRootsFile: settings.ca)
        let deliverer = Deliverer(store: store, client: client, backoff: settings.backoff, allowedHosts: settings.hosts, directory: directory)
        // Replicas on one PostgreSQL: the holder of this lock follows the feeds, reminds and delivers.
        let leadership = Leadership(database: database, name: "notify.follow")
        let notifier = Notifier(store: store, channels: channels, directory: directory, deliverer: deliverer, soonDays: settings.soonDays,
                                leadership: leadership)
        notifier.start()
        let opened = Array(channels.values) + [directoryChannel]
        return try await serve(options: options, port: port, name: Xieshang_Notify_V1_NotifyService.name,
                               service: NotifyService(notifier: notifier, allowedHosts: settings.hosts, poll: database.configuration.pollInterval)) {
            await notifier.stop()
            await leadership.shutdown()
            await client.shutdown()
            for c in opened { await c.close() }
            await database.close()
        }
    }

    /// The gateway: the services' RPCs forwarded over a pooled client per service, its own calls,
    /// reflection and health. It keeps no data.
    static func gateway(options: ServiceOptions, port: Int, signer: PrincipalSigner) async throws -> RunningService {
        // One set of event loops for the public port and the channels to the services: a call is
        // forwarded on a connection of the loop it arrived on, with no thread hop either way.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: options.resolvedThreads() ?? System.coreCount)
        let routes = Routes(directory: try options.channel(to: .directory, loops: loops), intake: try options.channel(to: .intake, loops: loops),
                            proposals: try options.channel(to: .proposals, loops: loops),
                            consultation: try options.channel(to: .consultation, loops: loops),
                            analytics: try options.channel(to: .analytics, loops: loops),
                            notify: try options.channel(to: .notify, loops: loops))
        let gateway = Gateway(routes: routes, signer: signer, publicPerMinute: try options.resolvedPublicRate(),
                              sessionSeconds: try options.resolvedSessionHours() * 3600)
        // Callers present tokens here, not signed principals: no principal filter on this server.
        let config = try options.gatewayServerConfiguration(port: port, transcoder: GatewayTranscoder())
        let server = RPCServer(configuration: config, services: gateway.services, loops: loops)
        let bound = try await server.start()
        // Revoked tokens and disabled accounts stop working at once (the directory's feed).
        let revocations = gateway.gate.authenticator.followDirectory()
        return RunningService(server: server, health: gateway.health, port: bound) {
            revocations.cancel()
            await routes.close()
            try? await loops.shutdownGracefully()
        }
    }

    /// Opens the database of `service` and serves what `make` builds over it and a channel to the
    /// directory named in `options`.
    static func withDirectory(options: ServiceOptions, port: Int, name: String, database service: String, genericPlans: Bool = false,
                              _ make: (Database, BalancedChannel) async throws -> RPCService) async throws -> RunningService {
        var config = try options.database(service: service)
        config.genericPlans = genericPlans
        let database = try Database(configuration: config)
        let channel = try options.channel(to: .directory)
        return try await serve(options: options, port: port, name: name, service: try await make(database, channel)) {
            await channel.close()
            await database.close()
        }
    }

    func stop() async {
        health.markAllNotServing()
        await server.shutdown()
        await cleanup()
    }
}

import ArgumentParser
import NIOCore
import NIOPosix
import Foundation
import XieshangDirectory
import XieshangNotify
import XieshangKit
import XieshangRPC
import XieshangStore

/// Settings shared by the service commands. Every flag has an `XIESHANG_*` environment variable;
/// a flag wins over the environment, the environment over the default. This is the only place the
/// environment is read.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Address to bind (env XIESHANG_HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks one (env XIESHANG_PORT, default per service).")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Folder for SQLite files (env XIESHANG_DATA_DIR, default ./data).")
    var dataDirectory: String?

    @Option(name: .customLong("database-url"),
            help: "postgres://… to use PostgreSQL (one schema per service), sqlite:PATH for a file; empty = the data folder (env XIESHANG_DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .customLong("database-schema"),
            help: "PostgreSQL schema (env XIESHANG_DATABASE_SCHEMA, default: the service's name).")
    var databaseSchema: String?

    @Option(name: .customLong("db-connections"), help: "Most database connections (env XIESHANG_DB_CONNECTIONS, default 8).")
    var connections: Int?

    @Option(name: .customLong("db-listen"),
            help: "PostgreSQL: on (default) or off; off stops LISTEN/NOTIFY, for a pooler in transaction mode: Watch streams then poll (env XIESHANG_DB_LISTEN).")
    var dbListen: String?

    @Option(name: .customLong("password-hashing"),
            help: "interactive (default) or minimal; minimal is for tests only (env XIESHANG_PASSWORD_HASHING).")
    var passwordHashing: String?

    @Option(name: .customLong("directory"),
            help: "host:port of the directory service, for services that check references (env XIESHANG_DIRECTORY, default 127.0.0.1:50061).")
    var directoryAddress: String?

    @Option(name: .customLong("intake"), help: "host:port of intake, whose feed analytics reads (env XIESHANG_INTAKE, default 127.0.0.1:50062).")
    var intakeAddress: String?

    @Option(name: .customLong("proposals"), help: "host:port of proposals, whose feed analytics reads (env XIESHANG_PROPOSALS, default 127.0.0.1:50063).")
    var proposalsAddress: String?

    @Option(name: .customLong("consultation"),
            help: "host:port of consultation, whose feed analytics reads (env XIESHANG_CONSULTATION, default 127.0.0.1:50064).")
    var consultationAddress: String?

    @Option(name: .customLong("analytics"), help: "host:port of analytics, for the gateway (env XIESHANG_ANALYTICS, default 127.0.0.1:50065).")
    var analyticsAddress: String?

    @Option(name: .customLong("notify"), help: "host:port of notify, for the gateway (env XIESHANG_NOTIFY, default 127.0.0.1:50066).")
    var notifyAddress: String?

    @Option(name: .customLong("webhook-hosts"),
            help: "Notify: hosts webhooks may post to besides loopback, comma-separated (sms.example.cn, *.example.cn) (env XIESHANG_WEBHOOK_HOSTS).")
    var webhookHosts: String?

    @Option(name: .customLong("webhook-attempts"), help: "Notify: attempts before a delivery is dead (env XIESHANG_WEBHOOK_ATTEMPTS, default 10).")
    var webhookAttempts: Int?

    @Option(name: .customLong("webhook-backoff-ms"),
            help: "Notify: wait after a delivery's first failure, doubling per attempt up to 15 minutes, with jitter (env XIESHANG_WEBHOOK_BACKOFF_MS, default 2000).")
    var webhookBackoff: Int?

    @Option(name: .customLong("webhook-ca"), help: "Notify: PEM bundle trusted for https webhooks instead of the system's roots (env XIESHANG_WEBHOOK_CA).")
    var webhookCA: String?

    @Option(name: .customLong("reminder-days"), help: "Notify: working days before a due date that reminders start (env XIESHANG_REMINDER_DAYS, default 3).")
    var reminderDays: Int?

    @Option(name: .customLong("principal-secret"),
            help: "Secret (16+ characters) the gateway signs forwarded principals with and services check them by; the same in every process (env XIESHANG_PRINCIPAL_SECRET, required).")
    var principalSecret: String?

    @Option(name: .customLong("public-rate"), help: "Gateway: public calls a minute per client address (env XIESHANG_PUBLIC_RATE, default 60).")
    var publicRate: Int?

    @Option(name: .customLong("session-hours"), help: "Gateway: lifetime of a login's token in hours (env XIESHANG_SESSION_HOURS, default 12).")
    var sessionHours: Double?

    @Option(name: .customLong("cors-origins"),
            help: "Gateway: origins browsers may call it from, comma-separated (https://app.example.cn), or * for any; none = same origin only (env XIESHANG_CORS_ORIGINS).")
    var corsOrigins: String?

    @Option(name: .customLong("trusted-proxies"),
            help: "Gateway: CIDR blocks of the proxies whose X-Forwarded-For names the client (10.0.0.0/8,::1/128); none = believe no one (env XIESHANG_TRUSTED_PROXIES).")
    var trustedProxies: String?

    @Option(name: .customLong("http-request-timeout"),
            help: "Gateway: seconds an HTTP/1.1 client gets to send a whole request before it is cut off (env XIESHANG_HTTP_REQUEST_TIMEOUT, default 30).")
    var httpRequestTimeout: Double?

    @Option(name: .customLong("tls-cert"),
            help: "PEM certificate chain: this process's port speaks TLS (ALPN h2 and, on the gateway, http/1.1); with --tls-key (env XIESHANG_TLS_CERT). `up`: the gateway only.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert (env XIESHANG_TLS_KEY).")
    var tlsKey: String?

    @Option(name: .customLong("peer-tls-ca"),
            help: "PEM bundle of the CA that signed the other services' certificates: call them over TLS (env XIESHANG_PEER_TLS_CA).")
    var peerTLSCA: String?

    @Option(help: "Event-loop threads (env XIESHANG_THREADS, default one per core).")
    var threads: Int?

    private static var env: [String: String] { ProcessInfo.processInfo.environment }

    func resolvedHost() -> String { host ?? Self.env["XIESHANG_HOST"] ?? "127.0.0.1" }

    func resolvedPort(default value: Int) throws -> Int {
        if let port { return port }
        guard let raw = Self.env["XIESHANG_PORT"] else { return value }
        guard let p = Int(raw), (0...65535).contains(p) else { throw ValidationError("XIESHANG_PORT '\(raw)' is not a port") }
        return p
    }

    /// The addresses of another service: `host:port`, or several separated by commas; each name
    /// is resolved to all its addresses when called (one per replica).
    func targets(of service: PeerService) throws -> [(host: String, port: Int)] {
        let raw = addressFlag(of: service) ?? Self.env[service.environment] ?? service.defaultAddress
        guard let t = BalancedChannel.parseTargets(raw) else {
            throw ValidationError("\(service.rawValue) address '\(raw)' is not host:port[,host:port…] (\(service.environment))")
        }
        return t
    }

    /// The flag naming `service`'s address.
    private func addressFlag(of service: PeerService) -> String? {
        self[keyPath: Self.addressKey(service)]
    }

    /// Points this process at `service` on `address` (for `up`, which knows where it started it).
    mutating func setAddress(of service: PeerService, _ address: String) {
        self[keyPath: Self.addressKey(service)] = address
    }

    private static func addressKey(_ service: PeerService) -> WritableKeyPath<ServiceOptions, String?> {
        switch service {
        case .directory: return \.directoryAddress
        case .intake: return \.intakeAddress
        case .proposals: return \.proposalsAddress
        case .consultation: return \.consultationAddress
        case .analytics: return \.analyticsAddress
        case .notify: return \.notifyAddress
        }
    }

    /// A pooled client over every replica of `service` (over TLS with --peer-tls-ca), on
    /// `loops` when given (the gateway's, shared with its server).
    func channel(to service: PeerService, loops: MultiThreadedEventLoopGroup? = nil) throws -> BalancedChannel {
        var config = ChannelConfiguration()
        config.sharedLoops = loops
        if let ca = nonEmpty(peerTLSCA ?? Self.env["XIESHANG_PEER_TLS_CA"]) {
            guard FileManager.default.isReadableFile(atPath: ca) else { throw ValidationError("peer TLS CA file \(ca) cannot be read (XIESHANG_PEER_TLS_CA)") }
            config.tls = ClientTLS(trustRootsFile: ca)
        }
        return BalancedChannel(targets: try targets(of: service), configuration: config)
    }

    /// TLS for this process's port: both files or neither (an empty value is off).
    func serverTLS() throws -> ServerTLS? {
        let cert = nonEmpty(tlsCert ?? Self.env["XIESHANG_TLS_CERT"])
        let key = nonEmpty(tlsKey ?? Self.env["XIESHANG_TLS_KEY"])
        switch (cert, key) {
        case (nil, nil): return nil
        case (let c?, let k?):
            for f in [c, k] where !FileManager.default.isReadableFile(atPath: f) {
                throw ValidationError("TLS file \(f) cannot be read (XIESHANG_TLS_CERT, XIESHANG_TLS_KEY)")
            }
            return ServerTLS(certificateChainFile: c, privateKeyFile: k)
        default:
            throw ValidationError("TLS needs both a certificate and a key (--tls-cert and --tls-key, or XIESHANG_TLS_CERT and XIESHANG_TLS_KEY)")
        }
    }

    /// Turns TLS off for this process's port and its peers (what `up` does for its loopback services).
    mutating func withoutTLS() {
        tlsCert = ""
        tlsKey = ""
        peerTLSCA = ""
    }

    private func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }

    /// The principal signer every serve process needs, installed for the process's own client calls.
    func installSigner() throws -> PrincipalSigner {
        guard let secret = principalSecret ?? Self.env["XIESHANG_PRINCIPAL_SECRET"], !secret.isEmpty else {
            throw ValidationError("set XIESHANG_PRINCIPAL_SECRET (or --principal-secret): the secret the gateway and every service share")
        }
        let signer: PrincipalSigner
        do { signer = try PrincipalSigner(secret: secret) } catch { throw ValidationError("XIESHANG_PRINCIPAL_SECRET \(RPCError.from(error).message)") }
        PrincipalSigner.process = signer
        return signer
    }

    func resolvedPublicRate() throws -> Int {
        let v = publicRate ?? Self.env["XIESHANG_PUBLIC_RATE"].flatMap(Int.init) ?? 60
        guard v > 0 else { throw ValidationError("the public rate must be at least 1 a minute") }
        return v
    }

    func resolvedSessionHours() throws -> Double {
        let v = sessionHours ?? Self.env["XIESHANG_SESSION_HOURS"].flatMap(Double.init) ?? 12
        guard v > 0, v <= 24 * 90 else { throw ValidationError("session hours must be above 0 and at most 2160") }
        return v
    }

    /// A service's server settings: host, `port`, threads; handlers off the event loop (they
    /// wait on the database).
    func serverConfiguration(port: Int, signer: PrincipalSigner? = nil) throws -> ServerConfiguration {
        var config = ServerConfiguration()
        config.tls = try serverTLS()
        // Health and reflection answer anyone (probes, tools); every other call needs a signed principal.
        config.callFilter = signer?.callFilter(open: ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                                                      "grpc.reflection.v1alpha.ServerReflection"])
        config.host = resolvedHost()
        config.port = port
        config.threads = resolvedThreads()
        config.handlersOnEventLoop = false
        return config
    }

    /// The gateway's public port: native gRPC, gRPC-Web and Connect over HTTP/2 and HTTP/1.1,
    /// with the CORS origins and trusted proxies configured.
    func gatewayServerConfiguration(port: Int, transcoder: any JSONTranscoder) throws -> ServerConfiguration {
        var config = try serverConfiguration(port: port)
        // The gateway's handlers never block (they await other services), so they run on the
        // connection's event loop: no hop to the global pool and back on every call.
        config.handlersOnEventLoop = true
        let origins = (corsOrigins ?? Self.env["XIESHANG_CORS_ORIGINS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for o in origins where o != "*" && !(o.hasPrefix("http://") || o.hasPrefix("https://")) {
            throw ValidationError("CORS origin '\(o)' is not * or an origin such as https://app.example.cn (XIESHANG_CORS_ORIGINS)")
        }
        var web = WebConfiguration(corsOrigins: origins, transcoder: transcoder)
        if let t = httpRequestTimeout ?? Self.env["XIESHANG_HTTP_REQUEST_TIMEOUT"].flatMap(Double.init) {
            guard t > 0 else { throw ValidationError("the HTTP request timeout must be above 0 seconds") }
            web.requestTimeout = t
        }
        config.web = web
        do {
            config.trustedProxies = try IPRange.parseList(trustedProxies ?? Self.env["XIESHANG_TRUSTED_PROXIES"] ?? "")
        } catch {
            throw ValidationError("XIESHANG_TRUSTED_PROXIES: \(RPCError.from(error).message)")
        }
        return config
    }

    /// Notify's webhook settings: allowed hosts, the backoff and the CA for https.
    func webhookSettings() throws -> (hosts: [String], backoff: Backoff, ca: String?, soonDays: Int32) {
        let hosts = (webhookHosts ?? Self.env["XIESHANG_WEBHOOK_HOSTS"] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        let attempts = webhookAttempts ?? Self.env["XIESHANG_WEBHOOK_ATTEMPTS"].flatMap(Int.init) ?? 10
        guard (1...100).contains(attempts) else { throw ValidationError("webhook attempts must be 1 to 100 (XIESHANG_WEBHOOK_ATTEMPTS)") }
        let base = webhookBackoff ?? Self.env["XIESHANG_WEBHOOK_BACKOFF_MS"].flatMap(Int.init) ?? 2000
        guard (1...3_600_000).contains(base) else { throw ValidationError("webhook backoff must be 1 ms to an hour (XIESHANG_WEBHOOK_BACKOFF_MS)") }
        let days = reminderDays ?? Self.env["XIESHANG_REMINDER_DAYS"].flatMap(Int.init) ?? 3
        guard (0...30).contains(days) else { throw ValidationError("reminder days must be 0 to 30 (XIESHANG_REMINDER_DAYS)") }
        let ca = nonEmpty(webhookCA ?? Self.env["XIESHANG_WEBHOOK_CA"])
        if let ca, !FileManager.default.isReadableFile(atPath: ca) { throw ValidationError("webhook CA file \(ca) cannot be read (XIESHANG_WEBHOOK_CA)") }
        return (hosts, Backoff(baseMilliseconds: Int64(base), attempts: attempts), ca, Int32(days))
    }

    func resolvedThreads() -> Int? { threads ?? Self.env["XIESHANG_THREADS"].flatMap(Int.init) }

    func database(service: String) throws -> DatabaseConfiguration {
        let url = databaseURL ?? Self.env["XIESHANG_DATABASE_URL"] ?? ""
        let dir = dataDirectory ?? Self.env["XIESHANG_DATA_DIR"] ?? "./data"
        var config = try DatabaseConfiguration.parse(url: url, service: service, dataDirectory: dir)
        if let n = connections ?? Self.env["XIESHANG_DB_CONNECTIONS"].flatMap(Int.init) { config.maxConnections = n }
        switch dbListen ?? Self.env["XIESHANG_DB_LISTEN"] ?? "on" {
        case "on", "": config.listen = true
        case "off": config.listen = false
        case let other: throw ValidationError("XIESHANG_DB_LISTEN '\(other)' is not on or off")
        }
        if case .postgres(let conninfo, _) = config.engine,
           let schema = databaseSchema ?? Self.env["XIESHANG_DATABASE_SCHEMA"], !schema.isEmpty {
            config.engine = .postgres(conninfo: conninfo, schema: schema)
        }
        return config
    }

    func secretsStrength() throws -> Secrets.Strength {
        switch passwordHashing ?? Self.env["XIESHANG_PASSWORD_HASHING"] ?? "interactive" {
        case "interactive": return .interactive
        case "minimal": return .minimal
        case let other: throw ValidationError("password hashing '\(other)' is not interactive or minimal")
        }
    }
}

/// The services one process may call, with their variables and defaults.
enum PeerService: String, CaseIterable {
    case directory, intake, proposals, consultation, analytics, notify

    var environment: String { "XIESHANG_\(rawValue.uppercased())" }

    var defaultAddress: String {
        switch self {
        case .directory: return "127.0.0.1:50061"
        case .intake: return "127.0.0.1:50062"
        case .proposals: return "127.0.0.1:50063"
        case .consultation: return "127.0.0.1:50064"
        case .analytics: return "127.0.0.1:50065"
        case .notify: return "127.0.0.1:50066"
        }
    }
}

import ArgumentParser
import Foundation
import XieshangDirectory
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

    /// The directory's host and port.
    func resolvedDirectory() throws -> (host: String, port: Int) {
        try Self.address(directoryAddress, env: "XIESHANG_DIRECTORY", default: "127.0.0.1:50061", what: "directory")
    }

    /// The host and port of each service analytics reads.
    func resolvedFeeds() throws -> [(name: String, host: String, port: Int)] {
        let (dh, dp) = try resolvedDirectory()
        var out = [("directory", dh, dp)]
        for (name, flag, env, value) in [("intake", intakeAddress, "XIESHANG_INTAKE", "127.0.0.1:50062"),
                                         ("proposals", proposalsAddress, "XIESHANG_PROPOSALS", "127.0.0.1:50063"),
                                         ("consultation", consultationAddress, "XIESHANG_CONSULTATION", "127.0.0.1:50064")] {
            let (h, p) = try Self.address(flag, env: env, default: value, what: name)
            out.append((name, h, p))
        }
        return out
    }

    /// `flag`, else the environment's `env`, else `value`, as host and port.
    static func address(_ flag: String?, env: String, default value: String, what: String) throws -> (host: String, port: Int) {
        let raw = flag ?? Self.env[env] ?? value
        guard let colon = raw.lastIndex(of: ":"), let port = Int(raw[raw.index(after: colon)...]), (1...65535).contains(port),
              colon != raw.startIndex else {
            throw ValidationError("\(what) address '\(raw)' is not host:port")
        }
        return (String(raw[..<colon]), port)
    }

    /// A service's server settings: host, `port`, threads; handlers off the event loop (they
    /// wait on the database).
    func serverConfiguration(port: Int) -> ServerConfiguration {
        var config = ServerConfiguration()
        config.host = resolvedHost()
        config.port = port
        config.threads = resolvedThreads()
        config.handlersOnEventLoop = false
        return config
    }

    func resolvedThreads() -> Int? { threads ?? Self.env["XIESHANG_THREADS"].flatMap(Int.init) }

    func database(service: String) throws -> DatabaseConfiguration {
        let url = databaseURL ?? Self.env["XIESHANG_DATABASE_URL"] ?? ""
        let dir = dataDirectory ?? Self.env["XIESHANG_DATA_DIR"] ?? "./data"
        var config = try DatabaseConfiguration.parse(url: url, service: service, dataDirectory: dir)
        if let n = connections ?? Self.env["XIESHANG_DB_CONNECTIONS"].flatMap(Int.init) { config.maxConnections = n }
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

import Foundation

/// Where a service keeps its data and how many connections it may hold.
public struct DatabaseConfiguration: Sendable, Equatable {
    /// The engine and its location.
    public enum Engine: Sendable, Equatable {
        /// A SQLite file (created if missing; WAL mode).
        case sqlite(path: String)
        /// A PostgreSQL server; `conninfo` is a libpq connection string or URI, `schema` the
        /// service's own schema (created if missing).
        case postgres(conninfo: String, schema: String)
    }

    /// The engine.
    public var engine: Engine
    /// Most connections held at once (SQLite: readers; the one writer is extra).
    public var maxConnections: Int = 8
    /// How often a Watch looks for events written by other processes, in seconds.
    public var pollInterval: Double = 0.2
    /// PostgreSQL: listen for other processes' commits of events (LISTEN/NOTIFY) so Watch streams
    /// wake at once; the poll stays as the fallback.
    public var listen = true
    /// PostgreSQL: plan each prepared statement once for any parameter values
    /// (`plan_cache_mode = force_generic_plan`) instead of anew on each execution, where the server
    /// keeps doing so when parameters change its estimates. For services whose statements walk the
    /// same indexes whatever the values: planning a search's joins cost more than running them.
    public var genericPlans = false

    /// A configuration for `engine`.
    public init(engine: Engine, maxConnections: Int = 8, pollInterval: Double = 0.2) {
        self.engine = engine
        self.maxConnections = maxConnections
        self.pollInterval = pollInterval
    }

    /// The dialect of the engine.
    public var dialect: SQLDialect {
        if case .postgres = engine { return .postgres }
        return .sqlite
    }

    /// Reads a database URL for `service`:
    /// - `postgres://…` or `postgresql://…` (any libpq URI): the service uses schema `service` there;
    /// - `sqlite:PATH` or a bare path ending in `.sqlite3`/`.db`: that file;
    /// - empty: `dataDirectory/service.sqlite3`.
    public static func parse(url: String, service: String, dataDirectory: String) throws -> DatabaseConfiguration {
        let trimmed = url.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || trimmed == "sqlite" || trimmed == "sqlite:" {
            let dir = dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
            return .init(engine: .sqlite(path: "\(dir)/\(service).sqlite3"))
        }
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") {
            return .init(engine: .postgres(conninfo: trimmed, schema: service))
        }
        if trimmed.hasPrefix("sqlite:") {
            return .init(engine: .sqlite(path: String(trimmed.dropFirst("sqlite:".count))))
        }
        if trimmed.hasSuffix(".sqlite3") || trimmed.hasSuffix(".db") {
            return .init(engine: .sqlite(path: trimmed))
        }
        throw StoreError.configuration(message: "unrecognised database URL '\(url)': use postgres://…, sqlite:PATH, or leave it empty for the data directory")
    }
}

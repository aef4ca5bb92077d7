import NIOConcurrencyHelpers
import NIOPosix

/// Which one of a service's replicas does a job only one may do at a time (analytics' and
/// notify's feed following): the holder of a PostgreSQL session advisory lock, on a connection of
/// its own. When the holder's process dies its session ends and PostgreSQL frees the lock, so
/// another replica, trying every `retry` seconds, takes over within about that. On SQLite there is
/// one process per file: it always leads.
///
/// Losing the lock while working (the connection breaks) stops the work at once; the work itself
/// must still be safe to run twice for the moment both think they lead (the feed appliers lock
/// their cursor row, so the second applies nothing the first did).
public final class Leadership: Sendable {
    public let name: String
    let configuration: DatabaseConfiguration
    let retry: Double
    private let leading = NIOLockedValueBox(false)
    private let threads = NIOThreadPool(numberOfThreads: 1)

    /// A lock named `name` within `database`'s schema (two deployments sharing a server do not
    /// contend), tried every `retry` seconds.
    public init(database: Database, name: String, retry: Double = 1) {
        self.name = name
        self.configuration = database.configuration
        self.retry = retry
        threads.start()
    }

    /// Whether this process holds the lock now.
    public var isLeader: Bool { leading.withLockedValue { $0 } }

    /// The lock's key: FNV-1a of the schema and the name, as a signed 64-bit number.
    static func key(schema: String, name: String) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "xieshang:\(schema):\(name)".utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: h)
    }

    /// Runs `lead` whenever this process holds the lock, until cancelled: `lead` is started when
    /// the lock is taken and cancelled (and awaited) when it is lost; then the lock is tried again.
    public func run(_ lead: @escaping @Sendable () async -> Void) async {
        guard case .postgres(let conninfo, let schema) = configuration.engine else {
            set(true)
            await lead()
            set(false)
            return
        }
        let key = Self.key(schema: schema, name: name)
        while !Task.isCancelled {
            let held: PostgresConnection? = try? await threads.runIfActive {
                let c = try PostgresConnection(conninfo: conninfo, schema: nil, genericPlans: false)
                let got = try c.query("SELECT CASE WHEN pg_try_advisory_lock(?) THEN 1 ELSE 0 END AS got", [.integer(key)]).first?.int("got") == 1
                return got ? c : nil
            }
            guard let conn = held else {
                try? await Task.sleep(nanoseconds: UInt64(retry * 1e9))
                continue
            }
            set(true)
            let work = Task { await lead() }
            // Held while the session answers; a broken connection has lost the lock.
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(retry * 1e9))
                let alive = (try? await threads.runIfActive { try conn.query("SELECT 1 AS one", []).first?.int("one") == 1 }) ?? false
                if !alive { break }
            }
            work.cancel()
            await work.value
            set(false)
            _ = try? await threads.runIfActive { _ = try? conn.query(Self.unlock, [.integer(key)]) }
        }
    }

    private func set(_ value: Bool) { leading.withLockedValue { $0 = value } }

    /// Gives a session advisory lock back (the session ending does too).
    static let unlock = "SELECT pg_advisory_unlock(?) IS NOT NULL AS unlocked"

    public func shutdown() async {
        try? await threads.shutdownGracefully()
    }
}

extension Database {
    /// Runs `body` while no other process on this PostgreSQL schema runs a body under `name`
    /// (a session advisory lock on a connection of its own, waited for); on SQLite, at once. For
    /// start-up work replicas must not do together, such as creating the demo data once.
    public func exclusively<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        guard case .postgres(let conninfo, let schema) = configuration.engine else { return try await body() }
        let key = Leadership.key(schema: schema, name: name)
        let threads = NIOThreadPool(numberOfThreads: 1)
        threads.start()
        defer { threads.shutdownGracefully { _ in } }
        let conn = try await threads.runIfActive {
            let c = try PostgresConnection(conninfo: conninfo, schema: nil, genericPlans: false)
            _ = try c.query("SELECT pg_advisory_lock(?) IS NOT NULL AS locked", [.integer(key)])
            return c
        }
        let result: Result<T, Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        _ = try? await threads.runIfActive { _ = try? conn.query(Leadership.unlock, [.integer(key)]) }
        return try result.get()
    }
}

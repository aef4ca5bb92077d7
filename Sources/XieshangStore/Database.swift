import Foundation
import NIOPosix

/// A service's database: pooled connections on a dedicated thread pool, migrations, read and write
/// transactions, and the event log every write can append to.
public final class Database: Sendable {
    /// The settings it was opened with.
    public let configuration: DatabaseConfiguration
    /// Wakes this process's Watch streams on commit.
    public let notifier = EventNotifier()
    private let readers: ConnectionPool
    private let writers: ConnectionPool
    private let threads: NIOThreadPool
    /// SQLite's writes go through group commit; PostgreSQL's run one transaction per connection.
    private let committer: GroupCommitter?
    /// PostgreSQL: hears other processes' commits of events (LISTEN/NOTIFY).
    private let listener: EventListener?

    /// Opens (and for SQLite creates) the database and checks it answers. Migrate before use.
    public init(configuration: DatabaseConfiguration) throws {
        self.configuration = configuration
        let n = max(1, configuration.maxConnections)
        switch configuration.engine {
        case .sqlite(let path):
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            // The writer opens first so the file exists and is in WAL mode before readers attach.
            let writer = try SQLiteConnection(path: path, readOnly: false)
            let first = Box(writer)
            writers = ConnectionPool(limit: 1) {
                if let c = first.take() { return c }
                return try SQLiteConnection(path: path, readOnly: false)
            }
            readers = ConnectionPool(limit: n) { try SQLiteConnection(path: path, readOnly: true) }
            threads = NIOThreadPool(numberOfThreads: n + 1)
            committer = GroupCommitter(pool: writers, threads: threads, notifier: notifier)
            listener = nil
        case .postgres(let conninfo, let schema):
            let generic = configuration.genericPlans
            let first = Box<SQLConnection>(try PostgresConnection(conninfo: conninfo, schema: schema, genericPlans: generic))
            let pool = ConnectionPool(limit: n) {
                if let c = first.take() { return c }
                return try PostgresConnection(conninfo: conninfo, schema: schema, genericPlans: generic)
            }
            readers = pool
            writers = pool
            threads = NIOThreadPool(numberOfThreads: n)
            committer = nil
            listener = configuration.listen ? EventListener(conninfo: conninfo, schema: schema, notifier: notifier) : nil
        }
        threads.start()
    }

    /// The engine.
    public var dialect: SQLDialect { configuration.dialect }

    /// How long a Watch stream waits before looking for events other processes committed: the
    /// configured poll, or a second while the PostgreSQL listener is connected (it wakes them sooner).
    public var pollInterval: Double {
        listener?.connected == true ? max(configuration.pollInterval, 1) : configuration.pollInterval
    }

    /// Whether other processes' commits wake this one's streams at once (PostgreSQL, listening).
    public var listening: Bool { listener?.connected == true }

    /// Runs `body` with a connection outside any explicit transaction (each statement commits alone).
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLConnection) throws -> T) async throws -> T {
        let readers = self.readers
        return try await threads.runIfActive { try readers.withConnection(body) }
    }

    /// Runs `body` in a write transaction; commits when it returns, rolls back when it throws.
    /// Events it emits are appended just before the commit. Conflicts with concurrent writers are
    /// retried (the body must be safe to run again). On SQLite, bodies arriving together share one
    /// commit (see GroupCommitter); each still succeeds or fails alone, and returns after its commit.
    ///
    /// `durable: false` lets the commit return before it reaches the disk (SQLite: no sync in WAL
    /// mode; PostgreSQL: `synchronous_commit` off for the transaction), for writes that can be
    /// made again from their source, such as a projection and its cursor: the transaction stays
    /// atomic and survives the process, and only a crash of the machine can take back its last
    /// commits, all together.
    @discardableResult
    public func write<T: Sendable>(durable: Bool = true, _ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        let writers = self.writers
        let notifier = self.notifier
        var attempt = 0
        while true {
            attempt += 1
            do {
                if let committer { return try await committer.write(durable: durable, body) }
                let (value, head) = try await threads.runIfActive {
                    try writers.withConnection { conn in try Self.transaction(conn, durable: durable, body) }
                }
                if let head { notifier.publish(head) }
                return value
            } catch let e as StoreError where e.isRetryable && attempt < 8 {
                try await Task.sleep(nanoseconds: UInt64.random(in: 1_000_000...(5_000_000 << UInt64(min(attempt, 4)))))
            }
        }
    }

    private static func transaction<T>(_ conn: SQLConnection, durable: Bool, _ body: (Transaction) throws -> T) throws -> (T, Int64?) {
        try conn.executeScript(conn.dialect == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN")
        if !durable && conn.dialect == .postgres { try conn.executeScript("SET LOCAL synchronous_commit TO OFF") }
        do {
            let tx = Transaction(connection: conn, nowMilliseconds: Clock.nowMilliseconds())
            let value = try body(tx)
            var head: Int64?
            if !tx.pending.isEmpty { head = try EventLog.append(tx.pending, on: conn) }
            try conn.executeScript("COMMIT")
            return (value, head)
        } catch {
            if conn.isHealthy { try? conn.executeScript("ROLLBACK") }
            throw error
        }
    }

    /// Applies the event log's migrations and then `migrations` of `component` that are not yet
    /// applied, each in its own transaction, one process at a time.
    public func migrate(component: String, _ migrations: [Migration]) async throws {
        let writers = self.writers
        try await threads.runIfActive {
            try writers.withConnection { conn in
                try Migrator(connection: conn).run([("eventlog", EventLog.migrations), (component, migrations)])
            }
        }
        let head = try await read { try EventLog.head(on: $0) }
        notifier.publish(head)
    }

    /// Closes idle connections and stops the thread pool.
    public func close() async {
        listener?.stop()
        readers.close()
        writers.close()
        try? await threads.shutdownGracefully()
    }
}

/// Milliseconds since 1970 on the wall clock.
public enum Clock {
    /// Now, in milliseconds since 1970, UTC.
    public static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}

/// Hands a value over once (the connection opened to check the database is the pool's first).
final class Box<T>: @unchecked Sendable {
    private var value: T?
    private let lock = NSLock()
    init(_ value: T) { self.value = value }
    func take() -> T? {
        lock.lock()
        defer { lock.unlock() }
        let v = value
        value = nil
        return v
    }
}

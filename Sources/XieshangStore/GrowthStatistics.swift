import NIOConcurrencyHelpers

/// PostgreSQL plans by its statistics, which autovacuum refreshes on its own schedule: while
/// tables fill (a first ingest, an import, a burst of submissions into a new schema) the plans are
/// those of nearly empty tables, and index-only scans read table pages that are not yet marked
/// all-visible. This counts the rows a process adds to `tables` and has them vacuumed and analysed
/// after the first `first`, then each time the count quadruples. Nothing on SQLite.
public struct GrowthStatistics: Sendable {
    public let database: Database
    /// The tables refreshed together.
    public let tables: [String]
    /// Rows added before the first refresh.
    public let first: Int
    private let growth: NIOLockedValueBox<(rows: Int, next: Int)>

    public init(database: Database, tables: [String], first: Int) {
        self.database = database
        self.tables = tables
        self.first = first
        self.growth = NIOLockedValueBox((0, first))
    }

    /// Counts `rows` more; true when the tables are due for a ``refresh()`` (on PostgreSQL).
    public func grew(by rows: Int) -> Bool {
        guard database.configuration.dialect == .postgres, rows > 0 else { return false }
        return growth.withLockedValue { g in
            g.rows += rows
            guard g.rows >= g.next else { return false }
            g.next = g.rows * 4
            return true
        }
    }

    /// Starts counting again from none (the tables were emptied).
    public func reset() {
        growth.withLockedValue { [first] in $0 = (0, first) }
    }

    /// `VACUUM (ANALYZE)` of the tables: the statistics, and the visibility map index-only scans
    /// need. Outside a transaction, as VACUUM must be.
    public func refresh() async throws {
        guard database.configuration.dialect == .postgres else { return }
        try await database.read { try $0.executeScript("VACUUM (ANALYZE) " + tables.joined(separator: ", ")) }
    }
}

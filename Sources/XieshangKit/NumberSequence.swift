import XieshangStore

/// Gap-free numbers per committee, kind and scope (bulletin 2026 No. 1, 2, …; proposal numbers per
/// term): the counter row is bumped inside the caller's write transaction, so its row lock holds
/// until commit. Concurrent writers, even in other processes on one PostgreSQL schema, get
/// distinct consecutive numbers, and a rolled-back transaction gives its number back.
public enum NumberSequence {
    /// The table a service adds to its migrations to use this.
    public static let migration = """
        CREATE TABLE number_counters (
            committee_id BIGINT NOT NULL, kind TEXT NOT NULL, scope BIGINT NOT NULL, last_number BIGINT NOT NULL,
            PRIMARY KEY (committee_id, kind, scope));
        """

    /// The next number of `kind` within `scope` (e.g. a year) for `committee`, starting at 1.
    public static func next(_ kind: String, committee: Int64, scope: Int64, in tx: Transaction) throws -> Int64 {
        let rows = try tx.query("""
            INSERT INTO number_counters (committee_id, kind, scope, last_number) VALUES (?, ?, ?, 1)
            ON CONFLICT (committee_id, kind, scope) DO UPDATE SET last_number = number_counters.last_number + 1
            RETURNING last_number
            """, [.integer(committee), .text(kind), .integer(scope)])
        return rows.first?.int("last_number") ?? 1
    }
}

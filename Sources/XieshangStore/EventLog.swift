/// The per-service event log tables and the statements that append to and read them.
///
/// Sequence numbers come from a single counter row that each committing transaction bumps as its
/// last statement. The row lock is held until commit, so transactions take numbers in the order
/// they commit: a reader never sees sequence n+1 before n, on SQLite or on PostgreSQL with many
/// writers, and a cursor (the last sequence seen) never skips an event.
public enum EventLog {
    /// The log's schema, migrated as component `eventlog` before a service's own tables.
    public static let migrations = [
        Migration(version: 1, name: "event log", script: """
            CREATE TABLE events (
                seq BIGINT PRIMARY KEY,
                committee_id BIGINT NOT NULL,
                entity_kind TEXT NOT NULL,
                entity_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                actor_account_id BIGINT NOT NULL,
                actor_name TEXT NOT NULL,
                at_ms BIGINT NOT NULL,
                payload_type TEXT NOT NULL,
                before_data {{BLOB}},
                after_data {{BLOB}}
            );
            CREATE INDEX events_committee_seq ON events (committee_id, seq);
            CREATE INDEX events_entity ON events (entity_kind, entity_id, seq);
            CREATE TABLE event_counter (id INTEGER PRIMARY KEY, last_seq BIGINT NOT NULL);
            INSERT INTO event_counter (id, last_seq) VALUES (1, 0);
            """)
    ]

    /// Appends `drafts` in order; returns the last sequence number used.
    static func append(_ drafts: [EventDraft], on conn: SQLConnection) throws -> Int64 {
        // PostgreSQL: the same statement tells other processes on this schema the new head at
        // commit (LISTEN, see EventListener), without a round trip of its own.
        let rows = try conn.query(conn.dialect == .postgres ? """
            WITH c AS (UPDATE event_counter SET last_seq = last_seq + ? WHERE id = 1 RETURNING last_seq)
            SELECT last_seq, pg_notify('xs_events:' || current_schema(), last_seq::text) IS NULL AS notified FROM c
            """ : "UPDATE event_counter SET last_seq = last_seq + ? WHERE id = 1 RETURNING last_seq",
            [.integer(Int64(drafts.count))])
        guard let last = rows.first?["last_seq"].int64 else {
            throw StoreError.engine(code: "eventlog", message: "event counter row missing")
        }
        var seq = last - Int64(drafts.count)
        for d in drafts {
            seq += 1
            try conn.execute(
                """
                INSERT INTO events (seq, committee_id, entity_kind, entity_id, event_type, actor_account_id,
                    actor_name, at_ms, payload_type, before_data, after_data)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.integer(seq), .integer(d.committeeID), .text(d.entityKind), .text(d.entityID),
                 .text(d.eventType), .integer(d.actorAccountID), .text(d.actorName), .integer(d.atMilliseconds),
                 .text(d.payloadType), d.before.isEmpty ? .null : .blob(d.before),
                 d.after.isEmpty ? .null : .blob(d.after)])
        }
        return last
    }

    /// Events after `cursor` (and up to `upTo`, when given) in sequence order, at most `limit`;
    /// only `committees` when given, only `kinds` when non-empty.
    public static func read(
        on conn: SQLConnection, after cursor: Int64, upTo: Int64? = nil, committees: [Int64]?, kinds: [String], limit: Int
    ) throws -> [EventRecord] {
        var sql = "SELECT * FROM events WHERE seq > ?"
        var binds: [SQLValue] = [.integer(cursor)]
        if let upTo {
            sql += " AND seq <= ?"
            binds.append(.integer(upTo))
        }
        if let committees {
            if committees.isEmpty { return [] }
            sql += " AND committee_id IN (" + committees.map { _ in "?" }.joined(separator: ", ") + ")"
            binds += committees.map { .integer($0) }
        }
        if !kinds.isEmpty {
            // The log is read in sequence order: on SQLite the unary + keeps the planner on the
            // primary key instead of the (entity_kind, entity_id, seq) index, which would read
            // every event of those kinds and sort them for each batch.
            sql += (conn.dialect == .sqlite ? " AND +entity_kind IN (" : " AND entity_kind IN (") + kinds.map { _ in "?" }.joined(separator: ", ") + ")"
            binds += kinds.map { .text($0) }
        }
        sql += " ORDER BY seq LIMIT ?"
        binds.append(.integer(Int64(limit)))
        return try conn.query(sql, binds).map(record)
    }

    /// The history of one entity, oldest first.
    public static func history(on conn: SQLConnection, kind: String, id: String) throws -> [EventRecord] {
        try conn.query("SELECT * FROM events WHERE entity_kind = ? AND entity_id = ? ORDER BY seq",
                       [.text(kind), .text(id)]).map(record)
    }

    /// The last sequence number committed.
    public static func head(on conn: SQLConnection) throws -> Int64 {
        try conn.query("SELECT last_seq FROM event_counter WHERE id = 1", []).first?["last_seq"].int64 ?? 0
    }

    private static func record(_ r: SQLRow) -> EventRecord {
        EventRecord(sequence: r.int("seq"), draft: EventDraft(
            committeeID: r.int("committee_id"), entityKind: r.text("entity_kind"), entityID: r.text("entity_id"),
            eventType: r.text("event_type"), actorAccountID: r.int("actor_account_id"),
            actorName: r.text("actor_name"), atMilliseconds: r.int("at_ms"), payloadType: r.text("payload_type"),
            before: r.blob("before_data"), after: r.blob("after_data")))
    }
}

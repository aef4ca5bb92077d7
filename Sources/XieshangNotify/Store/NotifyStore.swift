import XieshangAPI
import XieshangKit
import XieshangStore

/// A webhook as stored (the secret never leaves the service).
public struct StoredWebhook: Equatable, Sendable {
    public var id: Int64
    public var committee: Int64
    public var url: String
    public var secret: String
    public var kinds: [String]
    public var disabled: Bool
    public var label: String
    public var version: Int64

    /// Whether the webhook sends notifications of `kind` (no kinds: all; `reminder.*`: a prefix).
    public func sends(_ kind: String) -> Bool {
        kinds.isEmpty || kinds.contains { $0 == kind || ($0.hasSuffix("*") && kind.hasPrefix(String($0.dropLast()))) }
    }
}

/// A delivery whose attempt is due, with what to send.
public struct DueDelivery: Sendable {
    public var id: Int64
    public var attempts: Int
    public var webhook: StoredWebhook
    public var notification: Xieshang_Notify_V1_Notification
}

/// What one applied batch made.
public struct Applied: Sendable, Equatable {
    public var notifications = 0
    public var deliveries = 0
    /// The newest notification id after the batch.
    public var lastID: Int64 = 0
}

/// Notify's persistence: feed batches turned into notifications and deliveries in one
/// transaction with the cursor; the inbox; webhooks and their outbox.
public struct NotifyStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func migrate() async throws {
        try await database.migrate(component: "notify", NotifyMigrations.all)
    }

    // MARK: Feeds

    public func cursor(_ feed: String) async throws -> Int64 {
        try await database.read { try $0.query("SELECT applied_seq FROM feeds WHERE name = ?", [.text(feed)]).first?.int("applied_seq") ?? 0 }
    }

    public func cursors() async throws -> [String: Int64] {
        try await database.read { conn in
            Dictionary(uniqueKeysWithValues: try conn.query("SELECT name, applied_seq FROM feeds", []).map { ($0.text("name"), $0.int("applied_seq")) })
        }
    }

    /// Applies `events` of `feed` after its stored cursor (earlier ones were applied and are
    /// skipped) and moves the cursor to the last of them, or to `head` when further. An event
    /// whose payload cannot be read is passed over (it tells no one) rather than stopping the feed.
    @discardableResult
    public func apply(_ feed: String, events: [Xieshang_Events_V1_Event], head: Int64? = nil) async throws -> Applied {
        if events.isEmpty && head == nil { return Applied() }
        return try await database.write { tx in
            // Locked on PostgreSQL: a replica that still thinks it follows waits, then sees the cursor moved.
            let cursor = try tx.query("SELECT applied_seq FROM feeds WHERE name = ?\(tx.connection.dialect == .postgres ? " FOR UPDATE" : "")",
                                      [.text(feed)]).first?.int("applied_seq") ?? 0
            let fresh = events.filter { $0.sequence > cursor }
            let to = max(fresh.last?.sequence ?? cursor, head ?? 0)
            var result = Applied()
            guard to > cursor else { return result }
            var hooks = WebhookCache()
            var units: [Int64: Int64] = [:]
            for e in fresh {
                let outcome: Outcome
                do {
                    outcome = try Rules.outcome(of: e) { item in
                        if let u = units[item] { return u }
                        let u = (try? tx.query("SELECT unit_id FROM item_units WHERE item_id = ?", [.integer(item)]).first?.int("unit_id")) ?? 0
                        units[item] = u
                        return u
                    }
                } catch {
                    continue
                }
                for (item, unit) in outcome.itemUnits.sorted(by: { $0.key < $1.key }) {
                    units[item] = unit
                    try tx.execute("INSERT INTO item_units (item_id, unit_id) VALUES (?, ?) ON CONFLICT (item_id) DO UPDATE SET unit_id = excluded.unit_id",
                                   [.integer(item), .integer(unit)])
                }
                for key in outcome.cleared { try tx.execute("DELETE FROM deadlines WHERE dkey = ?", [.text(key)]) }
                for d in outcome.deadlines { try Self.keep(d, on: tx) }
                var seen: [String: Int] = [:]
                for draft in outcome.drafts {
                    var key = "\(feed):\(e.sequence):\(draft.kind):\(draft.to)"
                    seen[key, default: 0] += 1
                    if seen[key]! > 1 { key += "#\(seen[key]!)" }
                    try Self.make(draft, key: key, source: feed, sequence: e.sequence, at: e.atUnixMs, on: tx, hooks: &hooks, result: &result)
                }
            }
            try tx.execute("UPDATE feeds SET applied_seq = ?, applied_at_ms = ? WHERE name = ?",
                           [.integer(to), .integer(fresh.last?.atUnixMs ?? 0), .text(feed)])
            result.lastID = try Self.lastID(on: tx.connection)
            return result
        }
    }

    /// Makes `drafts` (reminders) that were not made before; returns what was made. `day`, when
    /// given, is recorded as the day every committee's reminders were worked out.
    public func make(reminders drafts: [Draft], runOn day: String?) async throws -> Applied {
        try await database.write { tx in
            var hooks = WebhookCache()
            var result = Applied()
            for d in drafts { try Self.make(d, key: d.key, source: "reminders", sequence: 0, at: tx.nowMilliseconds, on: tx, hooks: &hooks, result: &result) }
            if let day {
                try tx.execute("INSERT INTO settings (name, value) VALUES ('reminders_run_on', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value", [.text(day)])
            }
            result.lastID = try Self.lastID(on: tx.connection)
            return result
        }
    }

    static func lastID(on conn: SQLConnection) throws -> Int64 {
        try conn.query("SELECT COALESCE(MAX(id), 0) AS m FROM notifications", []).first?.int("m") ?? 0
    }

    /// The day reminders last ran (YYYY-MM-DD), or "".
    public func remindersRunOn() async throws -> String {
        try await database.read { try $0.query("SELECT value FROM settings WHERE name = 'reminders_run_on'", []).first?.text("value") ?? "" }
    }

    /// The webhooks of a committee, read once per transaction.
    struct WebhookCache {
        var byCommittee: [Int64: [StoredWebhook]] = [:]
    }

    /// Inserts one notification unless its key exists, and queues it for each webhook that sends its kind.
    static func make(_ d: Draft, key: String, source: String, sequence: Int64, at: Int64, on tx: Transaction,
                     hooks: inout WebhookCache, result: inout Applied) throws {
        let rows = try tx.query("""
            INSERT INTO notifications (committee_id, kind, recipient_kind, recipient_id, ticket_code, title, body, entity_kind, entity_id,
                source, source_seq, at_ms, dedup_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (dedup_key) DO NOTHING RETURNING id
            """, [.integer(d.committee), .text(d.kind), .integer(Int64(d.to.kind.rawValue)), .integer(d.to.storedID), .text(d.to.ticket),
                  .text(d.title), .text(d.body), .text(d.entityKind), .text(d.entityID), .text(source), .integer(sequence), .integer(at), .text(key)])
        guard let id = rows.first?.int("id") else { return }
        result.notifications += 1
        if hooks.byCommittee[d.committee] == nil {
            hooks.byCommittee[d.committee] = try webhooks(committee: d.committee, on: tx.connection).filter { !$0.disabled }
        }
        for h in hooks.byCommittee[d.committee]! where h.sends(d.kind) {
            try tx.execute("""
                INSERT INTO deliveries (webhook_id, committee_id, notification_id, state, attempts, next_attempt_ms, last_status, last_error,
                    delivered_at_ms, created_at_ms) VALUES (?, ?, ?, ?, 0, ?, 0, '', 0, ?)
                """, [.integer(h.id), .integer(d.committee), .integer(id), .integer(Int64(Xieshang_Notify_V1_DeliveryState.pending.rawValue)),
                      .integer(tx.nowMilliseconds), .integer(tx.nowMilliseconds)])
            result.deliveries += 1
        }
    }

    // MARK: Deadlines

    static func keep(_ d: Deadline, on tx: Transaction) throws {
        try tx.execute("""
            INSERT INTO deadlines (dkey, committee_id, entity_kind, entity_id, subject, due, recipients, reminds_overdue) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (dkey) DO UPDATE SET committee_id = excluded.committee_id, entity_kind = excluded.entity_kind, entity_id = excluded.entity_id,
                subject = excluded.subject, due = excluded.due, recipients = excluded.recipients, reminds_overdue = excluded.reminds_overdue
            """, [.text(d.key), .integer(d.committee), .text(d.entityKind), .text(d.entityID), .text(d.subject), .text(d.due),
                  .text(d.to.map(\.description).joined(separator: ",")), .integer(d.remindsOverdue ? 1 : 0)])
    }

    /// Every open deadline, by committee.
    public func deadlines() async throws -> [Deadline] {
        try await database.read { conn in
            try conn.query("SELECT * FROM deadlines ORDER BY committee_id, dkey", []).map { r in
                Deadline(key: r.text("dkey"), committee: r.int("committee_id"), entityKind: r.text("entity_kind"), entityID: r.text("entity_id"),
                         subject: r.text("subject"), due: r.text("due"),
                         to: r.text("recipients").split(separator: ",").compactMap { Address(parsing: String($0)) },
                         remindsOverdue: r.int("reminds_overdue") != 0)
            }
        }
    }

    // MARK: Inbox

    /// `(recipient_kind, recipient_id) IN` the addresses, as OR'd pairs with their binds.
    static func match(_ addresses: [Address]) -> (String, [SQLValue]) {
        guard !addresses.isEmpty else { return ("1 = 0", []) }
        let clause = addresses.map { _ in "(recipient_kind = ? AND recipient_id = ?)" }.joined(separator: " OR ")
        return ("(\(clause))", addresses.flatMap { [SQLValue.integer(Int64($0.kind.rawValue)), .integer($0.storedID)] })
    }

    /// Whether the account has read the notification (a column of the inbox queries).
    static let isRead = "(id <= ? OR EXISTS (SELECT 1 FROM reads r WHERE r.account_id = ? AND r.notification_id = notifications.id))"

    static func readMark(_ account: Int64, on conn: SQLConnection) throws -> Int64 {
        try conn.query("SELECT up_to_id FROM read_marks WHERE account_id = ?", [.integer(account)]).first?.int("up_to_id") ?? 0
    }

    /// A page of an account's inbox, newest first: the token is the last id shown (the next page
    /// has smaller ids), with the unread count.
    public func inbox(account: Int64, committee: Int64, addresses: [Address], page: PageRequest, unreadOnly: Bool) async throws
        -> (notifications: [Xieshang_Notify_V1_Notification], next: String, unread: Int) {
        try await database.read { conn in
            let mark = try Self.readMark(account, on: conn)
            let (m, mb) = Self.match(addresses)
            var sql = "SELECT *, CASE WHEN \(Self.isRead) THEN 1 ELSE 0 END AS is_read FROM notifications WHERE committee_id = ? AND \(m)"
            var binds: [SQLValue] = [.integer(mark), .integer(account), .integer(committee)] + mb
            if page.afterID > 0 {
                sql += " AND id < ?"
                binds.append(.integer(page.afterID))
            }
            if unreadOnly {
                sql += " AND NOT \(Self.isRead)"
                binds += [.integer(mark), .integer(account)]
            }
            sql += " ORDER BY id DESC LIMIT ?"
            binds.append(.integer(Int64(page.size + 1)))
            var rows = try conn.query(sql, binds)
            let more = rows.count > page.size
            if more { rows.removeLast() }
            let unread = try Self.unread(account: account, committee: committee, addresses: addresses, mark: mark, on: conn)
            return (rows.map(Self.notification), more ? PageRequest.token(after: rows.last!.int("id")) : "", unread)
        }
    }

    static func unread(account: Int64, committee: Int64, addresses: [Address], mark: Int64, on conn: SQLConnection) throws -> Int {
        let (m, mb) = match(addresses)
        return Int(try conn.query("SELECT COUNT(*) AS n FROM notifications WHERE committee_id = ? AND \(m) AND NOT \(isRead)",
                                  [.integer(committee)] + mb + [.integer(mark), .integer(account)]).first?.int("n") ?? 0)
    }

    /// The account's notifications with ids above `afterID`, oldest first.
    public func since(account: Int64, committee: Int64, addresses: [Address], afterID: Int64, limit: Int = 500) async throws -> [Xieshang_Notify_V1_Notification] {
        try await database.read { conn in
            let mark = try Self.readMark(account, on: conn)
            let (m, mb) = Self.match(addresses)
            return try conn.query("""
                SELECT *, CASE WHEN \(Self.isRead) THEN 1 ELSE 0 END AS is_read FROM notifications
                WHERE committee_id = ? AND \(m) AND id > ? ORDER BY id LIMIT ?
                """, [.integer(mark), .integer(account), .integer(committee)] + mb + [.integer(afterID), .integer(Int64(limit))]).map(Self.notification)
        }
    }

    public func lastID() async throws -> Int64 {
        try await database.read { try Self.lastID(on: $0) }
    }

    /// Marks `ids` (those of them in the account's inbox) or, with `all`, everything up to now
    /// read; returns how many were unread and are now read, and the unread count after.
    public func markRead(account: Int64, committee: Int64, addresses: [Address], ids: [Int64], all: Bool) async throws -> (marked: Int, unread: Int) {
        try await database.write { tx in
            let mark = try Self.readMark(account, on: tx.connection)
            let before = try Self.unread(account: account, committee: committee, addresses: addresses, mark: mark, on: tx.connection)
            if all {
                let last = try Self.lastID(on: tx.connection)
                try tx.execute("INSERT INTO read_marks (account_id, up_to_id) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET up_to_id = excluded.up_to_id",
                               [.integer(account), .integer(last)])
                try tx.execute("DELETE FROM reads WHERE account_id = ? AND notification_id <= ?", [.integer(account), .integer(last)])
            } else {
                let (m, mb) = Self.match(addresses)
                for id in Set(ids).sorted() where id > mark {
                    let mine = try tx.query("SELECT id FROM notifications WHERE id = ? AND committee_id = ? AND \(m)", [.integer(id), .integer(committee)] + mb)
                    guard !mine.isEmpty else { throw DomainError.notFound(kind: "notification", id: "\(id)") }
                    try tx.execute("INSERT INTO reads (account_id, notification_id) VALUES (?, ?) ON CONFLICT (account_id, notification_id) DO NOTHING",
                                   [.integer(account), .integer(id)])
                }
            }
            let after = try Self.unread(account: account, committee: committee, addresses: addresses,
                                        mark: try Self.readMark(account, on: tx.connection), on: tx.connection)
            return (before - after, after)
        }
    }

    /// What a ticket was told (newest first, at most 50) and how much of it is new; marks it read.
    public func ticketNews(_ code: String, committee: Int64) async throws -> (notifications: [Xieshang_Notify_V1_Notification], unread: Int) {
        try await database.write { tx in
            let mark = try tx.query("SELECT up_to_id FROM ticket_reads WHERE ticket_code = ?", [.text(code)]).first?.int("up_to_id") ?? 0
            let rows = try tx.query("SELECT *, 0 AS is_read FROM notifications WHERE ticket_code = ? AND recipient_kind = ? AND committee_id = ? ORDER BY id DESC LIMIT 50",
                                    [.text(code), .integer(Int64(Address.Kind.ticket.rawValue)), .integer(committee)])
            var list = rows.map(Self.notification)
            for i in list.indices { list[i].read = list[i].id <= mark }
            if let newest = list.first?.id, newest > mark {
                try tx.execute("INSERT INTO ticket_reads (ticket_code, up_to_id) VALUES (?, ?) ON CONFLICT (ticket_code) DO UPDATE SET up_to_id = excluded.up_to_id",
                               [.text(code), .integer(newest)])
            }
            return (list, list.filter { !$0.read }.count)
        }
    }

    static func notification(_ r: SQLRow) -> Xieshang_Notify_V1_Notification {
        var n = Xieshang_Notify_V1_Notification()
        n.id = r.int("id")
        n.committeeId = r.int("committee_id")
        n.kind = r.text("kind")
        let kind = Address.Kind(rawValue: Int32(r.int("recipient_kind")))
        n.recipient = Address(kind: kind, id: r.int("recipient_id"), ticket: r.text("ticket_code")).message
        n.title = r.text("title")
        n.body = r.text("body")
        n.entityKind = r.text("entity_kind")
        n.entityId = r.text("entity_id")
        n.source = r.text("source")
        n.sourceSequence = r.int("source_seq")
        n.atUnixMs = r.int("at_ms")
        n.read = r.int("is_read") != 0
        n.key = r.text("dedup_key")
        return n
    }
}

extension Address {
    /// The stored form back (`unit:5`, `ticket:CODE` …).
    init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":"),
              let kind = Kind.allKnownCases.first(where: { $0 != .unspecified && Address.name(of: $0) == text[..<colon] }) else { return nil }
        let rest = String(text[text.index(after: colon)...])
        if kind == .ticket {
            self = .ticket(rest)
        } else {
            guard let id = Int64(rest) else { return nil }
            self = Address(kind: kind, id: id)
        }
    }
}

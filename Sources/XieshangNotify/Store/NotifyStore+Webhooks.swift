import XieshangAPI
import XieshangKit
import XieshangStore

/// The outcome of one delivery attempt.
public struct Attempt: Sendable, Equatable {
    public var id: Int64
    public var delivered: Bool
    /// The HTTP status (0: no answer).
    public var status: Int
    public var error: String
    /// When to try again; nil: no more (dead) or delivered.
    public var retryAt: Int64?
    public var at: Int64
}

/// Webhooks and their outbox.
extension NotifyStore {
    public typealias State = Xieshang_Notify_V1_DeliveryState

    static func webhook(_ r: SQLRow) -> StoredWebhook {
        StoredWebhook(id: r.int("id"), committee: r.int("committee_id"), url: r.text("url"), secret: r.text("secret"),
                      kinds: r.text("kinds").split(separator: ",").map(String.init), disabled: r.int("disabled") != 0,
                      label: r.text("label"), version: r.int("version"))
    }

    static func webhooks(committee: Int64, on conn: SQLConnection) throws -> [StoredWebhook] {
        try conn.query("SELECT * FROM webhooks WHERE committee_id = ? AND deleted = 0 ORDER BY id", [.integer(committee)]).map(webhook)
    }

    /// The wire form, with its deliveries counted (never the secret).
    static func message(_ h: StoredWebhook, counts: [Int32: Int] = [:]) -> Xieshang_Notify_V1_Webhook {
        var w = Xieshang_Notify_V1_Webhook()
        w.id = h.id
        w.committeeId = h.committee
        w.url = h.url
        w.hasSecret = !h.secret.isEmpty
        w.kinds = h.kinds
        w.disabled = h.disabled
        w.label = h.label
        w.version = h.version
        w.pending = Int32(counts[State.pending.rawValue] ?? 0)
        w.delivered = Int32(counts[State.delivered.rawValue] ?? 0)
        w.dead = Int32(counts[State.dead.rawValue] ?? 0)
        return w
    }

    static func counts(webhook: Int64, on conn: SQLConnection) throws -> [Int32: Int] {
        try counts(where: "webhook_id = ?", .integer(webhook), on: conn)
    }

    /// Deliveries by state among those `filter` (one `?`, bound to `value`) picks.
    static func counts(where filter: String, _ value: SQLValue, on conn: SQLConnection) throws -> [Int32: Int] {
        var out: [Int32: Int] = [:]
        for r in try conn.query("SELECT state, COUNT(*) AS n FROM deliveries WHERE \(filter) GROUP BY state", [value]) {
            out[Int32(r.int("state"))] = Int(r.int("n"))
        }
        return out
    }

    static func event(_ h: StoredWebhook, type: String, before: StoredWebhook?, actor: Actor, at: Int64) -> EventDraft {
        EventDraft(committeeID: h.committee, entityKind: "webhook", entityID: "\(h.id)", eventType: type, actorAccountID: actor.accountID,
                   actorName: actor.name, atMilliseconds: at, payloadType: Xieshang_Notify_V1_Webhook.protoName,
                   before: before.map { message($0).serializedBytes() } ?? [], after: type == "webhook.deleted" ? [] : message(h).serializedBytes())
    }

    /// Creates (`id` 0) or replaces a webhook of the committee; a replacement names the version it saw.
    public func setWebhook(_ h: StoredWebhook, expectedVersion: Int64, actor: Actor) async throws -> Xieshang_Notify_V1_Webhook {
        try await database.write { tx in
            var h = h
            if h.id == 0 {
                h.version = 1
                h.id = try tx.query("""
                    INSERT INTO webhooks (committee_id, url, secret, kinds, disabled, label, version, deleted) VALUES (?, ?, ?, ?, ?, ?, 1, 0) RETURNING id
                    """, [.integer(h.committee), .text(h.url), .text(h.secret), .text(h.kinds.joined(separator: ",")), .integer(h.disabled ? 1 : 0),
                          .text(h.label)]).first?.int("id") ?? 0
                tx.emit(Self.event(h, type: "webhook.created", before: nil, actor: actor, at: tx.nowMilliseconds))
                return Self.message(h)
            }
            guard let old = try tx.query("SELECT * FROM webhooks WHERE id = ? AND committee_id = ? AND deleted = 0",
                                         [.integer(h.id), .integer(h.committee)]).first.map(Self.webhook) else {
                throw DomainError.notFound(kind: "webhook", id: "\(h.id)")
            }
            guard expectedVersion == old.version else {
                throw DomainError.staleVersion(kind: "webhook", id: "\(h.id)", expected: expectedVersion, actual: old.version)
            }
            if h.secret.isEmpty { h.secret = old.secret }
            h.version = old.version + 1
            try tx.execute("UPDATE webhooks SET url = ?, secret = ?, kinds = ?, disabled = ?, label = ?, version = ? WHERE id = ?",
                           [.text(h.url), .text(h.secret), .text(h.kinds.joined(separator: ",")), .integer(h.disabled ? 1 : 0),
                            .text(h.label), .integer(h.version), .integer(h.id)])
            tx.emit(Self.event(h, type: "webhook.updated", before: old, actor: actor, at: tx.nowMilliseconds))
            return Self.message(h, counts: try Self.counts(webhook: h.id, on: tx.connection))
        }
    }

    public func listWebhooks(committee: Int64) async throws -> [Xieshang_Notify_V1_Webhook] {
        try await database.read { conn in
            try Self.webhooks(committee: committee, on: conn).map { Self.message($0, counts: try Self.counts(webhook: $0.id, on: conn)) }
        }
    }

    /// Deletes a webhook; its pending deliveries are dropped (dead), the record kept for the list of deliveries.
    public func deleteWebhook(_ id: Int64, committee: Int64, actor: Actor) async throws -> Xieshang_Notify_V1_Webhook {
        try await database.write { tx in
            guard let h = try tx.query("SELECT * FROM webhooks WHERE id = ? AND committee_id = ? AND deleted = 0",
                                       [.integer(id), .integer(committee)]).first.map(Self.webhook) else {
                throw DomainError.notFound(kind: "webhook", id: "\(id)")
            }
            try tx.execute("UPDATE webhooks SET deleted = 1 WHERE id = ?", [.integer(id)])
            try tx.execute("UPDATE deliveries SET state = ?, last_error = 'the webhook was deleted' WHERE webhook_id = ? AND state = ?",
                           [.integer(Int64(State.dead.rawValue)), .integer(id), .integer(Int64(State.pending.rawValue))])
            tx.emit(Self.event(h, type: "webhook.deleted", before: h, actor: actor, at: tx.nowMilliseconds))
            return Self.message(h, counts: try Self.counts(webhook: id, on: tx.connection))
        }
    }

    // MARK: Outbox

    static func delivery(_ r: SQLRow) -> Xieshang_Notify_V1_Delivery {
        var d = Xieshang_Notify_V1_Delivery()
        d.id = r.int("id")
        d.webhookId = r.int("webhook_id")
        d.notificationId = r.int("notification_id")
        d.key = r.text("dedup_key")
        d.kind = r.text("kind")
        d.state = State(rawValue: Int32(r.int("state")))
        d.attempts = Int32(r.int("attempts"))
        d.nextAttemptAtUnixMs = d.state == .pending ? r.int("next_attempt_ms") : 0
        d.lastStatus = Int32(r.int("last_status"))
        d.lastError = r.text("last_error")
        d.deliveredAtUnixMs = r.int("delivered_at_ms")
        d.createdAtUnixMs = r.int("created_at_ms")
        return d
    }

    static let deliveryColumns = "d.*, n.dedup_key, n.kind"

    /// Pending deliveries due at `now` (oldest first), with their webhook and notification.
    public func due(now: Int64, limit: Int) async throws -> [DueDelivery] {
        try await database.read { conn in
            let rows = try conn.query("""
                SELECT d.id AS delivery_id, d.attempts, d.webhook_id, n.*, 0 AS is_read FROM deliveries d JOIN notifications n ON n.id = d.notification_id
                WHERE d.state = ? AND d.next_attempt_ms <= ? ORDER BY d.next_attempt_ms, d.id LIMIT ?
                """, [.integer(Int64(State.pending.rawValue)), .integer(now), .integer(Int64(limit))])
            var hooks: [Int64: StoredWebhook] = [:]
            return try rows.compactMap { r in
                let hid = r.int("webhook_id")
                if hooks[hid] == nil {
                    hooks[hid] = try conn.query("SELECT * FROM webhooks WHERE id = ?", [.integer(hid)]).first.map(Self.webhook)
                }
                guard let h = hooks[hid] else { return nil }
                return DueDelivery(id: r.int("delivery_id"), attempts: Int(r.int("attempts")), webhook: h, notification: Self.notification(r))
            }
        }
    }

    /// When the next pending delivery is due, if any.
    public func nextDue() async throws -> Int64? {
        try await database.read { conn in
            try conn.query("SELECT MIN(next_attempt_ms) AS t FROM deliveries WHERE state = ?", [.integer(Int64(State.pending.rawValue))])
                .first.flatMap { $0["t"].int64 }
        }
    }

    /// Records an attempt: delivered, or failed with the next attempt at `retryAt` (nil: dead).
    public func recordAttempt(_ id: Int64, delivered: Bool, status: Int, error: String, retryAt: Int64?, now: Int64) async throws {
        try await record([Attempt(id: id, delivered: delivered, status: status, error: error, retryAt: retryAt, at: now)])
    }

    /// Records a round of attempts in one transaction. Not synced: an attempt whose record is lost
    /// with the machine is made again, with the same key, which is what at-least-once allows.
    public func record(_ attempts: [Attempt]) async throws {
        guard !attempts.isEmpty else { return }
        try await database.write(durable: false) { tx in
            for a in attempts {
                let state: State = a.delivered ? .delivered : (a.retryAt == nil ? .dead : .pending)
                try tx.execute("""
                    UPDATE deliveries SET state = ?, attempts = attempts + 1, next_attempt_ms = ?, last_status = ?, last_error = ?,
                        delivered_at_ms = ? WHERE id = ? AND state = ?
                    """, [.integer(Int64(state.rawValue)), .integer(a.retryAt ?? a.at), .integer(Int64(a.status)), .text(String(a.error.prefix(500))),
                          .integer(a.delivered ? a.at : 0), .integer(a.id), .integer(Int64(State.pending.rawValue))])
            }
        }
    }

    /// A page of the committee's deliveries, newest first.
    public func deliveries(committee: Int64, webhook: Int64, state: State, page: PageRequest) async throws -> (list: [Xieshang_Notify_V1_Delivery], next: String) {
        try await database.read { conn in
            var filter = SQLFilter()
            filter.add("d.committee_id = ?", .integer(committee))
            if webhook > 0 { filter.add("d.webhook_id = ?", .integer(webhook)) }
            if state != .unspecified { filter.add("d.state = ?", .integer(Int64(state.rawValue))) }
            if page.afterID > 0 { filter.add("d.id < ?", .integer(page.afterID)) }
            var rows = try conn.query("SELECT \(Self.deliveryColumns) FROM deliveries d JOIN notifications n ON n.id = d.notification_id WHERE 1 = 1\(filter.sql) ORDER BY d.id DESC LIMIT ?",
                                      filter.binds + [.integer(Int64(page.size + 1))])
            let more = rows.count > page.size
            if more { rows.removeLast() }
            return (rows.map(Self.delivery), more ? PageRequest.token(after: rows.last!.int("id")) : "")
        }
    }

    /// Queues a delivery of the committee again, now, with its attempts counted afresh (same key).
    public func redeliver(_ id: Int64, committee: Int64, now: Int64) async throws -> Xieshang_Notify_V1_Delivery {
        try await database.write { tx in
            let q = "SELECT \(Self.deliveryColumns) FROM deliveries d JOIN notifications n ON n.id = d.notification_id WHERE d.id = ? AND d.committee_id = ?"
            guard let row = try tx.query(q, [.integer(id), .integer(committee)]).first else { throw DomainError.notFound(kind: "delivery", id: "\(id)") }
            let hook = try tx.query("SELECT deleted FROM webhooks WHERE id = ?", [.integer(row.int("webhook_id"))]).first
            guard hook?.int("deleted") == 0 else { throw DomainError.notAllowed("delivery \(id)'s webhook was deleted") }
            guard row.int("state") != Int64(State.pending.rawValue) else { throw DomainError.notAllowed("delivery \(id) is already waiting to be sent") }
            try tx.execute("UPDATE deliveries SET state = ?, attempts = 0, next_attempt_ms = ?, last_error = '' WHERE id = ?",
                           [.integer(Int64(State.pending.rawValue)), .integer(now), .integer(id)])
            return Self.delivery(try tx.query(q, [.integer(id), .integer(committee)]).first!)
        }
    }

    /// The committee's deliveries by state.
    public func deliveryCounts(committee: Int64) async throws -> [Int32: Int] {
        try await database.read { try Self.counts(where: "committee_id = ?", .integer(committee), on: $0) }
    }
}

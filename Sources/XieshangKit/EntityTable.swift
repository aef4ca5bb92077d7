import XieshangRPC
import XieshangStore

/// Reads and writes one ``StoredEntity`` table, always within one committee, appending an event for
/// every change in the same transaction.
public struct EntityTable<E: StoredEntity>: Sendable {
    /// A table accessor.
    public init() {}

    /// Inserts `entity` (its id and version are assigned) and records `<kind>.created`.
    public func insert(_ entity: E, in tx: Transaction, actor: Actor) throws -> E {
        var e = entity
        e.id = 0
        e.version = 1
        let cols = e.indexColumns
        let names = ["committee_id", "version"] + cols.map(\.0) + ["body"]
        let sql = "INSERT INTO \(E.table) (\(names.joined(separator: ", "))) VALUES ("
            + names.map { _ in "?" }.joined(separator: ", ") + ") RETURNING id"
        let rows = try tx.query(sql, [.integer(e.committeeId), .integer(1)] + cols.map(\.1) + [.blob(e.serializedBytes())])
        e.id = rows.first?.int("id") ?? 0
        emit(tx, actor: actor, type: "\(E.entityKind).created", before: nil, after: e)
        return e
    }

    /// Replaces the stored record with `entity` if its `version` is current; records `eventType`
    /// (default `<kind>.updated`). Returns the stored record; unchanged records are not rewritten.
    public func update(_ entity: E, in tx: Transaction, actor: Actor, eventType: String? = nil) throws -> E {
        let current = try get(entity.id, committee: entity.committeeId, on: tx.connection)
        guard current.version == entity.version else {
            throw DomainError.staleVersion(kind: E.entityKind, id: "\(entity.id)", expected: entity.version, actual: current.version)
        }
        return try replace(current, with: entity, in: tx, actor: actor, eventType: eventType)
    }

    /// Writes `next` over `current` (already read in this transaction) without a version check.
    /// An unchanged record is left alone unless `force` (for changes kept outside the record).
    public func replace(_ current: E, with next: E, in tx: Transaction, actor: Actor, eventType: String? = nil,
                        force: Bool = false) throws -> E {
        var e = next
        e.id = current.id
        e.committeeId = current.committeeId
        e.version = current.version
        if e == current && !force { return current }
        e.version = current.version + 1
        let cols = e.indexColumns
        let sets = (["version"] + cols.map(\.0) + ["body"]).map { "\($0) = ?" }.joined(separator: ", ")
        let changed = try tx.execute(
            "UPDATE \(E.table) SET \(sets) WHERE id = ? AND committee_id = ? AND version = ?",
            [.integer(e.version)] + cols.map(\.1) + [.blob(e.serializedBytes()), .integer(e.id), .integer(e.committeeId),
                                                      .integer(current.version)])
        guard changed == 1 else {
            throw DomainError.staleVersion(kind: E.entityKind, id: "\(e.id)", expected: current.version, actual: -1)
        }
        emit(tx, actor: actor, type: eventType ?? "\(E.entityKind).updated", before: current, after: e)
        return e
    }

    /// Reads record `id` of `committee` in `tx` (NOT_FOUND when absent, or when `visible` refuses
    /// it), checks `version` (unless 0), and stores what `change` makes of it under the event type
    /// it names. Returns the record before and after.
    public func change(_ id: Int64, version: Int64, committee: Int64, in tx: Transaction, actor: Actor,
                       visible: (E) -> Bool = { _ in true },
                       _ change: (E) throws -> (E, eventType: String)) throws -> (before: E, after: E) {
        let current = try get(id, committee: committee, on: tx.connection)
        guard visible(current) else { throw DomainError.notFound(kind: E.entityKind, id: "\(id)") }
        if version != 0 && version != current.version {
            throw DomainError.staleVersion(kind: E.entityKind, id: "\(id)", expected: version, actual: current.version)
        }
        let (next, type) = try change(current)
        return (current, try replace(current, with: next, in: tx, actor: actor, eventType: type, force: true))
    }

    /// The record `id` of `committee`; NOT_FOUND when absent or another committee's.
    public func get(_ id: Int64, committee: Int64, on conn: SQLConnection) throws -> E {
        guard let e = try find(id, committee: committee, on: conn) else {
            throw DomainError.notFound(kind: E.entityKind, id: "\(id)")
        }
        return e
    }

    /// The record `id` of `committee`, if any.
    public func find(_ id: Int64, committee: Int64, on conn: SQLConnection) throws -> E? {
        guard id > 0 else { return nil }
        return try conn.query("SELECT id, committee_id, version, body FROM \(E.table) WHERE id = ? AND committee_id = ?",
                              [.integer(id), .integer(committee)]).first.map(Self.decode)
    }

    /// The first record of `committee` matching `filter`, if any.
    public func first(committee: Int64, where filter: SQLFilter, on conn: SQLConnection) throws -> E? {
        try conn.query("SELECT id, committee_id, version, body FROM \(E.table) WHERE committee_id = ?\(filter.sql) ORDER BY id LIMIT 1",
                       [.integer(committee)] + filter.binds).first.map(Self.decode)
    }

    /// Throws INVALID_ARGUMENT naming `field` unless `id` is 0 (unset) or a record of `committee`.
    public func requireReference(_ id: Int64, committee: Int64, field: String, on conn: SQLConnection) throws {
        guard id != 0 else { return }
        let rows = try conn.query("SELECT 1 AS x FROM \(E.table) WHERE id = ? AND committee_id = ?",
                                  [.integer(id), .integer(committee)])
        if rows.isEmpty { throw DomainError.invalid(field: field, message: "no \(E.entityKind) \(id) in this committee") }
    }

    /// One page of `committee`'s records matching `filter`, by id.
    public func list(committee: Int64, where filter: SQLFilter, page: PageRequest, on conn: SQLConnection) throws -> Page<E> {
        var scoped = SQLFilter()
        scoped.add("committee_id = ?", .integer(committee))
        scoped.add(filter)
        return try self.page(where: scoped, page: page, on: conn)
    }

    /// One page of the records matching `filter`, by id, whatever their committee: only for
    /// tables whose rows are visible across committees (committees themselves). Callers scope it.
    /// The table is aliased `i` for filters that name it. With `countCap`, counting stops after
    /// that many and the page says its total is a lower bound.
    public func page(where filter: SQLFilter, page: PageRequest, countCap: Int? = nil, on conn: SQLConnection) throws -> Page<E> {
        let rows = try conn.query(
            "SELECT i.id, i.committee_id, i.version, i.body FROM \(E.table) i WHERE i.id > ?\(filter.sql) ORDER BY i.id LIMIT ?",
            [.integer(page.afterID)] + filter.binds + [.integer(Int64(page.size + 1))])
        let items = try rows.prefix(page.size).map(Self.decode)
        let more = rows.count > page.size
        var result = Page(items: items, nextToken: more ? PageRequest.token(after: items.last?.id ?? 0) : "", total: items.count)
        if page.afterID != 0 || more {
            let limit = countCap.map { " LIMIT \($0 + 1)" } ?? ""
            let n = Int(try conn.query("SELECT COUNT(*) AS n FROM (SELECT 1 AS x FROM \(E.table) i WHERE 1 = 1\(filter.sql)\(limit)) t",
                                       filter.binds).first?.int("n") ?? 0)
            result.total = min(n, countCap ?? n)
            result.totalCapped = n > result.total
            result.coverShown(firstPage: page.afterID == 0)
        }
        return result
    }

    /// Every record of `committee` matching `filter` (whose columns may name the table `i`), by
    /// id, up to `limit` (exports).
    public func all(committee: Int64, where filter: SQLFilter = SQLFilter(), limit: Int? = nil, on conn: SQLConnection) throws -> [E] {
        try conn.query("SELECT i.id, i.committee_id, i.version, i.body FROM \(E.table) i WHERE i.committee_id = ?\(filter.sql) ORDER BY i.id"
                       + (limit.map { " LIMIT \($0)" } ?? ""),
                       [.integer(committee)] + filter.binds).map(Self.decode)
    }

    /// A stored row (id, committee_id, version, body) as its record.
    public static func decode(_ row: SQLRow) throws -> E {
        var e = try E(serializedBytes: row.blob("body"))
        e.id = row.int("id")
        e.committeeId = row.int("committee_id")
        e.version = row.int("version")
        return e
    }

    private func emit(_ tx: Transaction, actor: Actor, type: String, before: E?, after: E?) {
        let subject = after ?? before!
        tx.emit(EventDraft(
            committeeID: subject.committeeId, entityKind: E.entityKind, entityID: "\(subject.id)", eventType: type,
            actorAccountID: actor.accountID, actorName: actor.name, atMilliseconds: tx.nowMilliseconds,
            payloadType: E.protoName, before: before?.serializedBytes() ?? [], after: after?.serializedBytes() ?? []))
    }
}

import XieshangAPI
import XieshangKit
import XieshangStore

/// Applies a batch of one source's events inside one write transaction: the facts they touch
/// are read once up front, changed in memory (each change moves the monthly roll-up by the
/// difference between the old and new fact), and written back once each with the roll-up and
/// duty-count deltas; duty entries are appended. The caller moves the source's cursor in the same
/// transaction, so a batch is applied entirely or not at all, and never twice.
final class BatchApplier {
    let conn: SQLConnection
    private var current: [FactKey: Fact] = [:]
    /// The facts as the database has them (those read by ``preload``).
    private var stored: [FactKey: Fact] = [:]
    private var loaded: Set<FactKey> = []
    private var dirty: Set<FactKey> = []
    private var rollup: [RollupKey: Measures] = [:]
    private var dutyCounts: [DutyCountKey: Int64] = [:]
    private var pendingDuties: [[SQLValue]] = []
    private(set) var applied = 0
    /// A lookup the projector made that the database failed (thrown after that event).
    private var lookupError: Error?

    struct RollupKey: Hashable, Comparable {
        var committee: Int64, month: Int32, kind: String, state: Int32, category: String
        static func < (l: Self, r: Self) -> Bool {
            (l.committee, l.month, l.kind, l.state, l.category) < (r.committee, r.month, r.kind, r.state, r.category)
        }
    }

    struct DutyCountKey: Hashable, Comparable {
        var member: Int64, year: Int32, kind: Int32, committee: Int64
        static func < (l: Self, r: Self) -> Bool { (l.member, l.year, l.kind) < (r.member, r.year, r.kind) }
    }

    init(connection: SQLConnection) {
        self.conn = connection
    }

    static let factColumns = ["kind", "id", "sub", "committee_id", "day", "state", "category", "member_id", "town_id", "sector_id"] + Measures.columnNames

    static func fact(_ row: SQLRow) -> Fact? {
        guard let kind = FactKind(rawValue: row.text("kind")) else { return nil }
        var f = Fact(kind: kind, id: row.int("id"), sub: row.int("sub"), committee: row.int("committee_id"), day: Int32(row.int("day")))
        f.state = Int32(row.int("state"))
        f.category = row.text("category")
        f.member = row.int("member_id")
        f.town = row.int("town_id")
        f.sector = row.int("sector_id")
        f.measures = Measures(columns: Measures.columnNames.map { row.int($0) })
        return f
    }

    /// Reads the facts of `ids` of `kind` (every `sub`) not yet in memory.
    func preload(kind: FactKind, ids: [Int64]) throws {
        let wanted = Array(Set(ids.filter { !loaded.contains(FactKey(kind: kind, id: $0)) })).sorted()
        for chunk in stride(from: 0, to: wanted.count, by: 500).map({ Array(wanted[$0..<min($0 + 500, wanted.count)]) }) {
            let marks = chunk.map { _ in "?" }.joined(separator: ", ")
            for row in try conn.query("SELECT * FROM facts WHERE kind = ? AND id IN (\(marks))", [.text(kind.rawValue)] + chunk.map { .integer($0) }) {
                if let f = Self.fact(row) {
                    current[f.key] = f
                    stored[f.key] = f
                }
            }
            for id in chunk { loaded.insert(FactKey(kind: kind, id: id)) }
        }
    }

    /// The fact at `key`, from memory or the database (a failed read is kept for ``apply``).
    func prior(_ key: FactKey) -> Fact? {
        if !loaded.contains(FactKey(kind: key.kind, id: key.id)) {
            do { try preload(kind: key.kind, ids: [key.id]) } catch { lookupError = lookupError ?? error }
        }
        return current[key]
    }

    /// Reads every fact the events can touch in a few queries.
    func preload(_ events: [Xieshang_Events_V1_Event]) throws {
        var ids: [FactKind: [Int64]] = [:]
        for e in events {
            guard let id = Int64(e.entityId) else { continue }
            switch e.entityKind {
            case "item": ids[.item, default: []].append(id)
            case "relay": ids[.relay, default: []].append(id)
            case "report": ids[.report, default: []].append(id)
            case "proposal": ids[.proposal, default: []].append(id)
            case "consultation": ids[.consultation, default: []].append(id)
            case "meeting":
                ids[.meeting, default: []].append(id)
                ids[.invitation, default: []].append(id)
            default: break
            }
        }
        for (kind, list) in ids { try preload(kind: kind, ids: list) }
    }

    /// Applies one event.
    func apply(_ e: Xieshang_Events_V1_Event, source: Source) throws {
        let effects = Projector.effects(e, prior: { self.prior($0) })
        if let lookupError { throw lookupError }
        for f in effects.facts { put(f) }
        for (ordinal, d) in effects.duties.enumerated() {
            add(d, source: source.rawValue, seq: e.sequence, ordinal: ordinal)
        }
        for row in effects.directory { try DirectoryRows.upsert(row, on: conn) }
        applied += 1
    }

    /// Replaces the fact at `f.key`, moving the roll-up by the difference.
    func put(_ f: Fact) {
        if let old = current[f.key] {
            if old == f { return }
            move(old, by: -1)
        }
        move(f, by: 1)
        current[f.key] = f
        loaded.insert(FactKey(kind: f.kind, id: f.id))
        dirty.insert(f.key)
    }

    private func move(_ f: Fact, by sign: Int64) {
        let key = RollupKey(committee: f.committee, month: f.day / 100, kind: f.kind.rawValue, state: f.state, category: f.category)
        rollup[key, default: Measures()] += sign > 0 ? f.measures : Measures() - f.measures
    }

    /// Appends a duty entry (written at flush) and counts it.
    func add(_ d: Duty, source: String, seq: Int64, ordinal: Int) {
        pendingDuties.append([.text(source), .integer(seq), .integer(Int64(ordinal)), .integer(d.member), .integer(d.committee),
                              .integer(Int64(d.kind.rawValue)), .integer(Int64(d.day)), .text(d.refKind), .text(d.refID), .text(d.note)])
        count(member: d.member, committee: d.committee, kind: d.kind, day: d.day, by: 1)
    }

    private func count(member: Int64, committee: Int64, kind: DutyKind, day: Int32, by n: Int64) {
        dutyCounts[DutyCountKey(member: member, year: day / 10000, kind: Int32(kind.rawValue), committee: committee), default: 0] += n
        var m = Measures()
        m.n = n
        rollup[RollupKey(committee: committee, month: day / 100, kind: FactKind.duty.rawValue, state: Int32(kind.rawValue), category: ""), default: Measures()] += m
    }

    /// Removes a manual entry's duty row (voided) and uncounts it.
    func removeManual(_ id: Int64, committee: Int64) throws {
        try remove(where: "ref_kind = 'manual' AND ref_id = ? AND committee_id = ?", [.text("\(id)"), .integer(committee)])
    }

    /// Deletes the duty rows `filter` matches, taking each out of the counts (and so the points).
    private func remove(where filter: String, _ binds: [SQLValue]) throws {
        try flushDuties()
        for row in try conn.query("SELECT member_id, committee_id, kind, day FROM duties WHERE \(filter)", binds) {
            count(member: row.int("member_id"), committee: row.int("committee_id"), kind: DutyKind(rawValue: Int32(row.int("kind"))),
                  day: Int32(row.int("day")), by: -1)
        }
        try conn.execute("DELETE FROM duties WHERE \(filter)", binds)
    }

    private func flushDuties() throws {
        try Rows.insert(into: "duties", columns: ["source", "seq", "ordinal", "member_id", "committee_id", "kind", "day", "ref_kind", "ref_id", "note"],
                        rows: pendingDuties, suffix: "", on: conn)
        pendingDuties.removeAll()
    }

    /// Writes what the batch changed.
    func flush() throws {
        try flushDuties()
        let changed = dirty.compactMap { current[$0] }.sorted { ($0.kind.rawValue, $0.id, $0.sub) < ($1.kind.rawValue, $1.id, $1.sub) }
        // A stored fact whose scope columns stayed is updated in place (its sector index entry
        // stays; the covering indexes carry what changed); new facts and those that moved are
        // written whole.
        var facts: [Fact] = [], inPlace: [Fact] = []
        for f in changed {
            if let was = stored[f.key], was.committee == f.committee, was.day == f.day, was.member == f.member,
               was.town == f.town, was.sector == f.sector {
                inPlace.append(f)
            } else {
                facts.append(f)
            }
            stored[f.key] = f
        }
        try Rows.update(inPlace.map { f in
            [.text(f.kind.rawValue), .integer(f.id), .integer(f.sub), .integer(Int64(f.state)), .text(f.category)] + f.measures.columns.map { .integer($0) }
        }, on: conn)
        let sets = Self.factColumns.dropFirst(3).map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        try Rows.insert(into: "facts", columns: Self.factColumns, rows: facts.map { f in
            [.text(f.kind.rawValue), .integer(f.id), .integer(f.sub), .integer(f.committee), .integer(Int64(f.day)), .integer(Int64(f.state)),
             .text(f.category), .integer(f.member), .integer(f.town), .integer(f.sector)] + f.measures.columns.map { .integer($0) }
        }, suffix: " ON CONFLICT (kind, id, sub) DO UPDATE SET \(sets)", on: conn)
        dirty.removeAll()

        // The months' sums, and the same moves summed by year.
        var years: [RollupKey: Measures] = [:]
        for (k, m) in rollup {
            var y = k
            y.month = k.month / 100
            years[y, default: Measures()] += m
        }
        for (table, column, moves) in [("rollup", "month", rollup), ("rollup_year", "year", years)] {
            let sums = Measures.columnNames.map { "\($0) = \(table).\($0) + excluded.\($0)" }.joined(separator: ", ")
            try Rows.insert(into: table, columns: ["committee_id", column, "kind", "state", "category"] + Measures.columnNames,
                            rows: moves.filter { !$0.value.isZero }.sorted { $0.key < $1.key }.map { k, m in
                                [.integer(k.committee), .integer(Int64(k.month)), .text(k.kind), .integer(Int64(k.state)), .text(k.category)]
                                    + m.columns.map { .integer($0) }
                            }, suffix: " ON CONFLICT (committee_id, \(column), kind, state, category) DO UPDATE SET \(sums)", on: conn)
        }
        rollup.removeAll()

        let moved = dutyCounts.filter { $0.value != 0 }.sorted { $0.key < $1.key }
        dutyCounts.removeAll()
        // Each count comes back as it now stands; the points it earns move by the difference
        // between its capped points before and after.
        let counted = try Rows.insert(into: "duty_counts", columns: ["member_id", "year", "kind", "committee_id", "n"],
                                      rows: moved.map { k, n in
                                          [.integer(k.member), .integer(Int64(k.year)), .integer(Int64(k.kind)), .integer(k.committee), .integer(n)]
                                      }, suffix: " ON CONFLICT (member_id, year, kind) DO UPDATE SET n = duty_counts.n + excluded.n",
                                      returning: "member_id, year, kind, committee_id, n", on: conn)
        // (RETURNING promises no order: rows are matched by key.)
        var by: [CountKey: Int64] = [:]
        for (k, n) in moved { by[CountKey(member: k.member, year: k.year, kind: k.kind)] = n }
        var delta: [PointsKey: Int64] = [:]
        for row in counted {
            let member = row[0].int64 ?? 0, year = Int32(row[1].int64 ?? 0), kind = Int32(row[2].int64 ?? 0)
            let committee = row[3].int64 ?? 0, now = row[4].int64 ?? 0
            let moved = by[CountKey(member: member, year: year, kind: kind)] ?? 0
            let rules = try rules(committee), duty = DutyKind(rawValue: kind)
            let change = Scoring.points(duty, count: now, rules: rules) - Scoring.points(duty, count: now - moved, rules: rules)
            delta[PointsKey(member: member, year: year, committee: committee), default: 0] += change
        }
        try Self.addPoints(delta, on: conn)
    }

    /// Adds `points` to the members' kept points (rows start at 0).
    static func addPoints(_ points: [PointsKey: Int64], on conn: SQLConnection) throws {
        try Rows.insert(into: "member_points", columns: ["member_id", "year", "committee_id", "points"],
                        rows: points.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { k, p in
                            [.integer(k.member), .integer(Int64(k.year)), .integer(k.committee), .integer(p)]
                        }, suffix: " ON CONFLICT (member_id, year) DO UPDATE SET points = member_points.points + excluded.points", on: conn)
    }

    struct CountKey: Hashable {
        var member: Int64, year: Int32, kind: Int32
    }

    struct PointsKey: Hashable, Comparable {
        var member: Int64, year: Int32, committee: Int64
        static func < (l: Self, r: Self) -> Bool { (l.member, l.year) < (r.member, r.year) }
    }

    private var rulesByCommittee: [Int64: PointRules] = [:]

    /// The committee's point table (read once per batch).
    private func rules(_ committee: Int64) throws -> PointRules {
        if let r = rulesByCommittee[committee] { return r }
        let r = try AnalyticsStore.rules(committee: committee, on: conn) ?? Scoring.defaultRules(committee: committee)
        rulesByCommittee[committee] = r
        return r
    }

    /// Scores `committee`'s members again from their counts under `rules` (a new point table).
    static func rescore(committee: Int64, rules: PointRules, on conn: SQLConnection) throws {
        try conn.execute("DELETE FROM member_points WHERE committee_id = ?", [.integer(committee)])
        var points: [PointsKey: Int64] = [:]
        for r in try conn.query("SELECT member_id, year, kind, n FROM duty_counts WHERE committee_id = ?", [.integer(committee)]) {
            let key = PointsKey(member: r[0].int64 ?? 0, year: Int32(r[1].int64 ?? 0), committee: committee)
            points[key, default: 0] += Scoring.points(DutyKind(rawValue: Int32(r[2].int64 ?? 0)), count: r[3].int64 ?? 0, rules: rules)
        }
        try addPoints(points, on: conn)
    }
}

/// Multi-row statements.
enum Rows {
    /// Inserts `rows` in statements of a few hundred binds each; `suffix` follows each VALUES list.
    /// With `returning`, the rows the statements return come back (one per row of `rows`, in no
    /// promised order).
    @discardableResult
    static func insert(into table: String, columns: [String], rows: [[SQLValue]], suffix: String, returning: String? = nil,
                       on conn: SQLConnection) throws -> [SQLRow] {
        guard !rows.isEmpty else { return [] }
        let perStatement = max(1, 900 / columns.count)
        let tuple = "(" + columns.map { _ in "?" }.joined(separator: ", ") + ")"
        var start = 0
        var out: [SQLRow] = []
        while start < rows.count {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + Array(repeating: tuple, count: chunk.count).joined(separator: ", ") + suffix
            if let returning {
                let got = try conn.query(sql + " RETURNING " + returning, chunk.flatMap { $0 })
                guard got.count == chunk.count else {
                    throw StoreError.engine(code: "returning", message: "\(table): \(got.count) rows returned for \(chunk.count)")
                }
                out += got
            } else {
                try conn.execute(sql, chunk.flatMap { $0 })
            }
            start += perStatement
        }
        return out
    }
}

extension Rows {
    /// The columns of an in-place fact update: the key, then what changes.
    static let updated: [(name: String, type: String)] = [("kind", "TEXT"), ("id", "BIGINT"), ("sub", "BIGINT"), ("state", "INTEGER"), ("category", "TEXT")]
        + Measures.columnNames.map { ($0, "BIGINT") }

    /// Updates facts in place from `rows` (values in the order of ``updated``), many rows a
    /// statement: `UPDATE … FROM (VALUES …)`, which both engines run as one keyed update per row.
    static func update(_ rows: [[SQLValue]], on conn: SQLConnection) throws {
        let perStatement = max(1, 900 / updated.count)
        let tuple = "(" + updated.map { "CAST(? AS \($0.type))" }.joined(separator: ", ") + ")"
        let sets = updated.enumerated().dropFirst(3).map { "\($1.name) = v.column\($0 + 1)" }.joined(separator: ", ")
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            try conn.execute("UPDATE facts SET \(sets) FROM (VALUES " + Array(repeating: tuple, count: chunk.count).joined(separator: ", ")
                             + ") AS v WHERE facts.kind = v.column1 AND facts.id = v.column2 AND facts.sub = v.column3", chunk.flatMap { $0 })
            start += perStatement
        }
    }
}

/// The directory rows analytics keeps.
enum DirectoryRows {
    static func upsert(_ row: DirectoryRow, on conn: SQLConnection) throws {
        switch row {
        case let .committee(id, parent, name):
            try upsert("committees", ["id": .integer(id), "parent_id": .integer(parent), "name": .text(name)], on: conn)
        case let .town(id, committee, name, archived):
            try upsert("towns", ["id": .integer(id), "committee_id": .integer(committee), "name": .text(name), "archived": .integer(archived ? 1 : 0)], on: conn)
        case let .station(id, committee, town, name):
            try upsert("stations", ["id": .integer(id), "committee_id": .integer(committee), "town_id": .integer(town), "name": .text(name)], on: conn)
        case let .member(m):
            try upsert("members", ["id": .integer(m.id), "committee_id": .integer(m.committeeId), "name": .text(m.name),
                                   "sector_id": .integer(m.sectorId), "station_id": .integer(m.stationId),
                                   "residence_town_id": .integer(m.residenceTownId), "work_town_id": .integer(m.workTownId),
                                   "contact_town_id": .integer(m.contactTownId), "assistance_town_id": .integer(m.assistanceTownId),
                                   "active": .integer(m.status == .retired ? 0 : 1)], on: conn)
        }
    }

    /// Inserts the row with primary key `id`, or replaces its other columns.
    private static func upsert(_ table: String, _ row: [String: SQLValue], on conn: SQLConnection) throws {
        let columns = ["id"] + row.keys.filter { $0 != "id" }.sorted()
        try Rows.insert(into: table, columns: columns, rows: [columns.map { row[$0]! }],
                        suffix: " ON CONFLICT (id) DO UPDATE SET " + columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", "), on: conn)
    }
}

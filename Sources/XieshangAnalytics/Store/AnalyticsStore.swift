import XieshangAPI
import XieshangKit
import XieshangStore

/// A period, inclusive, as YYYYMMDD days.
public struct Period: Equatable, Sendable {
    public var from: Int32
    public var to: Int32

    public init(from: Int32, to: Int32) {
        self.from = from
        self.to = to
    }

    /// The same period a year earlier (29 February becomes the 28th).
    public var yearEarlier: Period {
        func back(_ d: Int32) -> Int32 {
            let y = d / 10000 - 1, md = d % 10000
            return md == 229 ? y * 10000 + 228 : y * 10000 + md
        }
        return Period(from: back(from), to: back(to))
    }

    /// The whole months inside the period (YYYYMM, inclusive) and the days outside them.
    public var split: (months: ClosedRange<Int32>?, edges: [Period]) {
        guard let first = Day.date(from), let last = Day.date(to) else { return (nil, [self]) }
        let p = first.parts
        let startsMonth = p.day == 1
        let endsMonth = last.adding(days: 1).parts.day == 1
        let firstFull = startsMonth ? first : CivilDate(year: p.year, month: p.month, day: 1)!.adding(months: 1)
        let lastMonth = CivilDate(year: last.parts.year, month: last.parts.month, day: 1)!
        let lastFullStart = endsMonth ? lastMonth : lastMonth.adding(months: -1)
        guard firstFull <= lastFullStart else { return (nil, [self]) }
        var edges: [Period] = []
        if first < firstFull { edges.append(Period(from: from, to: Day.from(firstFull.adding(days: -1)))) }
        let afterFull = lastFullStart.adding(months: 1)
        if afterFull <= last { edges.append(Period(from: Day.from(afterFull), to: to)) }
        return (Day.from(firstFull) / 100...Day.from(lastFullStart) / 100, edges)
    }
}

/// What a dashboard is about.
public enum ScopeFilter: Equatable, Sendable {
    case committee
    case sector(Int64)
    case town(Int64)
    case station(Int64)
    case member(Int64)

    /// `committee_id IN (?, …)` over `committees`, with `+ 0` when another index should lead.
    static func inList(_ committees: [Int64], column: String = "committee_id", leading: Bool = true) -> (String, [SQLValue]) {
        ("\(column)\(leading ? "" : " + 0") IN (\(AnalyticsStore.marks(committees.count)))", committees.map { .integer($0) })
    }

    /// The members of `committees` the scope names (for scopes defined by the member).
    func memberIDs(_ committees: [Int64]) -> (String, [SQLValue]) {
        let (inList, cs) = Self.inList(committees)
        let (m, binds) = members
        return ("member_id IN (SELECT id FROM members WHERE \(inList) AND \(m))", cs + binds)
    }

    /// Conditions on `facts` rows of `committees`, with their binds: disjoint, each served by
    /// one index (a sector's facts are its own plus those of its members filed under no or
    /// another sector). Each includes the committee condition.
    func facts(_ committees: [Int64]) -> [(String, [SQLValue])] {
        let (byCommittee, cs) = Self.inList(committees), (onlyFilter, _) = Self.inList(committees, leading: false)
        func and(_ lead: String, _ c: String, _ binds: [SQLValue]) -> (String, [SQLValue]) { ("\(lead) AND \(c)", cs + binds) }
        switch self {
        case .committee: return [(byCommittee, cs)]
        case .sector(let id):
            let (mine, mb) = memberIDs(committees)
            return [and(byCommittee, "sector_id = ?", [.integer(id)]),
                    and(onlyFilter, "sector_id <> ? AND \(mine)", [.integer(id)] + mb)]
        case .town(let id): return [and(byCommittee, "town_id = ?", [.integer(id)])]
        case .station:
            let (mine, mb) = memberIDs(committees)
            return [and(onlyFilter, mine, mb)]
        case .member(let id): return [and(onlyFilter, "member_id = ?", [.integer(id)])]
        }
    }

    /// The condition on a `members` row.
    var members: (String, [SQLValue]) {
        switch self {
        case .committee: ("1 = 1", [])
        case .sector(let id): ("sector_id = ?", [.integer(id)])
        case .town(let id): ("? IN (residence_town_id, work_town_id, contact_town_id, assistance_town_id)", [.integer(id)])
        case .station(let id): ("station_id = ?", [.integer(id)])
        case .member(let id): ("id = ?", [.integer(id)])
        }
    }

    /// The condition on a `duties` or `duty_counts` row of `committees` (by the member's
    /// attributes), including the committee condition.
    func duties(_ committees: [Int64]) -> (String, [SQLValue]) {
        switch self {
        case .committee: return Self.inList(committees)
        case .member(let id):
            let (c, cs) = Self.inList(committees, leading: false)
            return ("\(c) AND member_id = ?", cs + [.integer(id)])
        default:
            let (c, cs) = Self.inList(committees, leading: false)
            let (mine, mb) = memberIDs(committees)
            return ("\(c) AND \(mine)", cs + mb)
        }
    }
}

/// A grouped row of figures: one committee, kind, state and category.
public struct FigureRow: Equatable, Sendable {
    public var committee: Int64
    public var kind: String
    public var state: Int32
    public var category: String
    public var measures: Measures
}

/// A member as analytics knows them.
public struct MemberRow: Equatable, Sendable {
    public var id: Int64
    public var committee: Int64
    public var name: String
}

/// A source's applied position.
public struct SourcePosition: Equatable, Sendable {
    public var source: Source
    public var appliedSequence: Int64
    public var appliedAtMilliseconds: Int64
}

/// Analytics' persistence: applying feed batches and reading the projection.
public struct AnalyticsStore: Sendable {
    public let database: Database
    /// The projection's PostgreSQL statistics, refreshed as events are applied.
    private let statistics: GrowthStatistics

    /// `analyzeAfter`: events applied before the first refresh of PostgreSQL's statistics.
    public init(database: Database, analyzeAfter: Int = 20_000) {
        self.database = database
        self.statistics = GrowthStatistics(database: database, tables: AnalyticsMigrations.projectionTables, first: analyzeAfter)
    }

    public func migrate() async throws {
        try await database.migrate(component: "analytics", AnalyticsMigrations.all)
        // A projection from before `member_points` existed: score its counts once.
        let unscored = try await database.read { conn in
            try conn.query("SELECT 1 AS x FROM member_points LIMIT 1", []).isEmpty
                && !conn.query("SELECT 1 AS x FROM duty_counts LIMIT 1", []).isEmpty
        }
        guard unscored else { return }
        try await database.write { tx in
            for r in try tx.query("SELECT DISTINCT committee_id FROM duty_counts", []) {
                let committee = r.int("committee_id")
                try BatchApplier.rescore(committee: committee, rules: try Self.rules(committee: committee, on: tx.connection)
                                            ?? Scoring.defaultRules(committee: committee), on: tx.connection)
            }
        }
    }

    // MARK: Applying

    /// Applies `events` of `source` after its stored cursor (earlier ones were applied before and
    /// are skipped), and moves the cursor to the last of them, or to `head` when that is further
    /// (events the source filtered out). Returns how many were applied.
    @discardableResult
    public func apply(_ source: Source, events: [Xieshang_Events_V1_Event], head: Int64? = nil) async throws -> Int {
        if events.isEmpty && head == nil { return 0 }
        // Not synced: the feed still has the events, and the cursor moves in the same
        // transaction, so a batch lost with the machine is read and applied again.
        let applied = try await database.write(durable: false) { tx in
            // Locked on PostgreSQL: a replica that still thinks it ingests waits, then sees the cursor moved.
            let row = try tx.query("SELECT applied_seq, applied_at_ms FROM sources WHERE name = ?\(tx.connection.dialect == .postgres ? " FOR UPDATE" : "")",
                                   [.text(source.rawValue)]).first
            let cursor = row?.int("applied_seq") ?? 0
            let fresh = events.filter { $0.sequence > cursor }
            let to = max(fresh.last?.sequence ?? cursor, head ?? 0)
            guard to > cursor else { return 0 }
            let applier = BatchApplier(connection: tx.connection)
            try applier.preload(fresh)
            for e in fresh { try applier.apply(e, source: source) }
            try applier.flush()
            try tx.execute("UPDATE sources SET applied_seq = ?, applied_at_ms = ? WHERE name = ?",
                           [.integer(to), .integer(fresh.last?.atUnixMs ?? row?.int("applied_at_ms") ?? 0), .text(source.rawValue)])
            return applier.applied
        }
        // While a projection fills the plans of the apply and dashboard queries would be those of
        // nearly empty tables (see GrowthStatistics).
        if statistics.grew(by: applied) { try await statistics.refresh() }
        return applied
    }

    /// Every source's applied position.
    public func positions() async throws -> [SourcePosition] {
        try await database.read { try Self.positions(on: $0) }
    }

    /// Forgets the projection and every cursor, keeping manual duty entries (re-added) and rules.
    public func wipe() async throws {
        statistics.reset()
        try await database.write { tx in
            for t in AnalyticsMigrations.projectionTables { try tx.execute("DELETE FROM \(t)", []) }
            try tx.execute("UPDATE sources SET applied_seq = 0, applied_at_ms = 0", [])
            let applier = BatchApplier(connection: tx.connection)
            for r in try tx.query("SELECT * FROM manual_duties WHERE voided_at_ms = 0 ORDER BY id", []) { applier.add(Self.manualDuty(r), source: "manual", seq: r.int("id"), ordinal: 0) }
            try applier.flush()
        }
    }

    static func manualDuty(_ r: SQLRow) -> Duty {
        Duty(member: r.int("member_id"), committee: r.int("committee_id"), kind: DutyKind(rawValue: Int32(r.int("kind"))),
             day: Int32(r.int("day")), refKind: "manual", refID: "\(r.int("id"))", note: r.text("note"))
    }

    /// Records a manual duty entry (its own table, its duty row and counts) and its event.
    public func recordDuty(_ d: Duty, actor: Actor) async throws -> Int64 {
        try await database.write { tx in
            let id = try tx.query("INSERT INTO manual_duties (committee_id, member_id, kind, day, note, recorded_by) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                                  [.integer(d.committee), .integer(d.member), .integer(Int64(d.kind.rawValue)), .integer(Int64(d.day)), .text(d.note), .text(actor.name)])
                .first?.int("id") ?? 0
            var entry = d
            entry.refKind = "manual"
            entry.refID = "\(id)"
            let applier = BatchApplier(connection: tx.connection)
            applier.add(entry, source: "manual", seq: id, ordinal: 0)
            try applier.flush()
            tx.emit(EventDraft(committeeID: d.committee, entityKind: "manual_duty", entityID: "\(id)", eventType: "manual_duty.created",
                               actorAccountID: actor.accountID, actorName: actor.name, atMilliseconds: tx.nowMilliseconds,
                               payloadType: Xieshang_Analytics_V1_DutyEntry.protoName, before: [], after: AnalyticsStore.entry(entry, source: "manual", points: 0).serializedBytes()))
            return id
        }
    }

    /// Voids a manual entry of `committee`: its duty row and counts go, the record stays marked
    /// with who and why, and a `manual_duty.voided` event is recorded. Returns the entry as it was.
    public func voidDuty(_ id: Int64, committee: Int64, reason: String, actor: Actor) async throws -> Duty {
        try await database.write { tx in
            guard let r = try tx.query("SELECT * FROM manual_duties WHERE id = ? AND committee_id = ?", [.integer(id), .integer(committee)]).first else {
                throw DomainError.notFound(kind: "manual duty", id: "\(id)")
            }
            guard r.int("voided_at_ms") == 0 else {
                throw DomainError.notAllowed("manual duty \(id) was voided by \(r.text("voided_by")): \(r.text("void_reason"))")
            }
            try tx.execute("UPDATE manual_duties SET voided_at_ms = ?, void_reason = ?, voided_by = ? WHERE id = ?",
                           [.integer(tx.nowMilliseconds), .text(reason), .text(actor.name), .integer(id)])
            let duty = Self.manualDuty(r)
            let applier = BatchApplier(connection: tx.connection)
            try applier.removeManual(id, committee: committee)
            try applier.flush()
            var after = Self.entry(duty, source: "manual", points: 0)
            after.note = "voided: \(reason)"
            tx.emit(EventDraft(committeeID: committee, entityKind: "manual_duty", entityID: "\(id)", eventType: "manual_duty.voided",
                               actorAccountID: actor.accountID, actorName: actor.name, atMilliseconds: tx.nowMilliseconds,
                               payloadType: Xieshang_Analytics_V1_DutyEntry.protoName,
                               before: Self.entry(duty, source: "manual", points: 0).serializedBytes(), after: after.serializedBytes()))
            return duty
        }
    }

    static func entry(_ d: Duty, source: String, points: Int32) -> Xieshang_Analytics_V1_DutyEntry {
        var e = Xieshang_Analytics_V1_DutyEntry()
        e.memberId = d.member
        e.kind = d.kind
        e.date = Day.text(d.day)
        e.source = source
        e.refKind = d.refKind
        e.refId = d.refID
        e.note = d.note
        e.points = points
        return e
    }

    // MARK: Rules

    /// The committee's point table, or nil for the defaults.
    public func rules(committee: Int64) async throws -> PointRules? {
        try await database.read { try Self.rules(committee: committee, on: $0) }
    }

    static func rules(committee: Int64, on conn: SQLConnection) throws -> PointRules? {
        try rules(committees: [committee], on: conn)[committee]
    }

    /// The point tables `committees` edited (the others use ``Scoring/defaultRules(committee:)``).
    static func rules(committees: [Int64], on conn: SQLConnection) throws -> [Int64: PointRules] {
        guard !committees.isEmpty else { return [:] }
        let (inList, cs) = ScopeFilter.inList(committees)
        var out: [Int64: PointRules] = [:]
        for r in try conn.query("SELECT committee_id, body, version FROM point_rules WHERE \(inList)", cs) {
            var table = try PointRules(serializedBytes: r.blob("body"))
            table.version = r.int("version")
            out[r.int("committee_id")] = table
        }
        return out
    }

    /// The point tables of `committees`, the defaults where none was edited.
    public func rules(committees: [Int64]) async throws -> [Int64: PointRules] {
        try await database.read { conn in
            let edited = try Self.rules(committees: committees, on: conn)
            return Dictionary(uniqueKeysWithValues: committees.map { ($0, edited[$0] ?? Scoring.defaultRules(committee: $0)) })
        }
    }

    /// Replaces the committee's point table if `expected` is its version (0 for the defaults).
    public func setRules(_ rules: PointRules, expected: Int64, actor: Actor) async throws -> PointRules {
        try await database.write { tx in
            let current = try tx.query("SELECT version FROM point_rules WHERE committee_id = ?", [.integer(rules.committeeId)]).first?.int("version") ?? 0
            if expected != 0 && expected != current {
                throw DomainError.staleVersion(kind: "point_rules", id: "\(rules.committeeId)", expected: expected, actual: current)
            }
            var next = rules
            next.version = current + 1
            try tx.execute("INSERT INTO point_rules (committee_id, version, body) VALUES (?, ?, ?) ON CONFLICT (committee_id) DO UPDATE SET version = excluded.version, body = excluded.body",
                           [.integer(rules.committeeId), .integer(next.version), .blob(next.serializedBytes())])
            try BatchApplier.rescore(committee: rules.committeeId, rules: next, on: tx.connection)
            tx.emit(EventDraft(committeeID: rules.committeeId, entityKind: "point_rules", entityID: "\(rules.committeeId)", eventType: "point_rules.updated",
                               actorAccountID: actor.accountID, actorName: actor.name, atMilliseconds: tx.nowMilliseconds,
                               payloadType: PointRules.protoName, before: [], after: next.serializedBytes()))
            return next
        }
    }

    // MARK: Reading

    /// Committee id → (parent, name).
    public func committees() async throws -> [Int64: (parent: Int64, name: String)] {
        try await database.read { conn in
            var out: [Int64: (Int64, String)] = [:]
            for r in try conn.query("SELECT id, parent_id, name FROM committees", []) { out[r.int("id")] = (r.int("parent_id"), r.text("name")) }
            return out
        }
    }

    static func marks(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ", ") }

    static func measures(_ r: SQLRow) -> Measures { Measures(columns: Measures.columnNames.map { r.int($0) }) }

    /// Grouped figures of `committees` in `scope` over `period`: whole months from the roll-up
    /// (committee scope), the rest from the facts; duty entries come as kind `duty`, state the
    /// duty kind.
    public func figures(committees: [Int64], scope: ScopeFilter, period: Period, rollup: Bool = true) async throws -> [FigureRow] {
        try await database.read { try Self.figures(committees: committees, scope: scope, period: period, rollup: rollup, on: $0) }
    }

    static func figures(committees: [Int64], scope: ScopeFilter, period: Period, rollup: Bool = true, on conn: SQLConnection) throws -> [FigureRow] {
        guard !committees.isEmpty else { return [] }
        let sums = Measures.columnNames.map { "SUM(\($0)) AS \($0)" }.joined(separator: ", ")
        let plain = Measures.columnNames.joined(separator: ", ")
        var rows: [FigureRow] = []
        // Columns by position: committee, kind, state, category, then the measures.
        func collect(_ sql: String, _ binds: [SQLValue]) throws {
            for r in try conn.query(sql, binds) {
                rows.append(FigureRow(committee: r[0].int64 ?? 0, kind: r[1].string ?? "", state: Int32(r[2].int64 ?? 0),
                                      category: r[3].string ?? "", measures: Measures(columns: (4..<r.values.count).map { r[$0].int64 ?? 0 })))
            }
        }
        var ranges = [period]
        if scope == .committee && rollup {
            // Whole years from the yearly sums, other whole months from the monthly ones (rows of
            // one group may repeat: the figures add them up).
            let (months, edges) = period.split
            let (inList, cs) = ScopeFilter.inList(committees)
            func rolledUp(_ table: String, _ column: String, _ from: Int32, _ to: Int32) throws {
                try collect("SELECT committee_id, kind, state, category, \(plain) FROM \(table) WHERE \(inList) AND \(column) BETWEEN ? AND ? AND n <> 0",
                            cs + [.integer(Int64(from)), .integer(Int64(to))])
            }
            if let months {
                let firstYear = months.lowerBound % 100 == 1 ? months.lowerBound / 100 : months.lowerBound / 100 + 1
                let lastYear = months.upperBound % 100 == 12 ? months.upperBound / 100 : months.upperBound / 100 - 1
                if firstYear <= lastYear {
                    try rolledUp("rollup_year", "year", firstYear, lastYear)
                    if months.lowerBound < firstYear * 100 + 1 { try rolledUp("rollup", "month", months.lowerBound, (firstYear - 1) * 100 + 12) }
                    if months.upperBound > lastYear * 100 + 12 { try rolledUp("rollup", "month", (lastYear + 1) * 100 + 1, months.upperBound) }
                } else {
                    try rolledUp("rollup", "month", months.lowerBound, months.upperBound)
                }
            }
            ranges = edges
        }
        // Each condition leads with the index that finds the scope's rows (see `ScopeFilter`);
        // every range and condition is one part of a single statement per table (one round trip).
        guard !ranges.isEmpty else { return rows }
        let (dutyFilter, db) = scope.duties(committees)
        var factParts: [String] = [], factBinds: [SQLValue] = [], dutyParts: [String] = [], dutyBinds: [SQLValue] = []
        for p in ranges {
            let days: [SQLValue] = [.integer(Int64(p.from)), .integer(Int64(p.to))]
            for (filter, fb) in scope.facts(committees) {
                factParts.append("SELECT committee_id, kind, state, category, \(sums) FROM facts WHERE \(filter) AND day BETWEEN ? AND ? GROUP BY committee_id, kind, state, category")
                factBinds += fb + days
            }
            dutyParts.append("SELECT committee_id, kind, COUNT(*) AS n FROM duties WHERE \(dutyFilter) AND day BETWEEN ? AND ? GROUP BY committee_id, kind")
            dutyBinds += db + days
        }
        try collect(factParts.joined(separator: " UNION ALL "), factBinds)
        for r in try conn.query(dutyParts.joined(separator: " UNION ALL "), dutyBinds) {
            var m = Measures()
            m.n = r[2].int64 ?? 0
            rows.append(FigureRow(committee: r[0].int64 ?? 0, kind: FactKind.duty.rawValue, state: Int32(r[1].int64 ?? 0), category: "", measures: m))
        }
        return rows
    }

    /// Active members of `committees` in `scope`.
    public func members(committees: [Int64], scope: ScopeFilter) async throws -> [MemberRow] {
        guard !committees.isEmpty else { return [] }
        return try await database.read { conn in
            let (inList, cs) = ScopeFilter.inList(committees)
            let (filter, binds) = scope.members
            return try conn.query("SELECT id, committee_id, name FROM members WHERE \(inList) AND active = 1 AND \(filter) ORDER BY id", cs + binds).map(Self.memberRow)
        }
    }

    static func memberRow(_ r: SQLRow) -> MemberRow {
        MemberRow(id: r.int("id"), committee: r.int("committee_id"), name: r.text("name"))
    }

    static let townColumns = ["residence_town_id", "work_town_id", "contact_town_id", "assistance_town_id"]

    static func towns(_ committees: [Int64], on conn: SQLConnection) throws -> [(id: Int64, name: String)] {
        let (inList, cs) = ScopeFilter.inList(committees)
        return try conn.query("SELECT id, name FROM towns WHERE \(inList) AND archived = 0 ORDER BY id", cs).map { ($0.int("id"), $0.text("name")) }
    }

    /// Yearly duty counts of the members of `committees` in `scope`.
    public func dutyCounts(committees: [Int64], scope: ScopeFilter, year: Int32) async throws -> [Int64: [DutyKind: Int64]] {
        guard !committees.isEmpty else { return [:] }
        return try await database.read { try Self.dutyCounts(where: scope.duties(committees), year: year, on: $0) }
    }

    static func dutyCounts(where condition: (String, [SQLValue]), year: Int32, on conn: SQLConnection) throws -> [Int64: [DutyKind: Int64]] {
        var out: [Int64: [DutyKind: Int64]] = [:]
        for r in try conn.query("SELECT member_id, kind, n FROM duty_counts WHERE \(condition.0) AND year = ?", condition.1 + [.integer(Int64(year))]) {
            out[r.int("member_id"), default: [:]][DutyKind(rawValue: Int32(r.int("kind"))), default: 0] += r.int("n")
        }
        return out
    }

    /// What a dashboard reads, in one go.
    public struct DashboardData: Sendable {
        public var current: [FigureRow]
        public var earlier: [FigureRow]
        public var members: MemberTally
        public var towns: [(id: Int64, name: String)]
        /// Best first, and worst first (without those already in `top`).
        public var top: [MemberScore]
        public var bottom: [MemberScore]
        public var positions: [SourcePosition]
    }

    /// The figures of `committees` in `scope` over `period` and a year earlier, the scope's
    /// members, the ends of their ranking for `year` (`length` each) and every source's position,
    /// in one read.
    public func dashboard(committees: [Int64], scope: ScopeFilter, period: Period, year: Int32, length: Int) async throws -> DashboardData {
        try await database.read { conn in
            let current = try Self.figures(committees: committees, scope: scope, period: period, on: conn)
            let earlier = try Self.figures(committees: committees, scope: scope, period: period.yearEarlier, on: conn)
            let members = try Self.tally(committees, scope: scope, on: conn)
            let (top, bottom) = try Self.rankingEnds(committees: committees, scope: scope, year: year, length: length, members: members, on: conn)
            return DashboardData(current: current, earlier: earlier, members: members,
                                 towns: try Self.towns(committees, on: conn), top: top, bottom: bottom,
                                 positions: try Self.positions(on: conn))
        }
    }

    /// How many active members of `committees` are in `scope`, per committee and per town.
    static func tally(_ committees: [Int64], scope: ScopeFilter, on conn: SQLConnection) throws -> MemberTally {
        guard !committees.isEmpty else { return MemberTally() }
        let (inList, cs) = ScopeFilter.inList(committees)
        let (filter, binds) = scope.members
        var t = MemberTally()
        for r in try conn.query("SELECT id, committee_id, \(townColumns.joined(separator: ", ")) FROM members WHERE \(inList) AND active = 1 AND \(filter)", cs + binds) {
            t.add(r[0].int64 ?? 0, committee: r[1].int64 ?? 0, r[2].int64 ?? 0, r[3].int64 ?? 0, r[4].int64 ?? 0, r[5].int64 ?? 0)
        }
        return t
    }

    /// The best and worst `length` active members of `committees` in `scope` (`members`, read
    /// when not given) by their points for `year`, scored in full. A member with no points row
    /// has 0 points. The kept points of the committees' members are read in one go (an index
    /// alone answers it) and ranked here, as ``Scoring/ranked(_:)`` would rank every member.
    static func rankingEnds(committees: [Int64], scope: ScopeFilter, year: Int32, length: Int, members: MemberTally? = nil,
                            on conn: SQLConnection) throws -> (top: [MemberScore], bottom: [MemberScore]) {
        guard !committees.isEmpty, length > 0 else { return ([], []) }
        let active = try members ?? tally(committees, scope: scope, on: conn)
        let (pc, cs) = ScopeFilter.inList(committees)
        var points: [Int64: Int64] = [:]
        let one: (String, [SQLValue]) = if case .member(let id) = scope { (" AND member_id = ?", [.integer(id)]) } else { ("", []) }
        for r in try conn.query("SELECT member_id, points FROM member_points WHERE \(pc) AND year = ?\(one.0)", cs + [.integer(Int64(year))] + one.1) {
            points[r[0].int64 ?? 0] = r[1].int64 ?? 0
        }
        let ranked = active.ids.map { (id: $0, points: points[$0] ?? 0) }
            .sorted { $0.points != $1.points ? $0.points > $1.points : $0.id < $1.id }
        let best = ranked.prefix(length).map(\.id)
        let worst = ranked.suffix(length).reversed().map(\.id).filter { !best.contains($0) }
        let ids = Array(Set(best + worst))
        guard !ids.isEmpty else { return ([], []) }
        let (im, ib) = ScopeFilter.inList(ids, column: "id")
        var names: [Int64: (name: String, committee: Int64)] = [:]
        for r in try conn.query("SELECT id, name, committee_id FROM members WHERE \(im)", ib) { names[r.int("id")] = (r.text("name"), r.int("committee_id")) }
        let (mi, _) = ScopeFilter.inList(ids, column: "member_id")
        let counts = try dutyCounts(where: ("\(mi) AND \(ScopeFilter.inList(committees).0)", ib + cs), year: year, on: conn)
        let rules = try Self.rules(committees: Array(Set(names.values.map(\.committee))).sorted(), on: conn)
        func score(_ id: Int64) -> MemberScore {
            let (name, committee) = names[id] ?? ("", 0)
            return Scoring.score(member: id, name: name, committee: committee, counts: counts[id] ?? [:],
                                 rules: rules[committee] ?? Scoring.defaultRules(committee: committee))
        }
        return (best.map(score), worst.map(score))
    }

    static func positions(on conn: SQLConnection) throws -> [SourcePosition] {
        try conn.query("SELECT name, applied_seq, applied_at_ms FROM sources ORDER BY name", []).compactMap { r in
            Source(rawValue: r.text("name")).map { SourcePosition(source: $0, appliedSequence: r.int("applied_seq"), appliedAtMilliseconds: r.int("applied_at_ms")) }
        }
    }

    /// A member's duty entries in `period`, newest first.
    public func duties(member: Int64, period: Period) async throws -> [(duty: Duty, source: String)] {
        try await database.read { conn in
            try conn.query("SELECT * FROM duties WHERE member_id = ? AND day BETWEEN ? AND ? ORDER BY day DESC, source, seq DESC, ordinal",
                           [.integer(member), .integer(Int64(period.from)), .integer(Int64(period.to))]).map { r in
                (Duty(member: r.int("member_id"), committee: r.int("committee_id"), kind: DutyKind(rawValue: Int32(r.int("kind"))),
                      day: Int32(r.int("day")), refKind: r.text("ref_kind"), refID: r.text("ref_id"), note: r.text("note")), r.text("source"))
            }
        }
    }

    /// The member, if analytics knows them.
    public func member(_ id: Int64) async throws -> MemberRow? {
        try await database.read { conn in
            try conn.query("SELECT id, committee_id, name FROM members WHERE id = ?", [.integer(id)]).first.map(Self.memberRow)
        }
    }
}

/// Active members counted for a dashboard: in all, per committee and per town (a member counts
/// once in each distinct town they are tied to).
public struct MemberTally: Equatable, Sendable {
    /// The members counted.
    public var ids: [Int64] = []
    public var perCommittee: [Int64: Int] = [:]
    public var perTown: [Int64: Int64] = [:]

    public init() {}

    public var total: Int { ids.count }

    /// Counts member `id` of `committee` tied to towns `a`–`d` (0: none).
    mutating func add(_ id: Int64, committee: Int64, _ a: Int64, _ b: Int64, _ c: Int64, _ d: Int64) {
        ids.append(id)
        perCommittee[committee, default: 0] += 1
        if a != 0 { perTown[a, default: 0] += 1 }
        if b != 0 && b != a { perTown[b, default: 0] += 1 }
        if c != 0 && c != a && c != b { perTown[c, default: 0] += 1 }
        if d != 0 && d != a && d != b && d != c { perTown[d, default: 0] += 1 }
    }
}

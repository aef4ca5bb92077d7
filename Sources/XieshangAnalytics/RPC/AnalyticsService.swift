import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// Analytics' RPC handlers: who may see which committee here, figures assembled from the
/// store's grouped rows in ``Dashboards``, points in ``Scoring``.
public struct AnalyticsService: Sendable {
    public let store: AnalyticsStore
    public let ingestor: Ingestor
    public let feed: EventFeed
    /// Milliseconds since 1970 (injectable so tests can fix "this year").
    public let clock: @Sendable () -> Int64
    /// Members listed at each end of a dashboard's ranking.
    public static let rankingLength = 5

    public init(ingestor: Ingestor, clock: @escaping @Sendable () -> Int64 = { XieshangStore.Clock.nowMilliseconds() }) {
        self.store = ingestor.store
        self.ingestor = ingestor
        self.feed = EventFeed(database: ingestor.store.database)
        self.clock = clock
    }

    var today: CivilDate { CivilDate.china(unixMilliseconds: clock()) }

    /// The committee `requested` names (0: the caller's), if the caller may see it, and the
    /// committees its figures cover (a prefecture's include its counties).
    func committees(_ requested: Int64, _ caller: Caller) async throws -> (id: Int64, covered: [Int64], names: [Int64: String]) {
        try Check.id(requested, "committee_id")
        let tree = try await store.committees()
        let id = requested == 0 ? caller.committeeID : requested
        let visible = caller.isSystem || id == caller.committeeID || tree[id]?.parent == caller.committeeID
        guard visible else { throw DomainError.notFound(kind: "committee", id: "\(id)") }
        let children = tree.filter { $0.value.parent == id }.map(\.key).sorted()
        return (id, [id] + children, tree.mapValues(\.name))
    }

    /// The period `from`–`to` (default: this calendar year).
    func period(_ from: String, _ to: String) throws -> Period {
        let year = today.year
        let start = try Check.day(from, "from", or: CivilDate(year: year, month: 1, day: 1)!)
        let end = try Check.day(to, "to", or: CivilDate(year: year, month: 12, day: 31)!)
        guard start <= end else { throw DomainError.invalid(field: "to", message: "must not be before from (\(start))") }
        guard end.dayNumber - start.dayNumber <= 366 * 10 else { throw DomainError.invalid(field: "to", message: "a period is at most ten years") }
        return Period(from: Day.from(start), to: Day.from(end))
    }

    /// The committee's point table (defaults until edited).
    func rules(_ committee: Int64) async throws -> PointRules {
        try await store.rules(committee: committee) ?? Scoring.defaultRules(committee: committee)
    }

    /// Scores of `members` (the active members of `committees` in `scope`) for `year`, best first.
    func scores(_ committees: [Int64], scope: ScopeFilter, year: Int32, members: [MemberRow]) async throws -> [MemberScore] {
        let byMember = try await store.dutyCounts(committees: committees, scope: scope, year: year)
        let rules = try await store.rules(committees: Array(Set(members.map(\.committee))))
        return Scoring.ranked(members.map { m in
            Scoring.score(member: m.id, name: m.name, committee: m.committee, counts: byMember[m.id] ?? [:], rules: rules[m.committee]!)
        })
    }

    static func readers(_ context: ServerContext, to action: String) throws -> Caller {
        let caller = try Caller(context: context)
        try caller.require(.leader, .committeeStaff, .committeeAdmin, .liaisonStaff, .prefectureAdmin, to: action)
        return caller
    }
}

extension AnalyticsService: Xieshang_Analytics_V1_AnalyticsServiceProvider {
    public func getDashboard(request: Xieshang_Analytics_V1_DashboardRequest, context: ServerContext) async throws -> Xieshang_Analytics_V1_Dashboard {
        let caller = try Caller(context: context)
        let scope: ScopeFilter
        switch request.scope {
        case .committee, .unspecified: scope = .committee
        case .sector: scope = .sector(request.scopeId)
        case .town: scope = .town(request.scopeId)
        case .station: scope = .station(request.scopeId)
        case .member: scope = .member(request.scopeId)
        case .UNRECOGNIZED: throw DomainError.invalid(field: "scope", message: "unknown value \(request.scope.rawValue)")
        }
        if scope != .committee { try Check.id(request.scopeId, "scope_id", required: true) }
        let ownRecord = caller.has(.member) && caller.principal.memberId != 0 && scope == .member(caller.principal.memberId)
        if !ownRecord { try caller.require(.leader, .committeeStaff, .committeeAdmin, .liaisonStaff, .prefectureAdmin, to: "reading dashboards") }
        let period = try self.period(request.from, request.to)
        let (id, covered, names) = try await committees(request.committeeId, caller)
        let data = try await store.dashboard(committees: covered, scope: scope, period: period, year: period.to / 10000, length: Self.rankingLength)

        var d = Xieshang_Analytics_V1_Dashboard()
        d.committeeId = id
        d.scope = request.scope == .unspecified ? .committee : request.scope
        d.scopeId = request.scopeId
        d.current = Dashboards.figures(data.current, members: data.members, towns: data.towns, period: period)
        d.lastYear = Dashboards.figures(data.earlier, members: data.members, towns: data.towns, period: period.yearEarlier)
        d.top = data.top
        d.bottom = data.bottom
        if covered.count > 1 && scope == .committee {
            d.counties = covered.map { c in
                Dashboards.countyRow(c, name: names[c] ?? "", rows: data.current.filter { $0.committee == c },
                                     members: data.members.perCommittee[c] ?? 0)
            }
        }
        d.freshness = ingestor.freshness(positions: data.positions)
        return d
    }

    public func getDutyRecord(request: Xieshang_Analytics_V1_DutyRecordRequest, context: ServerContext) async throws -> Xieshang_Analytics_V1_DutyRecord {
        let caller = try Caller(context: context)
        try Check.id(request.memberId, "member_id")
        let memberID = request.memberId == 0 ? caller.principal.memberId : request.memberId
        guard memberID != 0 else { throw DomainError.invalid(field: "member_id", message: "required (the caller is not a member)") }
        if !(caller.has(.member) && caller.principal.memberId == memberID) {
            try caller.require(.leader, .committeeStaff, .committeeAdmin, .liaisonStaff, .prefectureAdmin, to: "reading another member's duty record")
        }
        let period = try self.period(request.from, request.to)
        let (_, covered, _) = try await committees(request.committeeId, caller)
        let freshness = try await ingestor.freshness()
        guard let member = try await store.member(memberID), covered.contains(member.committee) else {
            throw DomainError.notFound(kind: "member", id: "\(memberID)")
        }
        let rules = try await self.rules(member.committee)
        let entries = try await store.duties(member: memberID, period: period)
        var r = Xieshang_Analytics_V1_DutyRecord()
        r.memberId = memberID
        r.name = member.name
        r.entries = entries.map { AnalyticsStore.entry($0.duty, source: $0.source, points: Scoring.points($0.duty.kind, rules: rules)) }
        var counts: [DutyKind: Int64] = [:]
        for e in entries { counts[e.duty.kind, default: 0] += 1 }
        r.counts = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { Dashboards.count(Dashboards.name($0.key), $0.value) }
        let year = try await store.dutyCounts(committees: [member.committee], scope: .member(memberID), year: period.to / 10000)
        r.score = Scoring.score(member: memberID, name: member.name, committee: member.committee, counts: year[memberID] ?? [:], rules: rules)
        r.freshness = freshness
        return r
    }

    public func listMemberScores(request: Xieshang_Analytics_V1_ScoresRequest, context: ServerContext) async throws -> Xieshang_Analytics_V1_ScoresResponse {
        let caller = try Self.readers(context, to: "reading member scores")
        let year = request.year == 0 ? Int32(today.year) : request.year
        guard (2000...2100).contains(year) else { throw DomainError.invalid(field: "year", message: "must be between 2000 and 2100") }
        let (_, covered, _) = try await committees(request.committeeId, caller)
        let freshness = try await ingestor.freshness()
        var r = Xieshang_Analytics_V1_ScoresResponse()
        r.year = year
        let members = try await store.members(committees: covered, scope: .committee)
        r.scores = try await scores(covered, scope: .committee, year: year, members: members)
            .filter { !request.notCompetentOnly || $0.grade == .notCompetent }
        r.freshness = freshness
        return r
    }

    public func exportMemberScores(request: Xieshang_Analytics_V1_ScoresRequest, context: ServerContext) async throws -> Xieshang_Analytics_V1_CsvFile {
        let scores = try await listMemberScores(request: request, context: context).scores
        let names = try await committees(request.committeeId, try Caller(context: context)).names
        var f = Xieshang_Analytics_V1_CsvFile()
        f.csv = CSV.format([["排名", "委员", "政协", "积分", "等次", "五个一完成", "五个一未完成"]] + scores.enumerated().map { i, s in
            ["\(i + 1)", s.name, names[s.committeeId] ?? "\(s.committeeId)", "\(s.points)", s.grade == .notCompetent ? "不称职" : s.grade == .competent ? "称职" : "",
             "\(s.fiveOnesDone)", s.fiveOnesMissing.joined(separator: "、")]
        })
        f.rows = Int32(scores.count)
        return f
    }

    public func getPointRules(request: Xieshang_Analytics_V1_PointRulesRequest, context: ServerContext) async throws -> PointRules {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading the point table")
        let (id, _, _) = try await committees(request.committeeId, caller)
        return try await rules(id)
    }

    public func setPointRules(request: PointRules, context: ServerContext) async throws -> PointRules {
        let caller = try Caller(context: context)
        try caller.require(.committeeAdmin, to: "editing the point table")
        let id = request.committeeId == 0 ? caller.committeeID : request.committeeId
        guard caller.isSystem || id == caller.committeeID else { throw DomainError.notFound(kind: "committee", id: "\(id)") }
        var seen: Set<DutyKind> = []
        for (i, rule) in request.rules.enumerated() {
            let field = "rules[\(i)]"
            try Check.known(rule.kind, field + ".kind")
            guard seen.insert(rule.kind).inserted else { throw DomainError.invalid(field: field + ".kind", message: "\(Dashboards.name(rule.kind)) is listed twice") }
            guard (-100...100).contains(rule.points) else { throw DomainError.invalid(field: field + ".points", message: "must be between -100 and 100") }
            guard (0...1000).contains(rule.cap) else { throw DomainError.invalid(field: field + ".cap", message: "must be between 0 (no cap) and 1000") }
        }
        guard (0...10000).contains(request.passMark) else { throw DomainError.invalid(field: "pass_mark", message: "must be between 0 and 10000") }
        guard request.maxUnexcusedAbsences >= 0 else { throw DomainError.invalid(field: "max_unexcused_absences", message: "must not be negative") }
        var next = request
        next.committeeId = id
        next.rules.sort { $0.kind.rawValue < $1.kind.rawValue }
        return try await store.setRules(next, expected: request.version, actor: caller.actor)
    }

    public func recordDuty(request: Xieshang_Analytics_V1_ManualDuty, context: ServerContext) async throws -> Xieshang_Analytics_V1_DutyEntry {
        let caller = try Caller(context: context)
        try caller.require(.committeeStaff, .liaisonStaff, .committeeAdmin, to: "recording duties")
        try Check.id(request.memberId, "member_id", required: true)
        try Check.known(request.kind, "kind")
        guard Scoring.manualKinds.contains(request.kind) else {
            throw DomainError.invalid(field: "kind", message: "\(Dashboards.name(request.kind)) comes from the services; record speech, inspection, practical_deed, training or new_friends")
        }
        let date = try Check.day(request.date, "date", or: today)
        guard date <= today else { throw DomainError.invalid(field: "date", message: "must not be in the future") }
        let note = try Check.text(request.note, "note", required: false, max: 500)
        guard let member = try await store.member(request.memberId), member.committee == caller.committeeID else {
            // Members are known from the directory's feed: while it lags, say so (retryable).
            let directory = try await ingestor.freshness().sources.first { $0.source == Source.directory.rawValue }
            if let d = directory, d.lagEvents > 0 || d.appliedSequence == 0 {
                throw RPCError(.unavailable, "member \(request.memberId) is not known here yet: the directory's events are applied up to \(d.appliedSequence) of \(d.headSequence); try again shortly")
            }
            throw DomainError.notFound(kind: "member", id: "\(request.memberId)")
        }
        let duty = Duty(member: member.id, committee: member.committee, kind: request.kind, day: Day.from(date), refKind: "manual", refID: "", note: note)
        let id = try await store.recordDuty(duty, actor: caller.actor)
        var stored = duty
        stored.refID = "\(id)"
        return AnalyticsStore.entry(stored, source: "manual", points: Scoring.points(request.kind, rules: try await rules(member.committee)))
    }

    public func voidDuty(request: Xieshang_Analytics_V1_VoidDutyRequest, context: ServerContext) async throws -> Xieshang_Analytics_V1_DutyEntry {
        let caller = try Caller(context: context)
        try caller.require(.committeeStaff, .liaisonStaff, .committeeAdmin, to: "voiding duties")
        try Check.id(request.id, "id", required: true)
        let reason = try Check.text(request.reason, "reason", max: 500)
        let duty = try await store.voidDuty(request.id, committee: caller.committeeID, reason: reason, actor: caller.actor)
        var entry = AnalyticsStore.entry(duty, source: "manual", points: 0)
        entry.note = "voided: \(reason)"
        return entry
    }

    public func getFreshness(request: Xieshang_Analytics_V1_FreshnessRequest, context: ServerContext) async throws -> Xieshang_Analytics_V1_Freshness {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading freshness")
        return try await ingestor.freshness()
    }

    public func rebuild(request: Xieshang_Analytics_V1_RebuildRequest, responses: ResponseWriter<Xieshang_Analytics_V1_RebuildProgress>, context: ServerContext) async throws {
        let caller = try Caller(context: context)
        try caller.require(.prefectureAdmin, to: "rebuilding analytics")
        try await ingestor.rebuild { try await responses.send($0) }
    }

    public func watch(request: Xieshang_Events_V1_WatchRequest, responses: ResponseWriter<Xieshang_Events_V1_Event>, context: ServerContext) async throws {
        try await feed.watch(request, caller: try Caller(context: context), responses: responses)
    }
}

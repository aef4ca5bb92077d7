import XCTest
import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore
import XieshangTestSupport
@testable import XieshangAnalytics

typealias Event = Xieshang_Events_V1_Event

/// A small generated year (two counties) and what it adds up to.
func smallYear() throws -> (events: [Source: [Event]], truth: SyntheticFeed.Truth) {
    var feed = SyntheticFeed()
    feed.counties = 2
    feed.membersPerCounty = 30
    feed.townsPerCounty = 4
    feed.stationsPerCounty = 3
    feed.itemsPerCounty = 300
    feed.proposalsPerCounty = 60
    feed.consultationsPerCounty = 20
    var events: [Source: [Event]] = [:]
    try feed.generate { events[$0, default: []].append($1) }
    return (events, feed.truth)
}

let year = Period(from: 20260101, to: 20261231)

/// Checks the projection in `store` against what the generator counted.
func assertMatches(_ store: AnalyticsStore, _ truth: SyntheticFeed.Truth, file: StaticString = #filePath, line: UInt = #line) async throws {
    for committee: Int64 in [2, 3] {
        let of = Dashboards.grouped(try await store.figures(committees: [committee], scope: .committee, period: year))
        let intake = Dashboards.intake(of), proposals = Dashboards.proposals(of), consultations = Dashboards.consultations(of)
        XCTAssertEqual(intake.received, truth.itemsReceived[committee], "items of \(committee)", file: file, line: line)
        let states = Dictionary(uniqueKeysWithValues: intake.byState.map { ($0.key, $0.count) })
        let expected = Dictionary(uniqueKeysWithValues: truth.itemsByState[committee]!.map { (Dashboards.name(Xieshang_Intake_V1_ItemState(rawValue: $0.key)), $0.value) })
        XCTAssertEqual(states, expected, file: file, line: line)
        XCTAssertEqual(intake.satisfied?.numerator, truth.itemsSatisfied[committee], file: file, line: line)
        XCTAssertEqual(intake.reportsAdopted, truth.reportsAdopted[committee] ?? 0, file: file, line: line)
        XCTAssertEqual(proposals.submitted, truth.proposalsSubmitted[committee], file: file, line: line)
        XCTAssertEqual(proposals.registered?.numerator, truth.proposalsRegistered[committee], file: file, line: line)
        XCTAssertEqual(consultations.meetingsHeld, truth.meetingsHeld[committee], file: file, line: line)
        XCTAssertEqual(consultations.absent, truth.absences[committee], file: file, line: line)
    }
    let counts = try await store.dutyCounts(committees: [2, 3], scope: .committee, year: 2026)
    var differences: [String] = []
    for member in Set(counts.keys).union(truth.duties.keys).sorted() {
        for kind in DutyKind.allKnownCases {
            let got = counts[member]?[kind] ?? 0, want = truth.duties[member]?[kind] ?? 0
            if got != want { differences.append("member \(member) \(kind): \(got), expected \(want)") }
        }
    }
    XCTAssertEqual(differences.prefix(10), [], "duty counts", file: file, line: line)
}

/// The ends of each scope's ranking as the dashboard reads them (kept points) equal those of
/// scoring every member from their counts.
func assertRankingAgrees(_ store: AnalyticsStore, file: StaticString = #filePath, line: UInt = #line) async throws {
    let scopes: [ScopeFilter] = [.committee, .sector(1), .sector(2), .town(1), .town(5), .station(1), .member(7)]
    // 2025 has no duties: every member has 0 points and no points row.
    for (committees, year): ([Int64], Int32) in [([1, 2, 3], 2026), ([2], 2026), ([3], 2026), ([2, 3], 2025)] {
        for scope in scopes {
            let members = try await store.members(committees: committees, scope: scope)
            let counts = try await store.dutyCounts(committees: committees, scope: scope, year: year)
            var full: [MemberScore] = []
            for m in members {
                let rules = try await store.rules(committee: m.committee) ?? Scoring.defaultRules(committee: m.committee)
                full.append(Scoring.score(member: m.id, name: m.name, committee: m.committee, counts: counts[m.id] ?? [:], rules: rules))
            }
            let ranked = Scoring.ranked(full)
            let top = Array(ranked.prefix(5))
            let bottom = Array(ranked.suffix(5).reversed().filter { s in !top.contains { $0.memberId == s.memberId } })
            let ends = try await store.database.read {
                try AnalyticsStore.rankingEnds(committees: committees, scope: scope, year: year, length: 5, on: $0)
            }
            XCTAssertEqual(ends.top, top, "top of \(scope) in \(committees)", file: file, line: line)
            XCTAssertEqual(ends.bottom, bottom, "bottom of \(scope) in \(committees)", file: file, line: line)
        }
    }
}

/// Every figure row of the year, every member's points and every duty entry of a few members,
/// for comparing two projections.
func snapshot(_ store: AnalyticsStore) async throws -> [String] {
    var out = try await store.figures(committees: [1, 2, 3], scope: .committee, period: year).map {
        "\($0.committee)/\($0.kind)/\($0.state)/\($0.category)/\($0.measures.columns)"
    }.sorted()
    out += try await store.database.read { conn in
        try conn.query("SELECT member_id, year, committee_id, points FROM member_points ORDER BY member_id, year", []).map { "\($0.values)" }
    }
    for m: Int64 in [1, 7, 31, 45] {
        out += try await store.duties(member: m, period: year).map { "\($0.source)/\($0.duty)" }.sorted()
    }
    return out
}

final class AnalyticsTests: XCTestCase {
    /// Redelivered events (overlapping batches, the whole feed again) change nothing; the monthly
    /// roll-up agrees with the facts over odd periods; a wipe and replay in other batches gives
    /// the same projection.
    func testRedeliveryNeverDoubleCountsAndReplayReproduces() async throws {
        let (events, truth) = try smallYear()
        XCTAssertGreaterThan(events.values.map(\.count).reduce(0, +), 5_000)
        try await TestEngines.each("analytics_apply") { db in
            let store = AnalyticsStore(database: db)
            try await store.migrate()
            for source in Source.allCases {
                let list = events[source] ?? []
                var start = 0
                while start < list.count {
                    // Each batch starts 20 events before the previous one ended.
                    let end = min(start + 50, list.count)
                    try await store.apply(source, events: Array(list[max(0, start - 20)..<end]))
                    start = end
                }
                let again = try await store.apply(source, events: list)
                XCTAssertEqual(again, 0, "\(source) applied twice")
            }
            try await assertMatches(store, truth)
            try await assertRankingAgrees(store)
            // A committee's new point table scores its members again.
            var rules = Scoring.defaultRules(committee: 2)
            rules.rules = rules.rules.map { r in
                var r = r
                r.points = r.points > 0 ? r.points * 3 : r.points
                r.cap = r.kind == .opinionBrought ? 0 : r.cap
                return r
            }
            _ = try await store.setRules(rules, expected: 0, actor: Actor(accountID: 1, name: "管理员"))
            try await assertRankingAgrees(store)
            // Months, edges, a whole year (the yearly sums) with months and days either side.
            for period in [Period(from: 20260115, to: 20260410), Period(from: 20260301, to: 20260930), Period(from: 20260203, to: 20260227),
                           year, Period(from: 20251101, to: 20261231), Period(from: 20251120, to: 20270115)] {
                let viaRollup = try await store.figures(committees: [2, 3], scope: .committee, period: period)
                let viaFacts = try await store.figures(committees: [2, 3], scope: .committee, period: period, rollup: false)
                func totals(_ rows: [FigureRow]) -> [String: [Int64]] {
                    Dictionary(grouping: rows) { "\($0.committee)/\($0.kind)/\($0.state)/\($0.category)" }
                        .mapValues { $0.reduce(Measures()) { $0 + $1.measures }.columns }.filter { $0.value.contains { $0 != 0 } }
                }
                XCTAssertEqual(totals(viaRollup), totals(viaFacts), "\(period)")
            }
            let before = try await snapshot(store)
            try await store.wipe()
            let emptied = try await store.figures(committees: [2, 3], scope: .committee, period: year)
            XCTAssertEqual(emptied, [])
            for source in Source.allCases.reversed() {
                let list = events[source] ?? []
                for start in stride(from: 0, to: list.count, by: 997) {
                    try await store.apply(source, events: Array(list[start..<min(start + 997, list.count)]))
                }
            }
            let after = try await snapshot(store)
            XCTAssertEqual(after, before)
            try await assertMatches(store, truth)
            try await assertRankingAgrees(store)
        }
    }

    /// A duty recorded for a member analytics has not read from the directory yet is UNAVAILABLE
    /// (retryable, naming the feed's position); once the directory's events are applied, the
    /// member is recorded, and an unknown one is NOT_FOUND.
    func testRecordDutyWaitsForTheDirectoryFeed() async throws {
        let (events, _) = try smallYear()
        try await TestEngines.each("analytics_record") { db in
            let store = AnalyticsStore(database: db)
            try await store.migrate()
            let service = AnalyticsService(ingestor: Ingestor(store: store, channels: [:]))
            let loopback = try await LoopbackServer([service])
            let client = Xieshang_Analytics_V1_AnalyticsServiceClient(channel: loopback.channel)
            let staff = DirectoryFixture.options(.committeeStaff, committee: 2)
            var duty = Xieshang_Analytics_V1_ManualDuty()
            duty.memberId = 1
            duty.kind = .speech
            do {
                _ = try await client.recordDuty(duty, options: staff)
                XCTFail("recorded before the directory was read")
            } catch let e as RPCError {
                XCTAssertEqual(e.code, .unavailable, "\(e)")
                XCTAssertTrue(e.message.contains("directory"), e.message)
            }
            try await store.apply(.directory, events: events[.directory] ?? [])
            let entry = try await client.recordDuty(duty, options: staff)
            XCTAssertEqual(entry.memberId, 1)
            XCTAssertEqual(entry.source, "manual")
            duty.memberId = 99_999
            do {
                _ = try await client.recordDuty(duty, options: staff)
                XCTFail("recorded for an unknown member")
            } catch let e as RPCError {
                XCTAssertEqual(e.code, .notFound, "\(e)")
            }
            await loopback.close()
        }
    }

    /// A manual entry recorded by mistake is voided: it leaves the duty record, the counts and the
    /// points (and stays out after a rebuild); voiding it again is FAILED_PRECONDITION, another
    /// committee's is NOT_FOUND, a reason is required, and the void is an event naming who.
    func testAVoidedManualDutyLeavesTheRecordAndThePoints() async throws {
        let (events, _) = try smallYear()
        try await TestEngines.each("analytics_void") { db in
            let store = AnalyticsStore(database: db)
            try await store.migrate()
            try await store.apply(.directory, events: events[.directory] ?? [])
            let service = AnalyticsService(ingestor: Ingestor(store: store, channels: [:]))
            let loopback = try await LoopbackServer([service])
            let client = Xieshang_Analytics_V1_AnalyticsServiceClient(channel: loopback.channel)
            let staff = DirectoryFixture.options(.committeeStaff, committee: 2)
            var request = Xieshang_Analytics_V1_DutyRecordRequest()
            request.memberId = 1
            let before = try await client.getDutyRecord(request, options: staff)
            var duty = Xieshang_Analytics_V1_ManualDuty()
            duty.memberId = 1
            duty.kind = .speech
            duty.note = "全会大会发言"
            let entry = try await client.recordDuty(duty, options: staff)
            let recorded = try await client.getDutyRecord(request, options: staff)
            XCTAssertEqual(recorded.entries.count, before.entries.count + 1)
            XCTAssertGreaterThan(recorded.score?.points ?? 0, before.score?.points ?? 0)

            var void = Xieshang_Analytics_V1_VoidDutyRequest()
            void.id = Int64(entry.refId)!
            do {
                _ = try await client.voidDuty(void, options: staff)
                XCTFail("voided without a reason")
            } catch let e as RPCError {
                XCTAssertEqual(e.code, .invalidArgument, "\(e)")
            }
            void.reason = "录错了委员"
            do {
                _ = try await client.voidDuty(void, options: DirectoryFixture.options(.committeeStaff, committee: 3))
                XCTFail("voided another committee's entry")
            } catch let e as RPCError {
                XCTAssertEqual(e.code, .notFound, "\(e)")
            }
            do {
                _ = try await client.voidDuty(void, options: DirectoryFixture.options(.member, committee: 2, member: 1))
                XCTFail("a member voided an entry")
            } catch let e as RPCError {
                XCTAssertEqual(e.code, .permissionDenied, "\(e)")
            }
            let voided = try await client.voidDuty(void, options: staff)
            XCTAssertEqual(voided.refId, entry.refId)
            XCTAssertTrue(voided.note.contains("录错了委员"))
            let after = try await client.getDutyRecord(request, options: staff)
            XCTAssertEqual(after.entries.map(\.refId), before.entries.map(\.refId))
            XCTAssertEqual(after.score?.points ?? 0, before.score?.points ?? 0)
            XCTAssertEqual(after.counts.map(\.count), before.counts.map(\.count))
            do {
                _ = try await client.voidDuty(void, options: staff)
                XCTFail("voided twice")
            } catch let e as RPCError {
                XCTAssertEqual(e.code, .failedPrecondition, "\(e)")
            }
            let history = try await db.read { try EventLog.history(on: $0, kind: "manual_duty", id: entry.refId) }
            XCTAssertEqual(history.map(\.draft.eventType), ["manual_duty.created", "manual_duty.voided"])
            // A rebuild re-adds the manual entries that stand, not the voided one.
            try await store.wipe()
            try await store.apply(.directory, events: events[.directory] ?? [])
            let rebuilt = try await client.getDutyRecord(request, options: staff)
            XCTAssertFalse(rebuilt.entries.contains { $0.refKind == "manual" && $0.refId == entry.refId })
            await loopback.close()
        }
    }

    /// The member scores as CSV: the header, then one row per member in ListMemberScores' order
    /// with the same points and grades (Chinese text intact), for staff only.
    func testMemberScoresExportAsCSV() async throws {
        let (events, _) = try smallYear()
        try await TestEngines.each("analytics_export") { db in
            let store = AnalyticsStore(database: db)
            try await store.migrate()
            for source in Source.allCases { try await store.apply(source, events: events[source] ?? []) }
            let service = AnalyticsService(ingestor: Ingestor(store: store, channels: [:]), clock: { 1_782_000_000_000 })  // 2026-06
            let loopback = try await LoopbackServer([service])
            let client = Xieshang_Analytics_V1_AnalyticsServiceClient(channel: loopback.channel)
            let leader = DirectoryFixture.options(.leader, committee: 2)
            var request = Xieshang_Analytics_V1_ScoresRequest()
            request.year = 2026
            let listed = try await client.listMemberScores(request, options: leader).scores
            let file = try await client.exportMemberScores(request, options: leader)
            let rows = try CSV.parse(file.csv).map(\.fields)
            XCTAssertEqual(rows.first, ["排名", "委员", "政协", "积分", "等次", "五个一完成", "五个一未完成"])
            XCTAssertEqual(Int(file.rows), listed.count)
            XCTAssertGreaterThan(listed.count, 0)
            XCTAssertEqual(rows.dropFirst().map { $0[1] }, listed.map(\.name))
            XCTAssertEqual(rows.dropFirst().map { Int32($0[3]) }, listed.map(\.points))
            XCTAssertEqual(Set(rows.dropFirst().map { $0[4] }).subtracting(["称职", "不称职"]), [])
            do {
                _ = try await client.exportMemberScores(request, options: DirectoryFixture.options(.handlingUnit, committee: 2))
                XCTFail("a unit exported member scores")
            } catch let e as RPCError {
                XCTAssertEqual(e.code, .permissionDenied, "\(e)")
            }
            await loopback.close()
        }
    }

    /// On PostgreSQL the projection's statistics are refreshed as it grows: after the first
    /// `analyzeAfter` events, then each time the count quadruples.
    func testPostgresStatisticsFollowGrowth() async throws {
        let (events, _) = try smallYear()
        try await TestEngines.each("analytics_stats") { db in
            guard db.configuration.dialect == .postgres else { return }
            let store = AnalyticsStore(database: db, analyzeAfter: 500)
            try await store.migrate()
            let intake = events[.intake] ?? []
            try await store.apply(.intake, events: Array(intake[0..<400]))
            let before = try await PostgresMaintenance.count(of: "facts", in: db)
            XCTAssertEqual(before, 0, "not before 500 events")
            try await store.apply(.intake, events: Array(intake[400..<600]))
            let n = try await PostgresMaintenance.awaitCount(of: "facts", in: db, seconds: 5)
            XCTAssertGreaterThan(n, 0, "vacuumed and analysed after 500 events")
            let stats = try await PostgresMaintenance.plannedRows(of: "facts", in: db)
            XCTAssertGreaterThan(stats, 0, "the planner knows the table's size")
        }
    }

    /// Scores follow the committee's rules: caps, deductions, grades, five ones.
    func testScoring() {
        var rules = Scoring.defaultRules(committee: 2)
        let s = Scoring.score(member: 9, name: "甲", committee: 2,
                              counts: [.proposalLead: 5, .opinionBrought: 2, .absenceUnexcused: 3, .practicalDeed: 1], rules: rules)
        // Proposals capped at 30, opinions 10, practical deed 10, absences -30.
        XCTAssertEqual(s.points, 30 + 10 + 10 - 30)
        XCTAssertEqual(s.grade, .notCompetent)
        XCTAssertEqual(s.fiveOnesDone, 3)
        XCTAssertEqual(s.fiveOnesMissing, ["一条建议", "结交新朋友"])
        rules.passMark = 0
        rules.maxUnexcusedAbsences = 3
        XCTAssertEqual(Scoring.score(member: 9, name: "甲", committee: 2, counts: [.absenceUnexcused: 3], rules: rules).grade, .notCompetent)
        XCTAssertEqual(Scoring.score(member: 9, name: "甲", committee: 2, counts: [.relay: 1], rules: rules).grade, .competent)
    }
}

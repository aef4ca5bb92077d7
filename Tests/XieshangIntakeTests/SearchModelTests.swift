import XCTest
import XieshangAPI
@testable import XieshangIntake
import XieshangKit
import XieshangStore
import XieshangTestSupport

/// Text search against a model: over a corpus where words co-occur at different rates, every
/// query (one word, a longer word, two and three words, a one-character term, a term whose bigrams
/// occur apart), with and without filters, under several candidate windows and counting limits,
/// walked page by page, must return exactly the matching items in id order, and its totals must
/// be exact when nothing limited the counting and a true lower bound when something did: on a
/// corpus stored at the first schema and migrated, and again after transitions moved states.
final class SearchModelTests: XCTestCase {
    /// Words and how often an item holds each (per mille).
    static let words: [(String, Int)] = [("漏水", 300), ("路灯", 200), ("屋顶", 100), ("楼栋墙体", 150), ("电梯", 30), ("积水", 400)]

    static func corpus(_ n: Int) -> [(text: String, state: Xieshang_Intake_V1_ItemState, town: Int64)] {
        var g = SplitMix64(seed: 20261121)
        return (0..<n).map { i in
            var parts = ["第\(i)号"]
            for (w, rate) in words where Int(g.next() % 1000) < rate { parts.append(w + "问题") }
            // Bigrams of 楼栋墙体 apart: 栋墙 and 墙体 occur, the word does not.
            if g.next() % 10 == 0 { parts.append("楼栋…栋墙…墙体") }
            let state: Xieshang_Intake_V1_ItemState = [.received, .registered, .routed][Int(g.next() % 3)]
            return (parts.joined(separator: "，"), state, Int64(1 + g.next() % 2))
        }
    }

    /// The corpus as items to import.
    static func items(_ corpus: [(text: String, state: Xieshang_Intake_V1_ItemState, town: Int64)]) -> [Xieshang_Intake_V1_Item] {
        corpus.map { c in
            var item = Xieshang_Intake_V1_Item()
            item.text = c.text
            item.state = c.state
            item.townId = c.town
            return item
        }
    }

    func testSearchMatchesModel() async throws {
        let corpus = Self.corpus(400)
        try await TestEngines.each("intake_search_model", make: { config -> (Database, IntakeStore) in
            let db = try Database(configuration: config)
            // The corpus goes in at intake's first schema, before gram rows carried the state, and
            // the migration to the current one fills it in.
            try await db.migrate(component: "intake", Array(IntakeMigrations.all.prefix(1)))
            return (db, IntakeStore(database: db))
        }, close: { await $0.0.close() }) { (_, base) in
            let committee: Int64 = 7
            var first = base
            let current = IntakeStore.gramIndex
            first.grams = GramIndex(table: current.table, idColumn: current.idColumn, text: current.text)
            try await first.importItems(Self.items(corpus), committee: committee, actor: Actor(accountID: 0, name: "导入"))
            try await base.migrate()
            // Ids in corpus order (one transaction, ascending).
            var all = try await base.list(committee: committee, query: ItemQuery(), page: PageRequest(size: 1000, afterID: 0)).items
            XCTAssertEqual(all.count, corpus.count)
            try await Self.verify(base, committee: committee, all)
            // Registration moves a third of the received items on, a few with a title that adds
            // words: state filters and text follow (the gram rows carry the state).
            let staff = Participant(roles: [.liaisonStaff], name: "联络中心")
            for item in all where item.state == .received && item.id % 3 == 0 {
                let title = item.id % 2 == 0 ? "电梯漏水" : ""
                _ = try await base.transition(item.id, version: 0, committee: committee, by: staff, actor: Actor(accountID: 1, name: "联络中心")) { _, _ in
                    .register(title: title, category: "民生", townID: 0, villageID: 0, note: "")
                }
            }
            all = try await base.list(committee: committee, query: ItemQuery(), page: PageRequest(size: 1000, afterID: 0)).items
            XCTAssertGreaterThan(all.filter { $0.state == .registered && $0.title == "电梯漏水" }.count, 10)
            try await Self.verify(base, committee: committee, all)
            // The corpus makes the cases real: common and rare words, bigrams apart.
            XCTAssertGreaterThan(corpus.filter { $0.text.contains("漏水") && $0.text.contains("路灯") }.count, 10)
        }
    }

    /// Every query under every set of limits against the model over `all` (as stored).
    static func verify(_ base: IntakeStore, committee: Int64, _ all: [Xieshang_Intake_V1_Item]) async throws {
        let texts = all.map { ($0.id, IntakeStore.gramIndex.searchText($0), $0.state, $0.townId) }
        let queries = ["漏水", "楼栋墙体", "漏水 路灯", "屋顶 漏水 路灯", "楼栋墙体 积水", "电梯 积水", "积水 电梯", "漏", "栋墙 墙体",
                       "墙体漏", "电梯 楼栋墙体 漏水", "没有这个词"]
        // (scan window, count window, count cap): the defaults, and small ones that make every
        // limit bite on this corpus.
        let limits = [(4_000, 1_000, 500), (7, 5, 3), (50, 20, 10), (1, 1, 500), (30, 1_000, 15)]
        var checked = 0
        for (qi, query) in queries.enumerated() {
            let terms = SearchGrams.terms(of: query)
            for filter in 0..<3 {
                var q = ItemQuery()
                q.terms = terms
                if filter == 1 { q.states = [.received] }
                if filter == 2 { q.townID = 2; q.states = [.registered, .routed] }
                let expected = texts.filter { t in
                    terms.allSatisfy { t.1.contains($0) }
                        && (q.states.isEmpty || q.states.contains(t.2)) && (q.townID == 0 || q.townID == t.3)
                }.map(\.0)
                for (li, (scan, countWindow, cap)) in limits.enumerated() {
                    var store = base
                    store.grams.scanWindow = scan
                    store.grams.countWindow = countWindow
                    store.grams.countCap = cap
                    let size = [1, 3, 20, 7][(qi + filter + li) % 4]
                    var got: [Int64] = []
                    var request = PageRequest(size: size, afterID: 0)
                    var pages = 0
                    while true {
                        let page = try await store.list(committee: committee, query: q, page: request)
                        let ids = page.items.map(\.id)
                        let label = "\(query) filter \(filter) limits \(scan)/\(countWindow)/\(cap) page \(pages)"
                        XCTAssertLessThanOrEqual(ids.count, size, label)
                        XCTAssertEqual(ids, ids.sorted(), label)
                        XCTAssertTrue(ids.allSatisfy { $0 > request.afterID }, label)
                        // Counting stops at the cap, but a first page's lower bound is at least what it shows.
                        XCTAssertLessThanOrEqual(page.total, max(cap, pages == 0 ? ids.count : 0), label)
                        XCTAssertLessThanOrEqual(page.total, expected.count, "\(label): a total never exceeds the matches")
                        if pages == 0 { XCTAssertGreaterThanOrEqual(page.total, ids.count, "\(label): a first page's total covers it") }
                        if !page.totalCapped { XCTAssertEqual(page.total, expected.count, "\(label): an exact total") }
                        if scan >= all.count && countWindow >= all.count && cap > expected.count {
                            XCTAssertFalse(page.totalCapped, "\(label): nothing limited the count")
                        }
                        got += ids
                        pages += 1
                        guard !page.nextToken.isEmpty else { break }
                        request = try PageRequest(size: Int32(size), token: page.nextToken)
                        XCTAssertLessThan(pages, 2_000, label)
                        if pages >= 2_000 { break }
                    }
                    XCTAssertEqual(got, expected, "\(query) filter \(filter) limits \(scan)/\(countWindow)/\(cap): pages together")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, queries.count * 3 * limits.count)
        XCTAssertGreaterThan(texts.filter { $0.1.contains("栋墙") && $0.1.contains("墙体") && !$0.1.contains("楼栋墙体") }.count, 5)
    }

    /// On PostgreSQL the items' and grams' statistics are refreshed as items are added, by an
    /// import (waited for) or by submissions (in the background): after the first `analyzeAfter`.
    func testPostgresStatisticsFollowGrowth() async throws {
        try await TestEngines.each("intake_stats", make: { config -> (Database, IntakeStore) in
            let db = try Database(configuration: config)
            let store = IntakeStore(database: db, analyzeAfter: 50)
            try await store.migrate()
            return (db, store)
        }, close: { await $0.0.close() }) { (db, store) in
            guard db.configuration.dialect == .postgres else { return }
            let actor = Actor(accountID: 0, name: "导入")
            try await store.importItems(Self.items(Self.corpus(40)), committee: 7, actor: actor)
            let before = try await PostgresMaintenance.count(of: "item_grams", in: db)
            XCTAssertEqual(before, 0, "not before 50 items")
            for item in Self.items(Self.corpus(15)) {
                _ = try await store.submit(item, committee: 7, actor: actor)
            }
            // The vacuum runs in the background after the submission that crossed the threshold.
            let n = try await PostgresMaintenance.awaitCount(of: "item_grams", in: db)
            XCTAssertGreaterThan(n, 0, "vacuumed and analysed after 50 items")
            let rows = try await PostgresMaintenance.plannedRows(of: "item_grams", in: db)
            XCTAssertGreaterThan(rows, 0, "the planner knows the grams' size")
        }
    }
}

import XCTest
import XieshangStore
import XieshangTestSupport

final class EventLogTests: XCTestCase {
    func testEventsAreNumberedInOrderAndFilteredByCommitteeAndKind() async throws {
        try await TestEngines.each("events", migrations: DatabaseTests.table) { db in
            try await db.write { tx in
                tx.emit(.sample(committee: 1, id: "a"))
                tx.emit(.sample(committee: 2, id: "b"))
            }
            try await db.write { tx in
                var e = EventDraft.sample(committee: 1, id: "a", type: "thing.renamed")
                e.before = Array("名字 a".utf8)
                e.entityKind = "other"
                tx.emit(e)
            }
            let all = try await db.read { try EventLog.read(on: $0, after: 0, committees: nil, kinds: [], limit: 10) }
            XCTAssertEqual(all.map(\.sequence), [1, 2, 3])
            XCTAssertEqual(all[0].draft, .sample(committee: 1, id: "a"))
            XCTAssertEqual(all[2].draft.before, Array("名字 a".utf8))
            let one = try await db.read { try EventLog.read(on: $0, after: 0, committees: [1], kinds: [], limit: 10) }
            XCTAssertEqual(one.map(\.sequence), [1, 3])
            let kinds = try await db.read { try EventLog.read(on: $0, after: 1, committees: nil, kinds: ["thing"], limit: 10) }
            XCTAssertEqual(kinds.map(\.sequence), [2])
            let none = try await db.read { try EventLog.read(on: $0, after: 0, committees: [], kinds: [], limit: 10) }
            XCTAssertEqual(none, [])
            let history = try await db.read { try EventLog.history(on: $0, kind: "thing", id: "a") }
            XCTAssertEqual(history.map(\.sequence), [1])
        }
    }

    func testConcurrentWritersGetGaplessSequences() async throws {
        try await TestEngines.each("concurrent", migrations: DatabaseTests.table) { db in
            let writers = 16, each = 20
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<writers {
                    group.addTask {
                        for i in 0..<each {
                            try await db.write { tx in
                                try tx.execute("INSERT INTO things (committee_id, name) VALUES (?, ?)",
                                               [.integer(Int64(w)), .text("n\(i)")])
                                tx.emit(.sample(committee: Int64(w), id: "\(w)-\(i)"))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await db.read { try EventLog.read(on: $0, after: 0, committees: nil, kinds: [], limit: 10_000) }
            XCTAssertEqual(events.map(\.sequence), Array(1...Int64(writers * each)))
            XCTAssertEqual(Set(events.map(\.draft.entityID)).count, writers * each)
        }
    }

    /// Writes that arrive together (one group commit on SQLite) succeed or fail alone: a body that
    /// throws after writing leaves neither rows nor events, its neighbours commit, numbers stay gapless.
    func testFailingWritesAmongConcurrentOnesLeaveNothing() async throws {
        struct Refused: Error {}
        try await TestEngines.each("groupcommit", migrations: DatabaseTests.table) { db in
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for w in 0..<60 {
                    group.addTask {
                        do {
                            try await db.write { tx in
                                try tx.execute("INSERT INTO things (committee_id, name) VALUES (?, ?)", [.integer(1), .text("w\(w)")])
                                tx.emit(.sample(committee: 1, id: "w\(w)"))
                                if w % 3 == 0 { throw Refused() }
                            }
                            return true
                        } catch is Refused {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            XCTAssertEqual(outcomes.filter { $0 }.count, 40)
            let names = try await db.read { try $0.query("SELECT name FROM things", []).map { $0.text("name") } }
            XCTAssertEqual(Set(names), Set((0..<60).filter { $0 % 3 != 0 }.map { "w\($0)" }))
            let events = try await db.read { try EventLog.read(on: $0, after: 0, committees: nil, kinds: [], limit: 1000) }
            XCTAssertEqual(events.map(\.sequence), Array(1...40))
            XCTAssertEqual(Set(events.map(\.draft.entityID)), Set(names))
        }
    }

    func testNotifierWakesWaitersOnCommitAndTimesOut() async throws {
        try await TestEngines.each("notify", migrations: DatabaseTests.table) { db in
            let start = ContinuousClock.now
            await db.notifier.wait(after: 0, timeout: 0.05)
            XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(45))
            async let woke: Void = db.notifier.wait(after: 0, timeout: 30)
            try await Task.sleep(nanoseconds: 20_000_000)
            try await db.write { tx in tx.emit(.sample(committee: 1, id: "x")) }
            let t0 = ContinuousClock.now
            await woke
            XCTAssertLessThan(ContinuousClock.now - t0, .seconds(5))
        }
    }
}

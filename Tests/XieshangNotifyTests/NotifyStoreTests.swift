import XCTest
import XieshangAPI
import XieshangKit
import XieshangStore
import XieshangTestSupport
@testable import XieshangNotify

/// The store on SQLite and PostgreSQL: feeds applied exactly once, inboxes kept apart, reading per
/// account, the outbox.
final class NotifyStoreTests: XCTestCase {
    func withStore(_ name: String, _ body: (NotifyStore) async throws -> Void) async throws {
        try await TestEngines.each(name, make: { config -> NotifyStore in
            let s = NotifyStore(database: try Database(configuration: config))
            try await s.migrate()
            return s
        }, close: { await $0.database.close() }, body)
    }

    func item(_ id: Int64, unit: Int64, committee: Int64 = 2) -> Item {
        var i = Item()
        i.id = id
        i.committeeId = committee
        i.title = "事项\(id)"
        i.state = .routed
        i.unitId = unit
        i.dueDate = "2026-12-20"
        return i
    }

    func routed(_ id: Int64, unit: Int64, sequence: Int64, committee: Int64 = 2) -> Event {
        var before = item(id, unit: 0, committee: committee)
        before.state = .registered
        var e = event(before, item(id, unit: unit, committee: committee), kind: "item", id: id, sequence: sequence)
        e.committeeId = committee
        return e
    }

    func principal(account: Int64, unit: Int64 = 0, member: Int64 = 0, committee: Int64 = 2,
                   roles: [Xieshang_Common_V1_Role] = [.handlingUnit]) -> Xieshang_Common_V1_Principal {
        var p = Xieshang_Common_V1_Principal()
        p.accountId = account
        p.unitId = unit
        p.memberId = member
        p.committeeId = committee
        p.roles = roles
        return p
    }

    func inbox(_ s: NotifyStore, _ p: Xieshang_Common_V1_Principal, unreadOnly: Bool = false) async throws -> ([Xieshang_Notify_V1_Notification], Int) {
        let r = try await s.inbox(account: p.accountId, committee: p.committeeId, addresses: Address.inbox(of: p),
                                  page: PageRequest(size: 100, afterID: 0), unreadOnly: unreadOnly)
        return (r.notifications, r.unread)
    }

    func testAFeedReadAgainMakesNothingTwice() async throws {
        try await withStore("notify_once") { s in
            let batch = [routed(1, unit: 5, sequence: 3), routed(2, unit: 6, sequence: 4)]
            let first = try await s.apply("intake", events: batch)
            XCTAssertEqual([first.notifications, first.deliveries], [2, 0])
            let got1 = try await s.cursor("intake")
            XCTAssertEqual(got1, 4)
            // The same batch again (a stream reopened from an older cursor), and overlapping.
            let again = try await s.apply("intake", events: batch + [routed(3, unit: 5, sequence: 7)], head: 9)
            XCTAssertEqual(again.notifications, 1)
            let got2 = try await s.cursor("intake")
            XCTAssertEqual(got2, 9)
            // Even with the cursor lost, the keys keep each notification single.
            try await s.database.write { try $0.execute("UPDATE feeds SET applied_seq = 0 WHERE name = 'intake'", []) }
            let got3 = try await s.apply("intake", events: batch).notifications
            XCTAssertEqual(got3, 0)
            let (unit5, unread) = try await inbox(s, principal(account: 10, unit: 5))
            XCTAssertEqual(unit5.map(\.entityId), ["3", "1"])
            XCTAssertEqual(unread, 2)
            XCTAssertEqual(unit5.map(\.key), ["intake:7:item.routed:unit:5", "intake:3:item.routed:unit:5"])
            let got4 = try await s.deadlines().map(\.key).sorted()
            XCTAssertEqual(got4, ["item:1", "item:2", "item:3"])
        }
    }

    func testInboxesAreKeptApartAndReadPerAccount() async throws {
        try await withStore("notify_inbox") { s in
            try await s.apply("intake", events: [routed(1, unit: 5, sequence: 1), routed(2, unit: 6, sequence: 2),
                                                 routed(9, unit: 5, sequence: 3, committee: 3)])
            let a = principal(account: 10, unit: 5), b = principal(account: 11, unit: 5), other = principal(account: 12, unit: 6)
            // Unit 5 of committee 2 sees its one; committee 3's notification for a unit 5 is not in it.
            let got5 = try await inbox(s, a).0.map(\.entityId)
            XCTAssertEqual(got5, ["1"])
            let got6 = try await inbox(s, other).0.map(\.entityId)
            XCTAssertEqual(got6, ["2"])
            let got7 = try await inbox(s, principal(account: 13, unit: 5, committee: 3)).0.map(\.entityId)
            XCTAssertEqual(got7, ["9"])
            // Liaison staff read what is addressed to their role; a committee admin too.
            let staff = principal(account: 14, committee: 2, roles: [.liaisonStaff])
            let got8 = try await inbox(s, staff).0
            XCTAssertEqual(got8, [])
            let id = try await inbox(s, a).0[0].id
            let marked = try await s.markRead(account: 10, committee: 2, addresses: Address.inbox(of: a), ids: [id], all: false)
            XCTAssertEqual(marked.marked, 1)
            XCTAssertEqual(marked.unread, 0)
            let got9 = try await inbox(s, a).0.map(\.read)
            XCTAssertEqual(got9, [true])
            // Another account of the same unit has not read it.
            let got10 = try await inbox(s, b).1
            XCTAssertEqual(got10, 1)
            let got11 = try await inbox(s, b, unreadOnly: true).0.count
            XCTAssertEqual(got11, 1)
            // Marking a notification that is not one's own is NOT_FOUND, and marks nothing.
            do {
                _ = try await s.markRead(account: 12, committee: 2, addresses: Address.inbox(of: other), ids: [id], all: false)
                XCTFail("marked another unit's notification")
            } catch let e as DomainError {
                XCTAssertEqual(e.rpcError.code, .notFound)
            }
            let all = try await s.markRead(account: 11, committee: 2, addresses: Address.inbox(of: b), ids: [], all: true)
            XCTAssertEqual(all.marked, 1)
            XCTAssertEqual(all.unread, 0)
            // Newer ones after "all read" are unread again.
            try await s.apply("intake", events: [routed(4, unit: 5, sequence: 8)])
            let got12 = try await inbox(s, b).1
            XCTAssertEqual(got12, 1)
            let got13 = try await s.since(account: 11, committee: 2, addresses: Address.inbox(of: b), afterID: id).map(\.entityId)
            XCTAssertEqual(got13, ["4"])
        }
    }

    func testTicketsAndReminders() async throws {
        try await withStore("notify_ticket") { s in
            var before = item(1, unit: 5)
            before.state = .inProgress
            before.ticketCode = "QN7K3M9P2X"
            var after = before
            after.state = .answered
            after.reply = "已修复"
            try await s.apply("intake", events: [event(before, after, kind: "item", id: 1, sequence: 5)])
            let news = try await s.ticketNews("QN7K3M9P2X", committee: 2)
            XCTAssertEqual(news.notifications.map(\.kind), ["item.replied"])
            XCTAssertEqual(news.unread, 1)
            let got14 = try await s.ticketNews("QN7K3M9P2X", committee: 2).unread
            XCTAssertEqual(got14, 0)
            let got15 = try await s.ticketNews("QN7K3M9P2X", committee: 3).notifications
            XCTAssertEqual(got15, [])

            let d = Deadline(key: "item:2", committee: 2, entityKind: "item", entityID: "2", subject: "答复", due: "2026-12-10", to: [.unit(5)])
            let drafts = Reminders.drafts([d], overdueBy: [-1], soonDays: 3)
            let got16 = try await s.make(reminders: drafts, runOn: "2026-12-08").notifications
            XCTAssertEqual(got16, 1)
            let got17 = try await s.make(reminders: drafts, runOn: "2026-12-08").notifications
            XCTAssertEqual(got17, 0)
            let got18 = try await s.remindersRunOn()
            XCTAssertEqual(got18, "2026-12-08")
        }
    }

    func testTheOutboxFollowsEachWebhooksKindsAndStates() async throws {
        try await withStore("notify_outbox") { s in
            let actor = Actor(accountID: 1, name: "管理员")
            let routedOnly = try await s.setWebhook(StoredWebhook(id: 0, committee: 2, url: "http://127.0.0.1:9/a", secret: "s", kinds: ["item.routed"],
                                                                  disabled: false, label: "短信", version: 0), expectedVersion: 0, actor: actor)
            let reminders = try await s.setWebhook(StoredWebhook(id: 0, committee: 2, url: "http://127.0.0.1:9/b", secret: "s", kinds: ["reminder.*"],
                                                                 disabled: false, label: "", version: 0), expectedVersion: 0, actor: actor)
            _ = try await s.setWebhook(StoredWebhook(id: 0, committee: 3, url: "http://127.0.0.1:9/c", secret: "s", kinds: [],
                                                     disabled: false, label: "", version: 0), expectedVersion: 0, actor: actor)
            let applied = try await s.apply("intake", events: [routed(1, unit: 5, sequence: 1)])
            XCTAssertEqual(applied.deliveries, 1)
            var due = try await s.due(now: Clock.nowMilliseconds() + 1, limit: 10)
            XCTAssertEqual(due.map(\.webhook.id), [routedOnly.id])
            XCTAssertEqual(due[0].notification.kind, "item.routed")
            // A failure schedules the next attempt; past the limit the delivery is dead.
            let now = Clock.nowMilliseconds()
            try await s.recordAttempt(due[0].id, delivered: false, status: 500, error: "HTTP 500", retryAt: now + 60_000, now: now)
            let got19 = try await s.due(now: now + 1, limit: 10).count
            XCTAssertEqual(got19, 0)
            due = try await s.due(now: now + 60_001, limit: 10)
            XCTAssertEqual(due.map(\.attempts), [1])
            try await s.recordAttempt(due[0].id, delivered: false, status: 0, error: "refused", retryAt: nil, now: now)
            let dead = try await s.deliveries(committee: 2, webhook: 0, state: .dead, page: PageRequest(size: 10, afterID: 0)).list
            XCTAssertEqual(dead.map(\.attempts), [2])
            XCTAssertEqual(dead[0].lastError, "refused")
            // Another committee neither sees nor redelivers it.
            do {
                _ = try await s.redeliver(dead[0].id, committee: 3, now: now)
                XCTFail("redelivered another committee's delivery")
            } catch let e as DomainError {
                XCTAssertEqual(e.rpcError.code, .notFound)
            }
            let again = try await s.redeliver(dead[0].id, committee: 2, now: now)
            XCTAssertEqual(again.state, .pending)
            XCTAssertEqual(again.key, dead[0].key)
            try await s.recordAttempt(again.id, delivered: true, status: 204, error: "", retryAt: nil, now: now)
            let hooks = try await s.listWebhooks(committee: 2)
            XCTAssertEqual(hooks.map { [$0.pending, $0.delivered, $0.dead] }, [[0, 1, 0], [0, 0, 0]])
            XCTAssertEqual(hooks.map(\.hasSecret), [true, true])
            // A replacement names the version it saw; a disabled webhook queues nothing.
            var off = StoredWebhook(id: reminders.id, committee: 2, url: "http://127.0.0.1:9/b", secret: "", kinds: [], disabled: true, label: "", version: 0)
            do {
                _ = try await s.setWebhook(off, expectedVersion: 7, actor: actor)
                XCTFail("replaced a webhook at a stale version")
            } catch let e as DomainError {
                XCTAssertEqual(e.rpcError.code, .aborted)
            }
            off.version = 1
            let got20 = try await s.setWebhook(off, expectedVersion: 1, actor: actor).version
            XCTAssertEqual(got20, 2)
            _ = try await s.deleteWebhook(routedOnly.id, committee: 2, actor: actor)
            let got21 = try await s.apply("intake", events: [routed(2, unit: 5, sequence: 2)]).deliveries
            XCTAssertEqual(got21, 0)
        }
    }
}

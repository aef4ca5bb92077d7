import XCTest
import XieshangAPI
import XieshangKit
import XieshangRPC
@testable import XieshangNotify

typealias Event = Xieshang_Events_V1_Event
typealias Item = Xieshang_Intake_V1_Item
typealias Proposal = Xieshang_Proposal_V1_Proposal
typealias Meeting = Xieshang_Consultation_V1_Meeting
typealias Consultation = Xieshang_Consultation_V1_Consultation

/// An event changing `before` into `after` (nil before: a creation) in committee 2.
func event<M: ProtoMessage>(_ before: M?, _ after: M, kind: String, id: Int64 = 1, sequence: Int64 = 10) -> Event {
    var e = Event()
    e.sequence = sequence
    e.committeeId = 2
    e.entityKind = kind
    e.entityId = "\(id)"
    e.eventType = "\(kind).updated"
    e.atUnixMs = 1_765_000_000_000
    e.payloadType = M.protoName
    e.before = before?.serializedBytes() ?? []
    e.after = after.serializedBytes()
    return e
}

/// Who is told what: (kind, recipient) pairs, sorted.
func told(_ o: Outcome) -> [String] { o.drafts.map { "\($0.kind) \($0.to)" }.sorted() }

final class ItemRulesTests: XCTestCase {
    func item(_ state: Xieshang_Intake_V1_ItemState, unit: Int64 = 0) -> Item {
        var i = Item()
        i.id = 42
        i.committeeId = 2
        i.title = "村口路灯不亮"
        i.text = "村口三盏路灯坏了半年"
        i.ticketCode = "QN7K3M9P2X"
        i.bringingMemberId = 7
        i.state = state
        i.unitId = unit
        if unit > 0 { i.dueDate = "2026-12-18" }
        return i
    }

    func testRoutingTellsTheUnitOnceAndKeepsItsDeadline() throws {
        let o = try Rules.outcome(of: event(item(.registered), item(.routed, unit: 5), kind: "item"))
        XCTAssertEqual(told(o), ["item.routed unit:5"])
        XCTAssertTrue(o.drafts[0].body.contains("2026-12-18"), o.drafts[0].body)
        XCTAssertEqual(o.deadlines.map(\.key), ["item:42"])
        XCTAssertEqual(o.deadlines[0].to, [.unit(5), .liaisonStaff])
        XCTAssertEqual(o.itemUnits, [42: 5])
        // A later change of the routed item (a chase) tells no one again.
        var chased = item(.routed, unit: 5)
        chased.chases = [Xieshang_Intake_V1_Chase()]
        XCTAssertEqual(told(try Rules.outcome(of: event(item(.routed, unit: 5), chased, kind: "item"))), [])
        // Routed to another unit after a reroute: the new unit is told.
        XCTAssertEqual(told(try Rules.outcome(of: event(item(.routed, unit: 5), item(.routed, unit: 6), kind: "item"))), ["item.routed unit:6"])
    }

    func testReplyReachesTheBringingMemberAndTheTicketAndClosesTheDeadline() throws {
        var answered = item(.answered, unit: 5)
        answered.reply = "已更换路灯"
        let o = try Rules.outcome(of: event(item(.inProgress, unit: 5), answered, kind: "item"))
        XCTAssertEqual(told(o), ["item.replied member:7", "item.replied ticket:QN7K3M9P2X"])
        XCTAssertTrue(o.drafts.allSatisfy { $0.body.contains("已更换路灯") })
        XCTAssertEqual(o.cleared, ["item:42"])
        XCTAssertEqual(o.deadlines, [])
    }

    func testFeedbackTellsTheTicketAndDissatisfactionTheUnit() throws {
        XCTAssertEqual(told(try Rules.outcome(of: event(item(.answered, unit: 5), item(.fedBack, unit: 5), kind: "item"))), ["item.fed_back ticket:QN7K3M9P2X"])
        var rated = item(.fedBack, unit: 5)
        rated.satisfaction = .dissatisfied
        XCTAssertEqual(told(try Rules.outcome(of: event(item(.fedBack, unit: 5), rated, kind: "item"))), ["item.dissatisfied unit:5"])
        var satisfied = item(.fedBack, unit: 5)
        satisfied.satisfaction = .satisfied
        XCTAssertEqual(told(try Rules.outcome(of: event(item(.fedBack, unit: 5), satisfied, kind: "item"))), [])
    }

    func testRerouteRequestTellsLiaisonStaff() throws {
        var asked = item(.routed, unit: 5)
        asked.rerouteRequested = true
        XCTAssertEqual(told(try Rules.outcome(of: event(item(.routed, unit: 5), asked, kind: "item"))), ["item.reroute_requested staff:3"])
    }

    func testSubmissionTellsNoOne() throws {
        let o = try Rules.outcome(of: event(nil as Item?, item(.received), kind: "item"))
        XCTAssertEqual(told(o), [])
        // Nothing to keep or drop: no write for notify at all.
        XCTAssertEqual(o, Outcome())
    }

    func testInstructionReachesTheUnitsOfTheReportsItemsAndFollowUps() throws {
        var before = Xieshang_Intake_V1_OpinionReport()
        before.id = 3
        before.title = "关于路灯的社情民意"
        before.itemIds = [42, 43, 44]
        var after = before
        var i = Xieshang_Intake_V1_Instruction()
        i.leader = "州委副书记 某某"
        i.text = "请住建局抓紧办理"
        after.instructions = [i]
        var f = Xieshang_Intake_V1_FollowUp()
        f.unitId = 9
        after.followUps = [f]
        let units: [Int64: Int64] = [42: 5, 43: 5, 44: 0]
        let o = try Rules.outcome(of: event(before, after, kind: "report")) { units[$0] ?? 0 }
        XCTAssertEqual(told(o), ["report.instruction unit:5", "report.instruction unit:9"])
        XCTAssertTrue(o.drafts[0].body.contains("请住建局抓紧办理"))
        // Adopting it (no new instruction) tells no one.
        var adopted = after
        adopted.adopted = true
        XCTAssertEqual(told(try Rules.outcome(of: event(after, adopted, kind: "report")) { units[$0] ?? 0 }), [])
    }

    func testUnknownPayloadsTellNoOneAndBadBytesThrow() throws {
        var e = Event()
        e.payloadType = "xieshang.directory.v1.Member"
        e.after = [1, 2, 3]
        XCTAssertEqual(try Rules.outcome(of: e), Outcome())
        e.payloadType = Item.protoName
        e.after = [0xFF, 0xFF, 0xFF]
        XCTAssertThrowsError(try Rules.outcome(of: e))
    }
}

final class ProposalRulesTests: XCTestCase {
    func signer(_ m: Int64, _ s: Xieshang_Proposal_V1_SignatureStatus) -> Xieshang_Proposal_V1_CoSigner {
        var c = Xieshang_Proposal_V1_CoSigner()
        c.memberId = m
        c.status = s
        return c
    }

    func proposal(_ state: Xieshang_Proposal_V1_ProposalState) -> Proposal {
        var p = Proposal()
        p.id = 7
        p.title = "关于加快农村寄递物流体系建设的提案"
        p.leadMemberId = 11
        p.proposerName = "张委员"
        p.state = state
        p.signingDeadline = "2026-12-20"
        return p
    }

    func testCoSignersAreInvitedOnceAndRemindedOfTheDeadlineOnly() throws {
        var p = proposal(.signing)
        p.coSigners = [signer(12, .pending), signer(13, .pending)]
        let o = try Rules.outcome(of: event(nil as Proposal?, p, kind: "proposal"))
        XCTAssertEqual(told(o), ["proposal.cosign_invited member:12", "proposal.cosign_invited member:13"])
        let signing = try XCTUnwrap(o.deadlines.first { $0.key == "signing:7" })
        XCTAssertEqual(signing.to, [.member(12), .member(13)])
        XCTAssertFalse(signing.remindsOverdue)
        // One signs: nobody is invited again, and the reminder is only for the one still pending.
        var signed = p
        signed.coSigners[0].status = .confirmed
        let o2 = try Rules.outcome(of: event(p, signed, kind: "proposal"))
        XCTAssertEqual(told(o2), [])
        XCTAssertEqual(o2.deadlines.first { $0.key == "signing:7" }?.to, [.member(13)])
    }

    func testClosingSigningTellsLeadAndCoSigners() throws {
        var p = proposal(.signing)
        p.coSigners = [signer(12, .confirmed), signer(13, .pending)]
        var closed = p
        closed.state = .submitted
        closed.coSigners[1].status = .lapsed
        let o = try Rules.outcome(of: event(p, closed, kind: "proposal"))
        XCTAssertEqual(told(o), ["proposal.signing_closed member:11", "proposal.signing_closed member:12", "proposal.signing_closed member:13"])
        XCTAssertTrue(o.cleared.contains("signing:7"))
        // Withdrawn while signing: no "closed".
        var withdrawn = p
        withdrawn.state = .withdrawn
        XCTAssertEqual(told(try Rules.outcome(of: event(p, withdrawn, kind: "proposal"))), [])
    }

    func testAssignmentReachesEveryUnitWithADeadline() throws {
        var assigned = proposal(.assigned)
        assigned.leadUnitId = 5
        assigned.coUnitIds = [6]
        assigned.dueDate = "2027-03-01"
        let o = try Rules.outcome(of: event(proposal(.registered), assigned, kind: "proposal"))
        XCTAssertEqual(told(o), ["proposal.assigned unit:5", "proposal.assigned unit:6"])
        XCTAssertEqual(o.deadlines.first { $0.key == "proposal:7" }?.to, [.unit(5), .unit(6), .committeeStaff])
    }

    func testReassignmentDecisionTellsTheAskingUnitAndTheNewOnes() throws {
        var asked = proposal(.reassignRequested)
        asked.leadUnitId = 5
        var r = Xieshang_Proposal_V1_Reassignment()
        r.unitId = 5
        asked.reassignments = [r]
        var decided = asked
        decided.state = .assigned
        decided.leadUnitId = 8
        decided.reassignments[0].decided = true
        decided.reassignments[0].approved = true
        let o = try Rules.outcome(of: event(asked, decided, kind: "proposal"))
        XCTAssertEqual(told(o), ["proposal.assigned unit:8", "proposal.reassignment_decided unit:5", "proposal.reassignment_decided unit:8"])
        var refused = asked
        refused.state = .assigned
        refused.reassignments[0].decided = true
        XCTAssertEqual(told(try Rules.outcome(of: event(asked, refused, kind: "proposal"))), ["proposal.reassignment_decided unit:5"])
    }

    func testReplyTellsTheProposerAndDissatisfactionTheUnits() throws {
        var handling = proposal(.handling)
        handling.leadUnitId = 5
        var replied = handling
        replied.state = .replied
        let o = try Rules.outcome(of: event(handling, replied, kind: "proposal"))
        XCTAssertEqual(told(o), ["proposal.replied member:11"])
        XCTAssertTrue(o.cleared.contains("proposal:7"))
        var evaluated = replied
        var e = Xieshang_Proposal_V1_Evaluation()
        e.satisfaction = .dissatisfied
        evaluated.evaluations = [e]
        evaluated.state = .handling
        XCTAssertEqual(told(try Rules.outcome(of: event(replied, evaluated, kind: "proposal"))), ["proposal.dissatisfied unit:5"])
    }
}

final class ConsultationRulesTests: XCTestCase {
    func invitation(_ n: Int32, member: Int64) -> Xieshang_Consultation_V1_Invitation {
        var i = Xieshang_Consultation_V1_Invitation()
        i.number = n
        i.kind = .member
        i.memberId = member
        return i
    }

    func meeting() -> Meeting {
        var m = Meeting()
        m.id = 3
        m.title = "城区停车难专题协商会"
        m.startsAt = "2026-12-15T09:00"
        m.endsAt = "2026-12-15T11:00"
        m.venueId = 4
        m.venueName = "委员之家"
        m.state = .scheduled
        return m
    }

    func testInvitationsChangesCancellationLeaveAndTalks() throws {
        let empty = meeting()
        var invited = empty
        invited.invitations = [invitation(1, member: 21), invitation(2, member: 22)]
        var official = Xieshang_Consultation_V1_Invitation()
        official.number = 3
        official.kind = .official
        official.unitId = 5
        invited.invitations.append(official)
        XCTAssertEqual(told(try Rules.outcome(of: event(empty, invited, kind: "meeting"))), ["meeting.invited member:21", "meeting.invited member:22"])

        var moved = invited
        moved.startsAt = "2026-12-16T09:00"
        moved.invitations.append(invitation(4, member: 23))
        XCTAssertEqual(told(try Rules.outcome(of: event(invited, moved, kind: "meeting"))),
                       ["meeting.changed member:21", "meeting.changed member:22", "meeting.invited member:23"])

        var asked = invited
        asked.invitations[0].leave = .requested
        var approved = asked
        approved.invitations[0].leave = .approved
        XCTAssertEqual(told(try Rules.outcome(of: event(asked, approved, kind: "meeting"))), ["meeting.leave_decided member:21"])

        var held = invited
        held.state = .held
        var talk = held
        talk.invitations[1].talkNeeded = true
        XCTAssertEqual(told(try Rules.outcome(of: event(held, talk, kind: "meeting"))), ["meeting.talk_needed member:22"])

        var cancelled = invited
        cancelled.state = .cancelled
        XCTAssertEqual(told(try Rules.outcome(of: event(invited, cancelled, kind: "meeting"))), ["meeting.cancelled member:21", "meeting.cancelled member:22"])
    }

    func testResponsibilityListEntriesReachTheirUnitsUntilFedBack() throws {
        var c = Consultation()
        c.id = 5
        c.title = "城区停车难"
        c.step = .resultsSubmitted
        var s = Xieshang_Consultation_V1_Suggestion()
        s.number = 1
        s.text = "增设公共停车位"
        c.suggestions = [s]
        var assigned = c
        assigned.step = .supervising
        assigned.suggestions[0].unitId = 5
        assigned.suggestions[0].dueDate = "2027-01-10"
        let o = try Rules.outcome(of: event(c, assigned, kind: "consultation"))
        XCTAssertEqual(told(o), ["consultation.responsibility_assigned unit:5"])
        XCTAssertEqual(o.deadlines.map(\.key), ["suggestion:5:1"])
        var fed = assigned
        fed.suggestions[0].feedback = "已增设120个车位"
        let o2 = try Rules.outcome(of: event(assigned, fed, kind: "consultation"))
        XCTAssertEqual(told(o2), [])
        XCTAssertEqual(o2.cleared, ["suggestion:5:1"])
    }
}

final class ReminderTests: XCTestCase {
    func testDueSoonOverdueAndQuiet() {
        let d = Deadline(key: "item:42", committee: 2, entityKind: "item", entityID: "42", subject: "答复交办事项「路灯」", due: "2026-12-18",
                         to: [.unit(5), .liaisonStaff])
        var signing = d
        signing.key = "signing:7"
        signing.remindsOverdue = false
        // 2 working days left, 3 overdue, 5 left (quiet), signing 1 overdue (lapses quietly).
        let drafts = Reminders.drafts([d, d, d, signing], overdueBy: [-2, 3, -5, 1], soonDays: 3)
        XCTAssertEqual(drafts.map { "\($0.kind) \($0.to)" }, ["reminder.due_soon unit:5", "reminder.due_soon staff:3", "reminder.overdue unit:5", "reminder.overdue staff:3"])
        XCTAssertEqual(drafts[0].key, "reminder:item:42:2026-12-18:due_soon:unit:5")
        XCTAssertTrue(drafts[2].body.contains("逾期3个工作日"), drafts[2].body)
        XCTAssertTrue(Reminders.drafts([d], overdueBy: [0], soonDays: 3)[0].body.contains("今天"))
    }
}

final class WebhookTests: XCTestCase {
    func testHMACMatchesRFC4231() {
        // RFC 4231 test case 2.
        let mac = WebhookSignature.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(WebhookSignature.hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // A key longer than the block (RFC 4231 test case 6) is hashed first.
        let long = WebhookSignature.hmac(key: [UInt8](repeating: 0xaa, count: 131),
                                         message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        XCTAssertEqual(WebhookSignature.hex(long), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        XCTAssertEqual(WebhookSignature.sign(secret: "Jefe", timestamp: 1, body: Array("x".utf8)),
                       "sha256=" + WebhookSignature.hex(WebhookSignature.hmac(key: Array("Jefe".utf8), message: Array("1.x".utf8))))
    }

    func testBackoffGrowsWithJitterAndStopsAtTheCap() {
        let b = Backoff(baseMilliseconds: 1000, capMilliseconds: 60_000, attempts: 5)
        XCTAssertEqual((1...8).map { b.ceiling(after: $0) }, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000])
        XCTAssertEqual(b.delay(after: 3, unit: 0), 2000)
        XCTAssertEqual(b.delay(after: 3, unit: 0.999_999), 3999)
        XCTAssertEqual(b.ceiling(after: 200), 60_000)
    }

    func testTargetsAreLoopbackOrAllowed() throws {
        let t = try WebhookTarget(url: "http://127.0.0.1:8080/hooks?x=1", allowedHosts: [])
        XCTAssertEqual(t, try WebhookTarget(url: "http://127.0.0.1:8080/hooks?x=1", allowedHosts: ["other"]))
        XCTAssertEqual([t.host, "\(t.port)", t.path, "\(t.secure)"], ["127.0.0.1", "8080", "/hooks?x=1", "false"])
        XCTAssertEqual(try WebhookTarget(url: "https://sms.example.cn/in", allowedHosts: ["*.example.cn"]).port, 443)
        XCTAssertEqual(try WebhookTarget(url: "http://[::1]:9/", allowedHosts: []).host, "::1")
        for bad in ["ftp://127.0.0.1/", "http://10.0.0.5/hook", "https://sms.example.com/", "http://u:p@127.0.0.1/", "127.0.0.1:80", "http:///x"] {
            XCTAssertThrowsError(try WebhookTarget(url: bad, allowedHosts: ["*.example.cn"]), bad) { e in
                XCTAssertEqual((e as? DomainError)?.rpcError.code, .invalidArgument, bad)
            }
        }
    }

    func testKindsFilter() {
        var h = StoredWebhook(id: 1, committee: 2, url: "", secret: "", kinds: [], disabled: false, label: "", version: 1)
        XCTAssertTrue(h.sends("item.routed"))
        h.kinds = ["item.routed", "reminder.*"]
        XCTAssertEqual(["item.routed", "item.replied", "reminder.overdue"].map(h.sends), [true, false, true])
    }
}

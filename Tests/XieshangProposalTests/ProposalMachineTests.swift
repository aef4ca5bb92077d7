import XCTest
import XieshangAPI
import XieshangKit
import XieshangProposal
import XieshangRPC

/// The proposal state machine and unit scoring, without I/O.
final class ProposalMachineTests: XCTestCase {
    static let staff = Participant(roles: [.committeeStaff], name: "提案委")
    static let leadUnit = Participant(roles: [.handlingUnit], unitID: 5, name: "住建局")
    static let coUnit = Participant(roles: [.handlingUnit], unitID: 6, name: "交警队")
    static let proposer = Participant(roles: [.member], memberID: 3, name: "王芳")
    static let coSigner = Participant(roles: [.member], memberID: 4, name: "李强")

    static var commands: [(ProposalCommand, Participant)] {
        let a = Assignment(leadUnitID: 5, coUnitIDs: [6], on: "1970-01-01", dueDate: "1970-04-01", reassignDeadline: "1970-01-08")
        var contact = Xieshang_Proposal_V1_Contact()
        contact.method = .phone
        contact.unitId = 5
        var chase = Xieshang_Proposal_V1_Chase()
        chase.method = .document
        var conversion = Xieshang_Proposal_V1_Conversion()
        conversion.title = "实施意见"
        return [
            (.sign(confirm: true), coSigner), (.closeSigning, proposer), (.withdraw, proposer),
            (.register(number: 1, category: "城建", note: ""), staff), (.decline(reason: "不属于提案范围", referredUnitIDs: [5]), staff),
            (.merge(intoID: 99), staff), (.absorb(duplicateID: 98, memberIDs: [8]), staff), (.assign(a, note: ""), staff),
            (.requestReassignment(reason: "非本单位职责"), leadUnit), (.decideReassignment(nil, note: ""), staff),
            (.contact(contact), leadUnit), (.coOpinion("同意"), coUnit), (.reply(text: "已办", grade: .a), leadUnit),
            (.setKey(true, leaderAccountID: 2, leaderName: "刘主席"), staff), (.chase(chase), staff),
            (.evaluate(.satisfied, comment: "", rehandleDueDate: ""), proposer), (.followUpReview(on: "", findings: "已落实"), staff),
            (.convert(conversion), staff), (.link(kind: .intakeItem, targetID: 12), staff),
            (.revise(Revision(title: "关于改善背街小巷照明的建议", reasons: "夜间照明不足", suggestions: "增设路灯", category: "城建")), proposer),
        ]
    }

    static func proposal(_ state: ProposalState) -> Proposal {
        var p = Proposal()
        p.id = 1
        p.state = state
        p.leadMemberId = 3
        p.leadUnitId = 5
        p.coUnitIds = [6]
        p.key = true
        p.category = "城建"
        var c = Xieshang_Proposal_V1_CoSigner()
        c.memberId = 4
        c.name = "李强"
        c.status = .confirmed
        p.coSigners = [c]
        p.dueDate = "1970-04-01"
        return p
    }

    /// Every command from every state, given by someone entitled to it: allowed exactly from its
    /// source states, FAILED_PRECONDITION naming the state otherwise.
    func testEveryCommandFromEveryState() throws {
        for state in ProposalState.allKnownCases where state != .unspecified {
            for (command, who) in Self.commands {
                do {
                    let (next, type) = try ProposalMachine.apply(command, to: Self.proposal(state), by: who, at: 1000)
                    XCTAssertTrue(ProposalMachine.sources(of: command).contains(state), "\(command.name) from \(state.label) should fail")
                    XCTAssertEqual(next.steps.last?.actor, who.name)
                    XCTAssertTrue(type.hasPrefix("proposal."))
                } catch let e as DomainError {
                    XCTAssertFalse(ProposalMachine.sources(of: command).contains(state), "\(command.name) from \(state.label): \(e)")
                    XCTAssertEqual(e.rpcError.code, .failedPrecondition)
                    XCTAssertTrue(e.rpcError.message.contains("is \(state.label);"), e.rpcError.message)
                }
            }
        }
    }

    /// Everyone other than who may give a command is PERMISSION_DENIED, before the state is looked at.
    func testRolesPerCommand() throws {
        let everyone = [Self.staff, Self.leadUnit, Self.coUnit, Self.proposer, Self.coSigner,
                        Participant(roles: [.leader], name: "领导"), Participant(roles: [.public], name: "群众")]
        for (command, entitled) in Self.commands {
            for who in everyone where who != entitled {
                let state = ProposalMachine.sources(of: command).first!
                do {
                    _ = try ProposalMachine.apply(command, to: Self.proposal(state), by: who, at: 1000)
                    // Some commands have more than one kind of giver (staff record replies, contacts, evaluations).
                    XCTAssertTrue(who == Self.staff || (who == Self.coUnit && ["contacted", "reassignment_requested"].contains(command.name))
                                  || (who.has(.leader) && command.name == "key_set"),
                                  "\(command.name) by \(who.name)")
                } catch let e as DomainError {
                    XCTAssertEqual(e.rpcError.code, .permissionDenied, "\(command.name) by \(who.name): \(e)")
                }
            }
        }
    }

    /// A revision before review: the text changes, and in signing the co-signers who answered
    /// are asked again; the same text changes nothing for them.
    func testRevisionAsksCoSignersAgainWhenTheTextChanged() throws {
        let r = Revision(title: "新标题", reasons: "新案由", suggestions: "新办法", category: "教育")
        let (signing, type) = try ProposalMachine.apply(.revise(r), to: Self.proposal(.signing), by: Self.proposer, at: 1000)
        XCTAssertEqual(type, "proposal.revised")
        XCTAssertEqual([signing.title, signing.reasons, signing.suggestions, signing.category], ["新标题", "新案由", "新办法", "教育"])
        XCTAssertEqual(signing.state, .signing)
        XCTAssertEqual(signing.coSigners.map(\.status), [.pending], "signed the old text")
        XCTAssertTrue(signing.steps.last?.note.contains("co-signers") == true)
        // Only the category changed: the signatures stand.
        var same = Self.proposal(.signing)
        same.title = "旧标题"
        same.reasons = "旧案由"
        same.suggestions = "旧办法"
        let (kept, _) = try ProposalMachine.apply(.revise(Revision(title: "旧标题", reasons: "旧案由", suggestions: "旧办法", category: "教育")),
                                                 to: same, by: Self.proposer, at: 1000)
        XCTAssertEqual(kept.coSigners.map(\.status), [.confirmed])
        // Submitted: staff may correct it too; a co-signer may not.
        let (submitted, _) = try ProposalMachine.apply(.revise(r), to: Self.proposal(.submitted), by: Self.staff, at: 1000)
        XCTAssertEqual(submitted.title, "新标题")
        XCTAssertThrowsError(try ProposalMachine.apply(.revise(r), to: Self.proposal(.submitted), by: Self.coSigner, at: 1000)) {
            XCTAssertEqual(($0 as? DomainError)?.rpcError.code, .permissionDenied)
        }
    }

    func testDissatisfactionSendsItBackAndCounts() throws {
        var p = Self.proposal(.handling)
        (p, _) = try ProposalMachine.apply(.reply(text: "列入计划", grade: .b), to: p, by: Self.leadUnit, at: 86_400_000 * 10)
        XCTAssertEqual(p.reply?.onTime, true)
        XCTAssertEqual(p.reply?.contacted, false)
        let (back, type) = try ProposalMachine.apply(.evaluate(.dissatisfied, comment: "未落实", rehandleDueDate: "1970-05-04"),
                                                    to: p, by: Self.proposer, at: 86_400_000 * 11)
        XCTAssertEqual(type, "proposal.rehandling")
        XCTAssertEqual(back.state, .handling)
        XCTAssertEqual(back.dueDate, "1970-05-04")
        XCTAssertEqual(back.rehandleCount, 1)
        XCTAssertEqual(back.previousReplies.map(\.grade), [.b])
        // A late reply is marked as such.
        let (late, _) = try ProposalMachine.apply(.reply(text: "已办", grade: .a), to: Self.proposal(.handling), by: Self.leadUnit,
                                                 at: 86_400_000 * 200)
        XCTAssertEqual(late.reply?.onTime, false)
    }

    func testUnitScores() throws {
        var criteria = Xieshang_Proposal_V1_ScoringCriteria()
        criteria.timelinessPoints = 40
        criteria.contactPoints = 20
        criteria.qualityPoints = 20
        criteria.satisfactionPoints = 20
        criteria.lateReplyPercent = 50
        criteria.gradeBPercent = 75
        criteria.gradeCPercent = 25
        criteria.basicallySatisfiedPercent = 50
        func replied(unit: Int64, onTime: Bool, contacted: Bool, grade: Xieshang_Proposal_V1_ReplyGrade,
                     _ s: Xieshang_Proposal_V1_Satisfaction) -> Proposal {
            var p = Proposal()
            p.leadUnitId = unit
            p.state = s == .unspecified ? .replied : .evaluated
            var r = Xieshang_Proposal_V1_Reply()
            r.onTime = onTime
            r.contacted = contacted
            r.grade = grade
            p.reply = r
            if s != .unspecified {
                var e = Xieshang_Proposal_V1_Evaluation()
                e.satisfaction = s
                p.evaluations = [e]
            }
            return p
        }
        var overdue = Proposal()
        overdue.leadUnitId = 7
        overdue.state = .handling
        overdue.dueDate = "2026-01-10"
        var notDue = overdue
        notDue.dueDate = "2026-12-31"
        let scores = UnitScoring.score([
            replied(unit: 5, onTime: true, contacted: true, grade: .a, .satisfied),
            replied(unit: 5, onTime: false, contacted: false, grade: .b, .basicallySatisfied),
            replied(unit: 7, onTime: true, contacted: true, grade: .c, .unspecified),
            overdue, notDue,
        ], criteria: criteria, asOf: CivilDate("2026-02-01")!, names: [5: "住建局"])
        // Unit 5: timeliness 40×(1+0.5)/2 = 30, contact 20×0.5 = 10, quality 20×(1+0.75)/2 = 17.5,
        // satisfaction 20×(1+0.5)/2 = 15: 72.5 of 100.
        // Unit 7: timeliness 40×(1+0)/2 = 20 (one on time, one overdue), contact 20, quality 5; no
        // evaluation yet, so 45 of 80 = 56.25.
        XCTAssertEqual(scores.map(\.unitId), [5, 7])
        XCTAssertEqual(scores[0].score, 72.5)
        XCTAssertEqual(scores[0].unitName, "住建局")
        XCTAssertEqual(scores[1].score, 56.3)
        XCTAssertEqual(scores[1].overdue, 1)
        XCTAssertEqual(scores[1].criteria.first { $0.criterion == "satisfaction" }?.judged, 0)
    }

    func testSubmissionRules() throws {
        let today = CivilDate("2026-03-01")!
        var p = Proposal()
        p.proposerKind = .joint
        p.leadMemberId = 3
        p.session = .plenary
        p.title = "  关于加强饮用水源保护的提案 "
        p.reasons = "水源地周边\n存在污染。"
        p.suggestions = "划定保护区。"
        var c = Xieshang_Proposal_V1_CoSigner()
        c.memberId = 4
        c.status = .confirmed
        p.coSigners = [c]
        p.signingDeadline = "2026-03-05"
        p.number = 7
        p.state = .evaluated
        let clean = try ProposalRules.submission(p, today: today)
        XCTAssertEqual(clean.title, "关于加强饮用水源保护的提案")
        XCTAssertEqual(clean.coSigners.map(\.status), [.pending], "co-signers start pending whatever was sent")
        XCTAssertEqual(clean.number, 0, "numbers are not taken from the caller")
        XCTAssertEqual(clean.state, .unspecified)
        p.signingDeadline = "2026-02-28"
        XCTAssertThrowsError(try ProposalRules.submission(p, today: today)) {
            XCTAssertTrue(($0 as? DomainError)?.rpcError.message.hasPrefix("signing_deadline") ?? false)
        }
        XCTAssertEqual(CivilDate("2026-01-31")!.adding(months: 1).description, "2026-02-28")
        XCTAssertEqual(CivilDate("2026-11-30")!.adding(months: 3).description, "2027-02-28")
    }
}

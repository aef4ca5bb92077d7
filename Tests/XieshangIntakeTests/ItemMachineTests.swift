import XCTest
import XieshangAPI
import XieshangIntake
import XieshangKit
import XieshangRPC

/// The state machine and the search grams, without I/O.
final class ItemMachineTests: XCTestCase {
    static let staff = Participant(roles: [.liaisonStaff], name: "联络中心")

    static var commands: [ItemCommand] {
        var link = Xieshang_Intake_V1_Link()
        link.kind = .consultationTopic
        var chase = Xieshang_Intake_V1_Chase()
        chase.method = .phone
        return [
            .register(title: "", category: "民生", townID: 0, villageID: 0, note: ""),
            .merge(intoID: 99), .absorb(duplicateID: 98),
            .route(mode: .phone, unitID: 5, memberID: 0, limitDays: 15, dueDate: "2026-12-01", note: ""),
            .decline(reason: "政策原因"), .escalate(link), .link(kind: .proposalDraft, targetID: 7),
            .acknowledge(note: ""), .requestReroute(reason: "非本单位职责"), .reply("已处理"), .feedBack("已告知群众"),
            .close(.satisfied, comment: "", reopenDueDate: ""), .chase(chase),
        ]
    }

    /// Every command from every state: allowed exactly from its source states (for a participant
    /// entitled to give it), FAILED_PRECONDITION naming the state otherwise.
    func testEveryCommandFromEveryState() throws {
        let unit = Participant(roles: [.handlingUnit], unitID: 5, name: "住建局")
        for state in ItemState.allKnownCases where state != .unspecified {
            for command in Self.commands {
                var item = Item()
                item.id = 1
                item.text = "路灯不亮"
                item.state = state
                item.unitId = 5
                let who = command.name == "reroute_requested" ? unit : Self.staff
                do {
                    let (next, type) = try ItemMachine.apply(command, to: item, by: who, at: 1000)
                    XCTAssertTrue(ItemMachine.sources(of: command).contains(state), "\(command.name) from \(state.label) should fail")
                    XCTAssertEqual(next.steps.last?.actor, who.name)
                    XCTAssertTrue(type.hasPrefix("item."))
                } catch let e as DomainError {
                    XCTAssertFalse(ItemMachine.sources(of: command).contains(state), "\(command.name) from \(state.label): \(e)")
                    XCTAssertEqual(e.rpcError.code, .failedPrecondition)
                    XCTAssertTrue(e.rpcError.message.contains(state.label), e.rpcError.message)
                }
            }
        }
    }

    func testRolesPerCommand() throws {
        var item = Item()
        item.id = 1
        item.state = .registered
        item.unitId = 5
        item.bringingMemberId = 3
        let member = Participant(roles: [.member], memberID: 3, name: "委员")
        XCTAssertThrowsError(try ItemMachine.apply(Self.commands[3], to: item, by: member, at: 0)) {
            XCTAssertEqual(($0 as? DomainError)?.rpcError.code, .permissionDenied)
        }
        item.state = .answered
        // The bringing member relays the answer; another member may not.
        XCTAssertNoThrow(try ItemMachine.apply(.feedBack("已告知"), to: item, by: member, at: 0))
        let stranger = Participant(roles: [.member], memberID: 4, name: "其他委员")
        XCTAssertThrowsError(try ItemMachine.apply(.feedBack("已告知"), to: item, by: stranger, at: 0))
        // Only the unit it is routed to asks for re-routing.
        item.state = .inProgress
        XCTAssertThrowsError(try ItemMachine.apply(.requestReroute(reason: "x"), to: item, by: Participant(roles: [.handlingUnit], unitID: 6, name: "u"), at: 0))
        XCTAssertThrowsError(try ItemMachine.apply(.requestReroute(reason: "x"), to: item, by: Self.staff, at: 0))
    }

    func testDissatisfiedReopens() throws {
        var item = Item()
        item.id = 1
        item.state = .fedBack
        item.reply = "已处理"
        let (reopened, type) = try ItemMachine.apply(.close(.dissatisfied, comment: "没解决", reopenDueDate: "2026-12-20"), to: item,
                                                      by: Participant(roles: [.public], name: "群众"), at: 5)
        XCTAssertEqual(type, "item.reopened")
        XCTAssertEqual(reopened.state, .routed)
        XCTAssertEqual(reopened.dueDate, "2026-12-20")
        XCTAssertEqual(reopened.reopenCount, 1)
        XCTAssertEqual(reopened.reply, "")
        XCTAssertTrue(ItemMachine.isOverdue(reopened, today: CivilDate("2026-12-21")!))
        XCTAssertFalse(ItemMachine.isOverdue(reopened, today: CivilDate("2026-12-20")!))
    }

    func testSearchGrams() {
        XCTAssertEqual(SearchGrams.grams(of: "长期漏水"), ["长期", "期漏", "漏水"])
        XCTAssertEqual(SearchGrams.grams(of: "漏，水"), ["漏", "水"], "punctuation separates")
        XCTAssertEqual(SearchGrams.normalize("ＡＢ　Ｃ"), "ab c")
        XCTAssertEqual(SearchGrams.terms(of: " 墙体　漏水 "), ["墙体", "漏水"])
        XCTAssertEqual(SearchGrams.lookupGram(of: "漏水严重"), "漏水")
    }

    func testTicketCodes() throws {
        let code = ItemRules.newTicketCode()
        XCTAssertEqual(try ItemRules.normalizeTicket(code.lowercased()), code)
        XCTAssertEqual(try ItemRules.normalizeTicket("ab-cde 0o1il"), "ABCDE00111")
        XCTAssertThrowsError(try ItemRules.normalizeTicket("ABC"))
        // 2026-01-01 00:00 in Beijing is 2025-12-31 16:00 UTC.
        XCTAssertEqual(ItemRules.chinaDate(unixMilliseconds: 1_767_196_800_000).description, "2026-01-01")
        XCTAssertEqual(ItemRules.chinaDate(unixMilliseconds: 1_767_196_800_000 - 1).description, "2025-12-31")
    }
}

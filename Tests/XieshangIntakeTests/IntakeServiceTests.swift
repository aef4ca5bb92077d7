import XCTest
import XieshangAPI
import XieshangIntake
import XieshangKit
import XieshangRPC
import XieshangStore
import XieshangTestSupport

final class IntakeServiceTests: XCTestCase {
    /// A QR opinion from submission to closed, with 不满意 reopening it once; the raiser follows
    /// it by ticket and sees no internal names; every step is in the event log.
    func testLifecycleFromTicketToSatisfaction() async throws {
        try await IntakeHarness.each("intake_life") { h in
            let ticket = try await h.submit("营盘社区3栋楼栋墙体长期漏水，希望尽快维修", town: h.town)
            XCTAssertEqual(ticket.state, .received)
            XCTAssertEqual(ticket.ticketCode.count, 10)
            XCTAssertFalse(ticket.canRate)
            let id = try await h.item(ticket).id

            let registered = try await h.register(id)
            XCTAssertEqual(registered.state, .registered)
            XCTAssertFalse(registered.title.isEmpty, "a title is made from the text")
            let routed = try await h.route(id, days: 5)
            XCTAssertEqual(routed.state, .routed)
            XCTAssertEqual(routed.timeLimitDays, 5)
            let due = try XCTUnwrap(CivilDate(routed.dueDate))
            XCTAssertGreaterThanOrEqual(due.dayNumber - ItemRules.chinaDate(unixMilliseconds: h.now.withLockedValue { $0 }).dayNumber, 5,
                                        "five working days are at least five calendar days")

            // Not yet acknowledged: a reply is refused, naming the state.
            await assertStatus(.failedPrecondition, mentioning: "routed", "reply before acknowledging") {
                _ = try await h.reply(id, "已维修")
            }
            // Another unit does not even see it.
            await assertStatus(.notFound, "another unit acknowledges") {
                _ = try await h.client.acknowledgeItem(h.ref(id), options: h.as(.handlingUnit, unit: h.otherUnit))
            }
            let v1 = try await h.client.acknowledgeItem(h.ref(id), options: h.unitCaller).state
            XCTAssertEqual(v1, .inProgress)
            let v2 = try await h.reply(id, "已安排维修队进场").state
            XCTAssertEqual(v2, .answered)
            let answeredTicket = try await h.client.getTicket(ticketRequest(ticket.ticketCode), options: h.as(.public))
            XCTAssertTrue(answeredTicket.canRate)
            XCTAssertEqual(answeredTicket.reply, "已安排维修队进场")
            XCTAssertTrue(answeredTicket.steps.allSatisfy { $0.actor.isEmpty && $0.note.isEmpty }, "the public sees no internal names")

            // 不满意 reopens it: back with the unit, a fresh due date, the reply cleared.
            var rate = Xieshang_Intake_V1_RateTicketRequest()
            rate.ticketCode = ticket.ticketCode.lowercased()
            rate.satisfaction = .dissatisfied
            rate.comment = "还在漏"
            let reopened = try await h.client.rateTicket(rate, options: h.as(.public))
            XCTAssertEqual(reopened.state, .routed)
            XCTAssertFalse(reopened.canRate)
            var item = try await h.client.getItem(get(id), options: h.staff)
            XCTAssertEqual(item.reopenCount, 1)
            XCTAssertEqual(item.reply, "")

            _ = try await h.client.acknowledgeItem(h.ref(id), options: h.unitCaller)
            _ = try await h.reply(id, "已更换防水层")
            var fb = Xieshang_Intake_V1_FeedBackRequest()
            fb.id = id
            fb.content = "委员到社区向居民说明维修结果"
            fb.audienceSize = 30
            let v3 = try await h.client.feedBackItem(fb, options: h.staff).state
            XCTAssertEqual(v3, .fedBack)
            rate.satisfaction = .satisfied
            rate.comment = ""
            let closed = try await h.client.rateTicket(rate, options: h.as(.public))
            XCTAssertEqual(closed.state, .closed)
            XCTAssertEqual(closed.satisfaction, .satisfied)
            await assertStatus(.failedPrecondition, mentioning: "closed", "rating a closed item") {
                _ = try await h.client.rateTicket(rate, options: h.as(.public))
            }

            // The feed-back is also a downward relay.
            let relays = try await h.client.listRelays(Xieshang_Intake_V1_ListRelaysRequest(), options: h.staff)
            XCTAssertEqual(relays.relays.map(\.itemId), [id])
            XCTAssertEqual(relays.audienceTotal, 30)

            item = try await h.client.getItem(get(id), options: h.staff)
            XCTAssertEqual(item.steps.map(\.action), ["received", "registered", "routed", "acknowledged", "answered", "reopened",
                                                      "acknowledged", "answered", "fed_back", "closed"])
            var hist = Xieshang_Events_V1_HistoryRequest()
            hist.entityKind = "item"
            hist.entityId = "\(id)"
            let events = try await h.client.history(hist, options: h.staff).events
            XCTAssertEqual(events.map(\.eventType), ["item.created", "item.registered", "item.routed", "item.acknowledged", "item.answered",
                                                     "item.reopened", "item.acknowledged", "item.answered", "item.fed_back", "item.closed"])
            XCTAssertEqual(events[5].actorName, "张三", "the public rater is the actor")
        }
    }

    /// Who may do what: the roles named by the state machine, and what a unit or member sees.
    func testRolesAndVisibility() async throws {
        try await IntakeHarness.each("intake_roles") { h in
            let mine = try await h.item(try await h.submit("路口红绿灯损坏"))
            let theirs = try await h.item(try await h.submit("河道垃圾堆积"))
            _ = try await h.register(mine.id, category: "交通")
            _ = try await h.register(theirs.id, category: "生态")
            await assertStatus(.permissionDenied, "a member routes") {
                var r = Xieshang_Intake_V1_RouteRequest()
                r.id = mine.id
                r.mode = .phone
                r.unitId = h.unit
                _ = try await h.client.routeItem(r, options: h.as(.member, member: h.member))
            }
            _ = try await h.route(mine.id)
            _ = try await h.route(theirs.id, unit: h.otherUnit)
            let unitView = try await h.list({ _ in }, as: h.unitCaller)
            XCTAssertEqual(unitView.items.map(\.id), [mine.id], "a unit sees only what is routed to it")
            await assertStatus(.notFound, "a unit reads another unit's item") {
                _ = try await h.client.getItem(get(theirs.id), options: h.unitCaller)
            }
            await assertStatus(.permissionDenied, "the public lists items") {
                _ = try await h.list({ _ in }, as: h.as(.public))
            }
            // Another committee: nothing.
            await assertStatus(.notFound, "another committee") {
                _ = try await h.client.getItem(get(mine.id), options: h.as(.liaisonStaff, committee: h.otherCommittee))
            }
            // A unit asks to be re-routed; staff route it elsewhere, and it leaves the unit's list.
            var rr = Xieshang_Intake_V1_RerouteRequest()
            rr.id = mine.id
            rr.reason = "属交警队职责"
            let v4 = try await h.client.requestReroute(rr, options: h.unitCaller).rerouteRequested
            XCTAssertTrue(v4)
            let rerouted = try await h.route(mine.id, unit: h.otherUnit)
            XCTAssertFalse(rerouted.rerouteRequested)
            XCTAssertEqual(rerouted.steps.last?.action, "rerouted")
            let v5 = try await h.list({ _ in }, as: h.unitCaller).items.count
            XCTAssertEqual(v5, 0)

            // A member submits what they bring; they see it, not others'.
            var brought = Xieshang_Intake_V1_Item()
            brought.text = "村里缺少健身器材"
            brought.channel = .stationVisit
            let b = try await h.client.submitItem(brought, options: h.as(.member, member: h.member))
            XCTAssertEqual(b.bringingMemberId, h.member)
            let v6 = try await h.list({ _ in }, as: h.as(.member, member: h.member)).items.map(\.id)
            XCTAssertEqual(v6, [b.id])

            // 直接领办 needs a member who works in the unit, and then that member leads it.
            _ = try await h.register(b.id)
            await assertStatus(.invalidArgument, mentioning: "handling_member_id", "direct lead by an outsider") {
                _ = try await h.route(b.id, mode: .directLead, member: h.member)
            }
            let led = try await h.route(b.id, mode: .directLead, member: h.unitMember)
            XCTAssertEqual(led.handlingMemberId, h.unitMember)
            let v7 = try await h.client.acknowledgeItem(h.ref(b.id), options: h.as(.member, member: h.unitMember)).state
            XCTAssertEqual(v7, .inProgress)
        }
    }

    /// Search over Chinese text through the bigram index, with filters and stable paging.
    func testSearchFiltersAndPaging() async throws {
        try await IntakeHarness.each("intake_search") { h in
            let texts = ["楼栋墙体长期漏水", "小区路灯不亮", "屋顶漏水严重", "学校门口交通拥堵", "Ｗｉ－Ｆｉ信号差", "漏 水", "农村饮水安全"]
            var ids: [Int64] = []
            for (i, t) in texts.enumerated() {
                let item = try await h.item(try await h.submit(t, town: i % 2 == 0 ? h.town : h.otherTown))
                ids.append(item.id)
            }
            let v8 = try await h.list { $0.query = "漏水" }.items.map(\.text)
            XCTAssertEqual(v8, ["楼栋墙体长期漏水", "屋顶漏水严重"])
            let v9 = try await h.list { $0.query = "墙体 漏水" }.items.map(\.text)
            XCTAssertEqual(v9, ["楼栋墙体长期漏水"], "every term must occur")
            let v10 = try await h.list { $0.query = "体漏" }.items.count
            XCTAssertEqual(v10, 0, "bigrams found but not contiguous")
            let v11 = try await h.list { $0.query = "wi-fi" }.items.map(\.text)
            XCTAssertEqual(v11, ["Ｗｉ－Ｆｉ信号差"], "full-width folded")
            let v12 = try await h.list { $0.query = "饮" }.items.map(\.text)
            XCTAssertEqual(v12, ["农村饮水安全"], "one character scans")
            let v13 = try await h.list { $0.query = "漏水"; $0.townId = h.town }.items.map(\.text)
            XCTAssertEqual(v13, ["楼栋墙体长期漏水", "屋顶漏水严重"])
            let v14 = try await h.list { $0.query = "漏水"; $0.townId = h.otherTown }.items.count
            XCTAssertEqual(v14, 0)

            _ = try await h.register(ids[2], category: "民生")
            let v15 = try await h.list { $0.states = [.registered] }.items.map(\.id)
            XCTAssertEqual(v15, [ids[2]])
            let v16 = try await h.list { $0.category = "民生" }.items.map(\.id)
            XCTAssertEqual(v16, [ids[2]])
            let v17 = try await h.list { $0.channel = .qrPoint }.total
            XCTAssertEqual(v17, Int32(texts.count))
            let today = ItemRules.chinaDate(unixMilliseconds: h.now.withLockedValue { $0 }).description
            let v18 = try await h.list { $0.receivedFrom = today; $0.receivedTo = today }.total
            XCTAssertEqual(v18, Int32(texts.count))
            let v19 = try await h.list { $0.receivedFrom = "2099-01-01" }.total
            XCTAssertEqual(v19, 0)

            // Pages of 2 stay stable while an item is added mid-way.
            var seen: [Int64] = []
            var token = ""
            repeat {
                let page = try await h.list { $0.pageSize = 2; $0.pageToken = token }
                XCTAssertEqual(page.total, Int32(texts.count + (seen.isEmpty ? 0 : 1)))
                seen += page.items.map(\.id)
                token = page.nextPageToken
                if seen.count == 2 { _ = try await h.submit("新增的意见") }
            } while !token.isEmpty
            XCTAssertEqual(Array(seen.prefix(texts.count)), ids)
            XCTAssertEqual(seen.count, texts.count + 1)
            // Searching pages too.
            let first = try await h.list { $0.query = "漏水"; $0.pageSize = 1 }
            XCTAssertEqual(first.total, 2)
            let second = try await h.list { $0.query = "漏水"; $0.pageSize = 1; $0.pageToken = first.nextPageToken }
            XCTAssertEqual((first.items + second.items).map(\.id), [ids[0], ids[2]])
            XCTAssertEqual(second.nextPageToken, "")

            // A request looks at a bounded window of candidates: with a window of one, the rare
            // combination 漏水 + 屋顶 (the second candidate of 漏水) comes after an empty page.
            var narrow = IntakeStore(database: h.intakeDB)
            narrow.grams.scanWindow = 1
            narrow.grams.countWindow = 1
            var q = ItemQuery()
            q.terms = ["漏水", "屋顶"]
            var pages: [[Int64]] = []
            var request = PageRequest(size: 20, afterID: 0)
            var flagged = false
            while true {
                let p = try await narrow.list(committee: h.committee, query: q, page: request)
                pages.append(p.items.map(\.id))
                flagged = flagged || p.totalCapped
                guard !p.nextToken.isEmpty else { break }
                request = try PageRequest(size: 20, token: p.nextToken)
            }
            XCTAssertEqual(pages, [[], [ids[2]]], "the first window holds only 楼栋墙体长期漏水")
            XCTAssertTrue(flagged, "the total is a lower bound while candidates are left unscanned")

            // A page looks at a short window first and widens to the whole one when that did not
            // fill it: 70 more items hold 漏水, only the last also 屋顶 (past the short window).
            for i in 0..<69 { _ = try await h.submit("第\(i)户厨房漏水") }
            _ = try await h.submit("顶楼屋顶漏水严重")
            narrow.grams.scanWindow = 200
            narrow.grams.countWindow = 1000
            let wide = try await narrow.list(committee: h.committee, query: q, page: PageRequest(size: 1, afterID: ids[2]))
            XCTAssertEqual(wide.items.count, 1, "found past the first 64 candidates")
            XCTAssertEqual(wide.nextToken, "")
            // Counted over the first candidate only, the total still covers what the first page shows.
            narrow.grams.countWindow = 1
            let counted = try await narrow.list(committee: h.committee, query: q, page: PageRequest(size: 1, afterID: 0))
            XCTAssertEqual(counted.items.map(\.id), [ids[2]])
            XCTAssertEqual(counted.total, 1)
            XCTAssertTrue(counted.totalCapped)
            narrow.grams.countWindow = 1000
            narrow.grams.scanWindow = 50
            let short = try await narrow.list(committee: h.committee, query: q, page: PageRequest(size: 1, afterID: ids[2]))
            XCTAssertEqual(short.items.count, 0, "a window of 50 ends before it")
            XCTAssertNotEqual(short.nextToken, "")

            // Two terms where the other is common (漏水 in 70 items between the 屋顶 candidates):
            // every term must occur (a third 屋顶 without 漏水 stays out), pages, totals and
            // filters as for one term.
            _ = try await h.submit("屋顶瓦片破损")
            narrow.grams.scanWindow = 4000
            var common = ItemQuery()
            common.terms = ["屋顶", "漏水"]
            let both = try await narrow.list(committee: h.committee, query: common, page: PageRequest(size: 1, afterID: 0))
            XCTAssertEqual(both.items.map(\.id), [ids[2]])
            XCTAssertEqual(both.total, 2)
            XCTAssertFalse(both.totalCapped)
            let rest = try await narrow.list(committee: h.committee, query: common, page: try PageRequest(size: 1, token: both.nextToken))
            XCTAssertEqual(rest.items.map(\.text), ["顶楼屋顶漏水严重"])
            XCTAssertEqual(rest.nextToken, "")
            common.states = [.registered]
            let registered = try await narrow.list(committee: h.committee, query: common, page: PageRequest(size: 20, afterID: 0))
            XCTAssertEqual(registered.items.map(\.id), [ids[2]], "filters apply to the intersected candidates")
            common.states = [.received]
            let received = try await narrow.list(committee: h.committee, query: common, page: PageRequest(size: 1, afterID: 0))
            XCTAssertEqual(received.items.map(\.text), ["顶楼屋顶漏水严重"])

            // A new title at registration is searchable.
            var reg = Xieshang_Intake_V1_RegisterRequest()
            reg.id = ids[1]
            reg.title = "照明设施维修"
            reg.category = "民生"
            _ = try await h.client.registerItem(reg, options: h.staff)
            let v20 = try await h.list { $0.query = "照明" }.items.map(\.id)
            XCTAssertEqual(v20, [ids[1]])
        }
    }

    /// Duplicates merge; escalation into an opinion report links both ways; bulletins are numbered.
    func testMergeEscalationReportsAndBulletins() async throws {
        try await IntakeHarness.each("intake_reports") { h in
            let firstTicket = try await h.submit("菜市场周边占道经营")
            let dupTicket = try await h.submit("菜市场门口摆摊堵路")
            let first = try await h.item(firstTicket), dup = try await h.item(dupTicket)
            var m = Xieshang_Intake_V1_MergeRequest()
            m.id = dup.id
            m.intoId = first.id
            let target = try await h.client.mergeItem(m, options: h.staff)
            XCTAssertEqual(target.mergedIds, [dup.id])
            let v21 = try await h.client.getItem(get(dup.id), options: h.staff).state
            XCTAssertEqual(v21, .merged)
            _ = try await h.register(first.id, category: "治理")
            let dupView = try await h.client.getTicket(ticketRequest(dupTicket.ticketCode), options: h.as(.public))
            XCTAssertTrue(dupView.merged)
            XCTAssertEqual(dupView.state, .registered, "a merged opinion follows the item it joined")
            m.id = first.id
            m.intoId = first.id
            await assertStatus(.invalidArgument, mentioning: "into_id", "merging an item into itself") {
                _ = try await h.client.mergeItem(m, options: h.staff)
            }

            var report = Xieshang_Intake_V1_OpinionReport()
            report.title = "关于规范城区占道经营的建议"
            report.body = "近期群众反映……"
            let draft = try await h.client.createReport(report, options: h.staff)
            XCTAssertEqual(draft.state, .draft)
            var esc = Xieshang_Intake_V1_EscalateRequest()
            esc.id = first.id
            esc.kind = .opinionReport
            esc.targetId = draft.id
            let escalated = try await h.client.escalateItem(esc, options: h.staff)
            XCTAssertEqual(escalated.state, .escalated)
            XCTAssertEqual(escalated.links.map(\.targetId), [draft.id])
            let v22 = try await h.client.getReport(get(draft.id), options: h.staff).itemIds
            XCTAssertEqual(v22, [first.id])

            // A proposal draft is linked once the proposal exists.
            let other = try await h.item(try await h.submit("建议增设公交线路"))
            _ = try await h.register(other.id)
            esc.id = other.id
            esc.kind = .proposalDraft
            esc.targetId = 0
            let v23 = try await h.client.escalateItem(esc, options: h.staff).links.first?.targetId
            XCTAssertEqual(v23, 0)
            var link = Xieshang_Intake_V1_LinkRequest()
            link.id = other.id
            link.kind = .proposalDraft
            link.targetId = 41
            let v24 = try await h.client.linkEscalation(link, options: h.as(.committeeStaff)).links.map(\.targetId)
            XCTAssertEqual(v24, [41])

            // A report with a bad item id stores nothing.
            report.itemIds = [other.id, 999_999]
            await assertStatus(.invalidArgument, mentioning: "item_ids[1]", "unknown item in a report") {
                _ = try await h.client.createReport(report, options: h.staff)
            }
            let v25 = try await h.client.listReports(Xieshang_Intake_V1_ListReportsRequest(), options: h.staff).total
            XCTAssertEqual(v25, 1)
            let v26 = try await h.client.getItem(get(other.id), options: h.staff).links.count
            XCTAssertEqual(v26, 1, "the item was not linked")

            report.itemIds = [other.id]
            let second = try await h.client.createReport(report, options: h.staff)
            let v27 = try await h.client.getItem(get(other.id), options: h.staff).links.contains { $0.kind == .opinionReport && $0.targetId == second.id }
            XCTAssertTrue(v27)
            var issue = Xieshang_Intake_V1_IssueBulletinRequest()
            issue.title = "社情民意简报"
            issue.reportIds = [draft.id]
            let b1 = try await h.client.issueBulletin(issue, options: h.staff)
            issue.reportIds = [second.id]
            let b2 = try await h.client.issueBulletin(issue, options: h.staff)
            XCTAssertEqual([b1.number, b2.number], [1, 2])
            await assertStatus(.failedPrecondition, mentioning: "already issued", "issuing twice") {
                _ = try await h.client.issueBulletin(issue, options: h.staff)
            }
            let issued = try await h.client.getReport(get(draft.id), options: h.staff)
            XCTAssertEqual(issued.bulletinLabel, "\(b1.year)年第1期")

            var send = Xieshang_Intake_V1_SendReportRequest()
            send.id = draft.id
            send.recipients = ["县委办公室", "县政府办公室"]
            send.toPrefecture = true
            let v28 = try await h.client.sendReport(send, options: h.staff).state
            XCTAssertEqual(v28, .sent)
            var adopt = Xieshang_Intake_V1_AdoptionRequest()
            adopt.id = draft.id
            adopt.adoptedBy = "州政协"
            let v29 = try await h.client.recordAdoption(adopt, options: h.staff).adopted
            XCTAssertTrue(v29)
            var ins = Xieshang_Intake_V1_InstructionRequest()
            ins.id = draft.id
            var instruction = Xieshang_Intake_V1_Instruction()
            instruction.leader = "县长 某某"
            instruction.text = "请城管局牵头落实"
            ins.instruction = instruction
            await assertStatus(.permissionDenied, "a member writing 批示") { _ = try await h.client.addInstruction(ins, options: h.as(.member, member: h.member)) }
            let v30 = try await h.client.addInstruction(ins, options: h.as(.leader)).instructions.map(\.text)  // a leader writes 批示
            XCTAssertEqual(v30, ["请城管局牵头落实"])
            var fu = Xieshang_Intake_V1_FollowUpRequest()
            fu.id = draft.id
            var followUp = Xieshang_Intake_V1_FollowUp()
            followUp.unitId = 424_242
            followUp.text = "已开展专项整治"
            fu.followUp = followUp
            await assertStatus(.invalidArgument, mentioning: "follow_up.unit_id", "unknown unit") {
                _ = try await h.client.addFollowUp(fu, options: h.staff)
            }
            var adoptedOnly = Xieshang_Intake_V1_ListReportsRequest()
            adoptedOnly.adoptedOnly = true
            let v31 = try await h.client.listReports(adoptedOnly, options: h.staff).reports.map(\.id)
            XCTAssertEqual(v31, [draft.id])
        }
    }

    /// Time limits on the working-day calendar; overdue items in chase lists; chases recorded.
    func testOverdueAndChaseLists() async throws {
        try await IntakeHarness.each("intake_chase") { h in
            let id = try await h.item(try await h.submit("排水沟堵塞")).id
            _ = try await h.register(id)
            let routed = try await h.route(id, days: 1)
            var chase = Xieshang_Intake_V1_ChaseListRequest()
            let v32 = try await h.client.listChase(chase, options: h.staff).entries.count
            XCTAssertEqual(v32, 0, "not overdue yet")
            chase.withinDays = 10
            let v33 = try await h.client.listChase(chase, options: h.staff).entries.map { $0.item?.id ?? 0 }
            XCTAssertEqual(v33, [id], "due within ten days")

            h.advance(days: 10)
            chase.withinDays = 0
            let list = try await h.client.listChase(chase, options: h.staff)
            XCTAssertEqual(list.entries.map { $0.item?.id ?? 0 }, [id])
            // Working days, as the time limit itself is counted (10 calendar days hold at least 6).
            let overdueBy = try await h.directory.workingDays(from: routed.dueDate, to: list.asOf)
            XCTAssertEqual(list.entries.first?.daysOverdue, overdueBy)
            XCTAssertGreaterThan(overdueBy, 5)
            XCTAssertLessThan(overdueBy, 10, "weekends are not counted")
            let v34 = try await h.list { $0.overdueOnly = true }.items.map(\.id)
            XCTAssertEqual(v34, [id])
            let v35 = try await h.client.listChase(chase, options: h.as(.handlingUnit, unit: h.otherUnit)).entries.count
            XCTAssertEqual(v35, 0,
                           "a unit's chase list is its own")

            var c = Xieshang_Intake_V1_ChaseRequest()
            c.id = id
            c.method = .phone
            c.whom = "住建局办公室"
            c.note = "请三日内答复"
            let chased = try await h.client.chaseItem(c, options: h.staff)
            XCTAssertEqual(chased.chases.count, 1)
            XCTAssertEqual(chased.state, .routed, "a chase does not change the state")
            let v36 = try await h.client.listChase(chase, options: h.staff).entries.first?.chaseCount
            XCTAssertEqual(v36, 1)
            chase.asOf = "2026-13-01"
            await assertStatus(.invalidArgument, mentioning: "as_of", "bad date") {
                _ = try await h.client.listChase(chase, options: h.staff)
            }
        }
    }

    /// Bad input names the field and stores nothing.
    func testBadInputStoresNothing() async throws {
        try await IntakeHarness.each("intake_bad") { h in
            var s = Xieshang_Intake_V1_PublicSubmission()
            s.text = "   "
            await assertStatus(.invalidArgument, mentioning: "text", "empty text") {
                _ = try await h.client.submitPublic(s, options: h.as(.public))
            }
            s.text = String(repeating: "长", count: ItemRules.maxText + 1)
            await assertStatus(.invalidArgument, mentioning: "text", "oversized text") {
                _ = try await h.client.submitPublic(s, options: h.as(.public))
            }
            s.text = "正常的意见"
            s.townId = 987_654
            await assertStatus(.invalidArgument, mentioning: "town_id", "unknown town") {
                _ = try await h.client.submitPublic(s, options: h.as(.public))
            }
            s.townId = h.otherTown
            s.villageId = h.village
            await assertStatus(.invalidArgument, mentioning: "village_id", "village of another town") {
                _ = try await h.client.submitPublic(s, options: h.as(.public))
            }
            s.townId = 0
            s.villageId = 0
            s.phone = "not a phone"
            await assertStatus(.invalidArgument, mentioning: "raiser.phone", "bad phone") {
                _ = try await h.client.submitPublic(s, options: h.as(.public))
            }
            s.phone = ""
            s.channel = Xieshang_Intake_V1_Channel(rawValue: 99)
            await assertStatus(.invalidArgument, mentioning: "channel", "unknown channel") {
                _ = try await h.client.submitPublic(s, options: h.as(.public))
            }
            await assertStatus(.unauthenticated, "no principal") {
                _ = try await h.client.submitPublic(s, options: CallOptions(timeout: 10))
            }
            await assertStatus(.notFound, "unknown ticket") {
                _ = try await h.client.getTicket(ticketRequest("ABCDE12345"), options: h.as(.public))
            }
            await assertStatus(.invalidArgument, mentioning: "ticket_code", "malformed ticket") {
                _ = try await h.client.getTicket(ticketRequest("漏水"), options: h.as(.public))
            }
            await assertStatus(.notFound, "unknown item") {
                _ = try await h.register(123_456)
            }
            let v37 = try await h.list { _ in }.total
            XCTAssertEqual(v37, 0, "nothing was stored")
            var head = Xieshang_Events_V1_WatchRequest()
            head.historyOnly = true
            var count = 0
            for try await _ in h.client.watch(head, options: h.staff).responses { count += 1 }
            XCTAssertEqual(count, 0, "no events either")

            // Versions: a stale one is ABORTED, 0 takes whatever is current.
            let item = try await h.item(try await h.submit("有效的意见"))
            var reg = Xieshang_Intake_V1_RegisterRequest()
            reg.id = item.id
            reg.version = item.version + 5
            reg.category = "民生"
            await assertStatus(.aborted, mentioning: "version", "stale version") {
                _ = try await h.client.registerItem(reg, options: h.staff)
            }
            reg.version = item.version
            let v38 = try await h.client.registerItem(reg, options: h.staff).version
            XCTAssertEqual(v38, item.version + 1)
            var route = Xieshang_Intake_V1_RouteRequest()
            route.id = item.id
            route.mode = .phone
            route.unitId = 555_555
            await assertStatus(.invalidArgument, mentioning: "unit_id", "unknown unit") {
                _ = try await h.client.routeItem(route, options: h.staff)
            }
            route.unitId = h.unit
            route.timeLimitDays = 500
            await assertStatus(.invalidArgument, mentioning: "time_limit_days", "too long a time limit") {
                _ = try await h.client.routeItem(route, options: h.staff)
            }
            let v39 = try await h.client.getItem(get(item.id), options: h.staff).state
            XCTAssertEqual(v39, .registered)
        }
    }

    /// Watch sends past item events, then live ones.
    func testWatchSendsPastThenLive() async throws {
        try await IntakeHarness.each("intake_watch") { h in
            let id = try await h.item(try await h.submit("公园厕所需要改造")).id
            var req = Xieshang_Events_V1_WatchRequest()
            req.entityKinds = ["item"]
            let call = h.client.watch(req, options: h.staff)
            var iterator = call.responses.makeAsyncIterator()
            let past = try await iterator.next()
            XCTAssertEqual(past?.eventType, "item.created")
            XCTAssertEqual(try past.map { try Xieshang_Intake_V1_Item(serializedBytes: $0.after).text }, "公园厕所需要改造")
            _ = try await h.register(id)
            let live = try await iterator.next()
            XCTAssertEqual(live?.eventType, "item.registered")
            XCTAssertEqual(try live.map { try Xieshang_Intake_V1_Item(serializedBytes: $0.before).state }, .received)
            call.cancel()
        }
    }
}

func get(_ id: Int64) -> Xieshang_Intake_V1_GetRequest {
    var r = Xieshang_Intake_V1_GetRequest()
    r.id = id
    return r
}

func ticketRequest(_ code: String) -> Xieshang_Intake_V1_TicketRequest {
    var r = Xieshang_Intake_V1_TicketRequest()
    r.ticketCode = code
    return r
}

import XCTest
import XieshangAPI
import XieshangKit
import XieshangProposal
import XieshangRPC
import XieshangStore
import XieshangTestSupport

/// The proposal service over HTTP/2 on both engines, checking references against a real directory.
final class ProposalServiceTests: XCTestCase {
    /// 提、立、交、办、督、评 for a joint proposal, with a 不满意 that sends it back.
    func testJointProposalFromSubmissionToConversion() async throws {
        try await ProposalHarness.each("proposal_story") { h in
            let d = h.directory
            let deadline = h.today.adding(days: 3).description
            var p = try await h.submit("关于加快老旧小区改造的提案", coSigners: [d.unitMember, d.thirdMember], deadline: deadline)
            XCTAssertEqual(p.state, .signing)
            XCTAssertEqual(p.proposerName, "王芳")
            XCTAssertEqual(p.sectorId, d.sector)
            XCTAssertEqual(p.termId, d.term)
            XCTAssertEqual(p.coSigners.map(\.name), ["李强", "张丽"])

            // Review waits for signing; signing waits for every co-signer until the deadline.
            await assertStatus(.failedPrecondition, mentioning: "signing", "register while signing") { _ = try await h.register(p.id) }
            var sign = Xieshang_Proposal_V1_SignRequest()
            sign.id = p.id
            sign.confirm = true
            p = try await h.client.signProposal(sign, options: h.as(.member, member: d.unitMember))
            await assertStatus(.notFound, "a member who is not a co-signer signs (and cannot see it)") {
                _ = try await h.client.signProposal(sign, options: h.as(.member, member: 999))
            }

            // Corrected while signing: the co-signer who signed the old text is asked again.
            var revised = p
            revised.title = "关于加快老旧小区改造和加装电梯的提案"
            revised.suggestions = "分批改造，加装电梯"
            await assertStatus(.permissionDenied, "a co-signer corrects the lead's text") {
                _ = try await h.client.updateProposal(revised, options: h.as(.member, member: d.unitMember))
            }
            revised.title = ""
            await assertStatus(.invalidArgument, mentioning: "title", "an empty title") {
                _ = try await h.client.updateProposal(revised, options: h.proposer)
            }
            revised.title = "关于加快老旧小区改造和加装电梯的提案"
            p = try await h.client.updateProposal(revised, options: h.proposer)
            XCTAssertEqual(p.title, "关于加快老旧小区改造和加装电梯的提案")
            XCTAssertEqual(p.coSigners.map(\.status), [.pending, .pending])
            XCTAssertEqual(p.steps.last?.action, "revised")
            await assertStatus(.aborted, "a stale version") { _ = try await h.client.updateProposal(revised, options: h.proposer) }
            p = try await h.client.signProposal(sign, options: h.as(.member, member: d.unitMember))
            var search = Xieshang_Proposal_V1_ListProposalsRequest()
            search.query = "加装电梯"
            let v0 = try await h.client.listProposals(search, options: h.staff).proposals.map(\.id)
            XCTAssertEqual(v0, [p.id], "the search index follows the new title")

            var close = Xieshang_Proposal_V1_ProposalRef()
            close.id = p.id
            await assertStatus(.failedPrecondition, mentioning: "张丽", "closing while a co-signer has not answered") {
                _ = try await h.client.closeSigning(close, options: h.proposer)
            }
            h.advance(days: 4)
            await assertStatus(.failedPrecondition, mentioning: deadline, "signing after the deadline") {
                _ = try await h.client.signProposal(sign, options: h.as(.member, member: d.thirdMember))
            }
            p = try await h.client.closeSigning(close, options: h.proposer)
            XCTAssertEqual(p.state, .submitted)
            XCTAssertEqual(p.proposerKind, .joint)
            XCTAssertEqual(p.coSigners.map(\.status), [.confirmed, .lapsed])

            // 立: numbered per committee and term.
            p = try await h.register(p.id)
            XCTAssertEqual(p.state, .registered)
            XCTAssertEqual(p.numberLabel, "第1号")
            let second = try await h.register(try await h.submit("关于发展特色农业的提案", category: "农业").id)
            XCTAssertEqual(second.number, 2)
            await assertStatus(.failedPrecondition, mentioning: "registered", "registering twice") { _ = try await h.register(p.id) }
            var late = p
            late.title = "登记后再改"
            await assertStatus(.failedPrecondition, mentioning: "registered", "correcting after review began") {
                _ = try await h.client.updateProposal(late, options: h.proposer)
            }

            // 交: a lead unit and a co-unit; the reply is due three months on, on a working day.
            p = try await h.assign(p.id, co: [d.otherUnit])
            XCTAssertEqual(p.state, .assigned)
            let due = try XCTUnwrap(CivilDate(p.dueDate))
            XCTAssertGreaterThanOrEqual(due, h.today.adding(months: 3))
            XCTAssertLessThan(due, h.today.adding(months: 3).adding(days: 10))
            XCTAssertFalse(due.isWeekend)
            await assertStatus(.invalidArgument, mentioning: "co_unit_ids[0]", "the lead unit again as a co-unit") {
                _ = try await h.assign(p.id, co: [d.unit])
            }

            // 办: contact, the co-unit's opinion, a reply graded B.
            var contact = Xieshang_Proposal_V1_ContactRequest()
            contact.id = p.id
            contact.method = .faceToFace
            contact.note = "与王芳委员面商办理方案"
            p = try await h.client.recordContact(contact, options: h.leadUnit)
            XCTAssertEqual(p.state, .handling)
            XCTAssertEqual(p.contacts.first?.unitId, d.unit)
            var co = Xieshang_Proposal_V1_CoOpinionRequest()
            co.id = p.id
            co.text = "交警队同意配合完善停车设施。"
            await assertStatus(.permissionDenied, "the lead unit gives a co-unit opinion") { _ = try await h.client.submitCoOpinion(co, options: h.leadUnit) }
            p = try await h.client.submitCoOpinion(co, options: h.as(.handlingUnit, unit: d.otherUnit))
            await assertStatus(.permissionDenied, "a co-unit replies") { _ = try await h.reply(p.id, grade: .a, as: h.as(.handlingUnit, unit: d.otherUnit)) }
            p = try await h.reply(p.id, grade: .b)
            XCTAssertEqual(p.state, .replied)
            XCTAssertEqual(p.reply?.grade, .b)
            XCTAssertEqual(p.reply?.onTime, true)
            XCTAssertEqual(p.reply?.contacted, true)

            // 评: 不满意 sends it back with a new due date; then 满意.
            await assertStatus(.invalidArgument, mentioning: "comment", "不满意 without saying why") { _ = try await h.evaluate(p.id, .dissatisfied) }
            await assertStatus(.permissionDenied, "a co-signer evaluates") {
                var r = Xieshang_Proposal_V1_EvaluateRequest()
                r.id = p.id
                r.satisfaction = .satisfied
                _ = try await h.client.evaluateProposal(r, options: h.as(.member, member: d.unitMember))
            }
            p = try await h.evaluate(p.id, .dissatisfied, comment: "未解决停车难问题")
            XCTAssertEqual(p.state, .handling)
            XCTAssertEqual(p.rehandleCount, 1)
            XCTAssertEqual(p.previousReplies.map(\.grade), [.b])
            XCTAssertNil(p.reply)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(CivilDate(p.dueDate)), h.today.adding(months: 1))
            p = try await h.reply(p.id, grade: .a)
            p = try await h.evaluate(p.id, .satisfied)
            XCTAssertEqual(p.state, .evaluated)
            XCTAssertEqual(p.satisfaction, .satisfied)

            // 督 and afterwards: follow-up reviews are of key proposals; conversions are recorded.
            var review = Xieshang_Proposal_V1_FollowUpReviewRequest()
            review.id = p.id
            review.findings = "改造已完成八成"
            await assertStatus(.failedPrecondition, mentioning: "key proposal", "reviewing an ordinary proposal") {
                _ = try await h.client.recordFollowUpReview(review, options: h.staff)
            }
            var key = Xieshang_Proposal_V1_KeyRequest()
            key.id = p.id
            key.key = true
            key.leaderAccountId = 424_242
            await assertStatus(.invalidArgument, mentioning: "leader_account_id", "an unknown leader") { _ = try await h.client.setKeyProposal(key, options: h.staff) }
            key.leaderAccountId = d.leaderAccount
            p = try await h.client.setKeyProposal(key, options: h.as(.leader))  // a leader chooses what it will oversee
            XCTAssertEqual(p.overseeingLeaderName, "刘主席")
            p = try await h.client.recordFollowUpReview(review, options: h.staff)
            var conversion = Xieshang_Proposal_V1_ConversionRequest()
            conversion.id = p.id
            var c = Xieshang_Proposal_V1_Conversion()
            c.title = "《长顺县老旧小区改造实施方案》"
            c.issuer = "县人民政府"
            conversion.conversion = c
            p = try await h.client.recordConversion(conversion, options: h.staff)
            XCTAssertEqual(p.conversions.first?.title, "《长顺县老旧小区改造实施方案》")

            let events = try await h.history(p.id)
            XCTAssertEqual(events, ["proposal.created", "proposal.signed", "proposal.revised", "proposal.signed",
                                    "proposal.signing_closed", "proposal.registered",
                                    "proposal.assigned", "proposal.contacted", "proposal.co_opinion_given", "proposal.replied",
                                    "proposal.rehandling", "proposal.replied", "proposal.evaluated", "proposal.key_set",
                                    "proposal.reviewed", "proposal.converted"])
            XCTAssertEqual(p.steps.count, events.count)
        }
    }

    /// Two registrations at once never share or skip a number; a refused one draws none.
    func testConcurrentRegistrationsAreGapFree() async throws {
        try await ProposalHarness.each("proposal_numbers") { h in
            var ids: [Int64] = []
            for i in 0..<24 { ids.append(try await h.submit("提案\(i)").id) }
            // One is withdrawn: registering it fails and must not use up a number.
            var ref = Xieshang_Proposal_V1_ProposalRef()
            ref.id = ids[5]
            _ = try await h.client.withdrawProposal(ref, options: h.proposer)
            let numbers = try await withThrowingTaskGroup(of: Int32?.self) { group in
                for id in ids {
                    group.addTask {
                        do { return try await h.register(id).number } catch let e as RPCError where e.code == .failedPrecondition { return nil }
                    }
                }
                var out: [Int32] = []
                for try await n in group { if let n { out.append(n) } }
                return out
            }
            XCTAssertEqual(numbers.sorted(), Array(1...23))
            let next = try await h.register(try await h.submit("再一件").id)
            XCTAssertEqual(next.number, 24)
        }
    }

    func testReviewOutcomesAndReassignment() async throws {
        try await ProposalHarness.each("proposal_review") { h in
            let d = h.directory
            // Not registered: a suggestion referred to a unit, which can then read it.
            let a = try await h.submit("关于增设公交线路的提案")
            var decline = Xieshang_Proposal_V1_DeclineRequest()
            decline.id = a.id
            decline.referredUnitIds = [d.otherUnit]
            await assertStatus(.invalidArgument, mentioning: "reason", "declining without a reason") { _ = try await h.client.declineProposal(decline, options: h.staff) }
            decline.reason = "属于具体事务，转为意见建议"
            let declined = try await h.client.declineProposal(decline, options: h.staff)
            XCTAssertEqual(declined.state, .notRegistered)
            var get = Xieshang_Proposal_V1_GetRequest()
            get.id = a.id
            let seen = try await h.client.getProposal(get, options: h.as(.handlingUnit, unit: d.otherUnit))
            XCTAssertEqual(seen.declineReason, "属于具体事务，转为意见建议")
            await assertStatus(.notFound, "a unit it was not referred to") { _ = try await h.client.getProposal(get, options: h.leadUnit) }

            // Merged: the duplicate's proposer joins the other proposal.
            let b = try await h.submit("关于加强校园周边交通安全的提案")
            var dup = Xieshang_Proposal_V1_Proposal()
            dup.proposerKind = .member
            dup.session = .interim
            dup.title = "关于校园交通安全的建议"
            dup.reasons = "上下学高峰拥堵。"
            dup.suggestions = "增设护学岗。"
            let c = try await h.client.submitProposal(dup, options: h.as(.member, member: d.thirdMember))
            var merge = Xieshang_Proposal_V1_MergeRequest()
            merge.id = c.id
            merge.intoId = b.id
            let target = try await h.client.mergeProposal(merge, options: h.staff)
            XCTAssertEqual(target.mergedIds, [c.id])
            XCTAssertEqual(target.mergedMemberIds, [d.thirdMember])
            let mine = try await h.list({ _ in }, as: h.as(.member, member: d.thirdMember))
            XCTAssertEqual(Set(mine.proposals.map(\.id)), [b.id, c.id])

            // Re-assignment: asked within the window, decided by staff.
            _ = try await h.register(b.id)
            var p = try await h.assign(b.id)
            var ask = Xieshang_Proposal_V1_ReassignmentRequest()
            ask.id = p.id
            ask.reason = "校园周边交通由交警队负责"
            await assertStatus(.notFound, "a unit not assigned asks (and cannot see it)") { _ = try await h.client.requestReassignment(ask, options: h.as(.handlingUnit, unit: d.thirdUnit)) }
            p = try await h.client.requestReassignment(ask, options: h.leadUnit)
            XCTAssertEqual(p.state, .reassignRequested)
            var decide = Xieshang_Proposal_V1_ReassignmentDecision()
            decide.id = p.id
            decide.approve = true
            decide.leadUnitId = d.otherUnit
            decide.coUnitIds = [d.unit]
            p = try await h.client.decideReassignment(decide, options: h.staff)
            XCTAssertEqual(p.state, .assigned)
            XCTAssertEqual(p.leadUnitId, d.otherUnit)
            XCTAssertEqual(p.reassignments.map(\.approved), [true])
            // Past the window (five working days by default) a unit can no longer ask.
            h.advance(days: 10)
            await assertStatus(.failedPrecondition, mentioning: p.reassignDeadline, "asking after the window") {
                _ = try await h.client.requestReassignment(ask, options: h.as(.handlingUnit, unit: d.otherUnit))
            }

            // Overdue and chased: the chase list per unit and per overseeing leader.
            var key = Xieshang_Proposal_V1_KeyRequest()
            key.id = p.id
            key.key = true
            key.leaderAccountId = d.leaderAccount
            _ = try await h.client.setKeyProposal(key, options: h.staff)
            var chase = Xieshang_Proposal_V1_ChaseRequest()
            chase.id = p.id
            chase.method = .phone
            chase.whom = "办公室"
            _ = try await h.client.chaseProposal(chase, options: h.staff)
            var list = Xieshang_Proposal_V1_ChaseListRequest()
            list.asOf = try XCTUnwrap(CivilDate(p.dueDate)).adding(days: 7).description
            list.leaderAccountId = d.leaderAccount
            let byLeader = try await h.client.listChase(list, options: h.as(.leader))
            XCTAssertEqual(byLeader.entries.map { $0.proposal?.id }, [p.id])
            // A week past the due date is five working days overdue (the weekend does not count).
            let counted = try await h.directory.workingDays(from: p.dueDate, to: list.asOf)
            XCTAssertEqual(byLeader.entries.first?.daysOverdue, counted)
            XCTAssertEqual(byLeader.entries.first?.daysOverdue, 5)
            XCTAssertEqual(byLeader.entries.first?.chaseCount, 1)
            list.leaderAccountId = 0
            // A unit's list holds what it leads or co-handles, and nothing else.
            let coUnit = try await h.client.listChase(list, options: h.leadUnit)
            XCTAssertEqual(coUnit.entries.map { $0.proposal?.id }, [p.id])
            let unrelated = try await h.client.listChase(list, options: h.as(.handlingUnit, unit: d.thirdUnit))
            XCTAssertEqual(unrelated.entries.count, 0)
        }
    }

    func testListsSearchExportSettingsAndScores() async throws {
        try await ProposalHarness.each("proposal_lists") { h in
            let d = h.directory
            let water = try await h.submit("关于解决农村饮水安全问题的提案", reasons: "部分村组供水管网老化漏水。", category: "农业")
            let school = try await h.submit("关于改善乡村学校办学条件的提案", reasons: "校舍陈旧，饮水设施不足。", category: "教育")
            _ = try await h.submit("关于发展乡村旅游的提案", category: "经济")
            for p in [water, school] { _ = try await h.register(p.id) }
            _ = try await h.assign(water.id)
            _ = try await h.assign(school.id, lead: d.thirdUnit, co: [d.unit])

            let drinking = try await h.list { $0.query = "饮水" }
            XCTAssertEqual(Set(drinking.proposals.map(\.id)), [water.id, school.id])
            let both = try await h.list { $0.query = "饮水 漏水" }
            XCTAssertEqual(both.proposals.map(\.id), [water.id])
            let byUnit = try await h.list { $0.unitId = d.unit }
            XCTAssertEqual(Set(byUnit.proposals.map(\.id)), [water.id, school.id], "lead and co-unit")
            let education = try await h.list { $0.category = "教育"; $0.states = [.assigned] }
            XCTAssertEqual(education.proposals.map(\.id), [school.id])
            let bySector = try await h.list { $0.sectorId = d.sector; $0.session = .plenary }
            XCTAssertEqual(bySector.total, 3)
            // A unit sees only what it handles, whatever it asks for.
            let asUnit = try await h.list({ $0.unitId = d.otherUnit }, as: h.as(.handlingUnit, unit: d.unit))
            XCTAssertEqual(asUnit.proposals.count, 0)
            let own = try await h.list({ _ in }, as: h.as(.handlingUnit, unit: d.thirdUnit))
            XCTAssertEqual(own.proposals.map(\.id), [school.id])

            // CSV for leaders: UTF-8 with a byte-order mark, Chinese intact.
            var export = Xieshang_Proposal_V1_ListProposalsRequest()
            export.states = [.assigned]
            let csv = try await h.client.exportProposals(export, options: h.as(.leader))
            XCTAssertEqual(Array(csv.csv.prefix(3)), [0xEF, 0xBB, 0xBF])
            XCTAssertEqual(csv.rows, 2)
            let rows = try CSV.parse(csv.csv).map(\.fields)
            XCTAssertEqual(rows.first?.first, "案号")
            XCTAssertEqual(rows[1][0], "第1号")
            XCTAssertEqual(rows[1][2], "关于解决农村饮水安全问题的提案")
            XCTAssertEqual(rows[1][9], "县住建局")
            XCTAssertEqual(rows[2][10], "县住建局")

            // Settings: criteria must add up to 100; only the admin changes them.
            var settings = try await h.client.getSettings(Xieshang_Proposal_V1_SettingsRequest(), options: h.staff)
            XCTAssertEqual(settings.replyMonths, 3)
            XCTAssertEqual(settings.criteria?.timelinessPoints, 30)
            settings.criteria?.contactPoints = 30
            await assertStatus(.invalidArgument, mentioning: "110", "criteria over 100") {
                _ = try await h.client.setSettings(settings, options: h.as(.committeeAdmin))
            }
            settings.criteria?.contactPoints = 20
            settings.reassignWindowDays = 3
            await assertStatus(.permissionDenied, "staff change settings") { _ = try await h.client.setSettings(settings, options: h.staff) }
            let saved = try await h.client.setSettings(settings, options: h.as(.committeeAdmin))
            XCTAssertEqual(saved.reassignWindowDays, 3)

            // Scores: the unit that replied on time after contact with grade A and 满意 leads.
            var contact = Xieshang_Proposal_V1_ContactRequest()
            contact.id = water.id
            contact.method = .phone
            _ = try await h.client.recordContact(contact, options: h.leadUnit)
            _ = try await h.reply(water.id, grade: .a)
            _ = try await h.evaluate(water.id, .satisfied)
            _ = try await h.reply(school.id, grade: .c, as: h.as(.handlingUnit, unit: d.thirdUnit))
            let scores = try await h.client.scoreUnits(Xieshang_Proposal_V1_ScoreUnitsRequest(), options: h.as(.leader))
            XCTAssertEqual(scores.units.map(\.unitId), [d.unit, d.thirdUnit])
            XCTAssertEqual(scores.units.first?.score, 100)
            XCTAssertEqual(scores.units.first?.unitName, "县住建局")
            // 县教育局: on time (30 of 30), no contact (0 of 20), grade C (40% of 20 = 8), not evaluated: 38/70.
            XCTAssertEqual(scores.units.last?.score, 54.3)

            var appraisal = Xieshang_Proposal_V1_Appraisal()
            appraisal.unitId = d.thirdUnit
            appraisal.year = 2026
            appraisal.participants = 12
            appraisal.problems = ["答复不及时", "未与委员沟通"]
            appraisal.rating = .basicallySatisfied
            _ = try await h.client.createAppraisal(appraisal, options: h.staff)
            var listAppraisals = Xieshang_Proposal_V1_ListAppraisalsRequest()
            listAppraisals.year = 2026
            let appraisals = try await h.client.listAppraisals(listAppraisals, options: h.as(.handlingUnit, unit: d.unit))
            XCTAssertEqual(appraisals.appraisals.count, 0, "a unit reads only its own appraisals")
            let theirs = try await h.client.listAppraisals(listAppraisals, options: h.as(.handlingUnit, unit: d.thirdUnit))
            XCTAssertEqual(theirs.appraisals.first?.problems, ["答复不及时", "未与委员沟通"])
        }
    }

    /// Bad input is INVALID_ARGUMENT naming the field, and nothing is stored or logged.
    func testBadInputIsRefusedAndNothingIsWritten() async throws {
        try await ProposalHarness.each("proposal_bad_input") { h in
            let d = h.directory
            func base() -> Xieshang_Proposal_V1_Proposal {
                var p = Xieshang_Proposal_V1_Proposal()
                p.proposerKind = .member
                p.session = .plenary
                p.title = "标题"
                p.reasons = "案由"
                p.suggestions = "办法"
                p.leadMemberId = d.member
                return p
            }
            let cases: [(String, (inout Xieshang_Proposal_V1_Proposal) -> Void)] = [
                ("title", { $0.title = "  " }),
                ("title", { $0.title = String(repeating: "长", count: 101) }),
                ("reasons", { $0.reasons = "" }),
                ("suggestions", { $0.suggestions = String(repeating: "办", count: 10_001) }),
                ("proposer_kind", { $0.proposerKind = .UNRECOGNIZED(9) }),
                ("session", { $0.session = .unspecified }),
                ("lead_member_id", { $0.leadMemberId = 999_999 }),
                ("co_signers", { $0.proposerKind = .joint; $0.signingDeadline = "2099-01-01" }),
                ("co_signers", { $0.coSigners = [Xieshang_Proposal_V1_CoSigner()] }),
                ("signing_deadline", { p in
                    p.proposerKind = .joint
                    var c = Xieshang_Proposal_V1_CoSigner()
                    c.memberId = d.unitMember
                    p.coSigners = [c]
                    p.signingDeadline = "2099-13-01"
                }),
                ("co_signers[0].member_id", { p in
                    p.proposerKind = .joint
                    var c = Xieshang_Proposal_V1_CoSigner()
                    c.memberId = d.member
                    p.coSigners = [c]
                    p.signingDeadline = "2099-01-01"
                }),
                ("sector_id", { $0.proposerKind = .sectorGroup; $0.sectorId = 0 }),
                ("sector_id", { $0.proposerKind = .sectorGroup; $0.sectorId = 88_888 }),
                ("special_committee_id", { $0.proposerKind = .specialCommittee; $0.specialCommitteeId = 77_777 }),
                ("term_id", { $0.termId = 66_666 }),
                ("links[0].kind", { p in
                    var l = Xieshang_Proposal_V1_Link()
                    l.targetId = 3
                    p.links = [l]
                }),
            ]
            for (field, change) in cases {
                var p = base()
                change(&p)
                await assertStatus(.invalidArgument, mentioning: field, "bad \(field)") { _ = try await h.client.submitProposal(p, options: h.staff) }
            }
            // A member cannot submit for someone else, nor for a group.
            var other = base()
            other.leadMemberId = d.thirdMember
            await assertStatus(.invalidArgument, mentioning: "lead_member_id", "for another member") { _ = try await h.client.submitProposal(other, options: h.proposer) }
            var group = base()
            group.proposerKind = .partyGroup
            group.partyId = d.party
            await assertStatus(.permissionDenied, "a member for a party group") { _ = try await h.client.submitProposal(group, options: h.proposer) }
            await assertStatus(.permissionDenied, "a unit submits") { _ = try await h.client.submitProposal(base(), options: h.leadUnit) }
            let none = try await h.list { _ in }
            XCTAssertEqual(none.total, 0)
            let log = try await h.database.read { try EventLog.head(on: $0) }
            XCTAssertEqual(log, 0, "no event was written")

            // Staff submit a party group's proposal; its name comes from the directory.
            let party = try await h.client.submitProposal(group, options: h.staff)
            XCTAssertEqual(party.proposerName, "民盟")
            // Another committee's proposal does not exist for this one.
            var get = Xieshang_Proposal_V1_GetRequest()
            get.id = party.id
            await assertStatus(.notFound, "another county reads it") {
                _ = try await h.client.getProposal(get, options: h.as(.committeeStaff, committee: d.otherCommittee))
            }
            await assertStatus(.aborted, "a stale version") {
                var r = Xieshang_Proposal_V1_RegisterRequest()
                r.id = party.id
                r.version = 9
                r.category = "经济"
                _ = try await h.client.registerProposal(r, options: h.staff)
            }
            await assertStatus(.invalidArgument, mentioning: "category", "registering without a category") { _ = try await h.register(party.id) }
            let head = try await h.database.read { try EventLog.head(on: $0) }
            XCTAssertEqual(head, 1, "only the party group's submission was logged")
        }
    }
}

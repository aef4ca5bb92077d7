import XCTest
import XieshangAPI
import XieshangConsultation
import XieshangKit
import XieshangRPC
import XieshangStore
import XieshangTestSupport

/// The consultation service over HTTP/2 on both engines, checking references against a real directory.
final class ConsultationServiceTests: XCTestCase {
    /// Plan → topic → the eight steps → archive, with the research gate, leave, sign-in and the
    /// three lists.
    func testConsultationThroughTheEightSteps() async throws {
        try await ConsultationHarness.each("consultation_story") { h in
            let d = h.directory
            // The annual plan: drafted, submitted, approved by the party committee, published.
            var plan = Plan()
            plan.year = 2026
            plan.title = "2026年度协商计划"
            var entry = Xieshang_Consultation_V1_PlanEntry()
            entry.topic = "推进老旧小区改造"
            entry.form = .thematic
            entry.plannedMonth = 3
            entry.leadSpecialCommitteeId = d.specialCommittee
            plan.entries = [entry]
            plan = try await h.client.createPlan(plan, options: h.staff)
            XCTAssertEqual(plan.state, .draft)
            await assertStatus(.alreadyExists, mentioning: "year", "a second plan for 2026") { _ = try await h.client.createPlan(plan, options: h.staff) }
            var action = Xieshang_Consultation_V1_PlanAction()
            action.id = plan.id
            await assertStatus(.failedPrecondition, mentioning: "draft", "approving a draft") { _ = try await h.client.approvePlan(action, options: h.admin) }
            plan = try await h.client.submitPlan(action, options: h.staff)
            action.note = "县委常委会"
            await assertStatus(.permissionDenied, "staff approving") { _ = try await h.client.approvePlan(action, options: h.staff) }
            await assertStatus(.permissionDenied, "a member approving") { _ = try await h.client.approvePlan(action, options: h.as(.member)) }
            plan = try await h.client.approvePlan(action, options: h.as(.leader))  // the committee's leaders approve the plan
            XCTAssertEqual(plan.approvedBy, "县委常委会")
            XCTAssertEqual(plan.approvedOn, "2026-03-02")
            plan = try await h.client.publishPlan(action, options: h.staff)
            XCTAssertEqual(plan.state, .published)

            // 委员荐题: a member suggests; staff shortlist and choose.
            var t = Topic()
            t.title = "老旧小区加装电梯"
            t.category = "城建"
            var topic = try await h.client.proposeTopic(t, options: h.as(.member, member: d.member))
            XCTAssertEqual(topic.source, .member)
            XCTAssertEqual(topic.proposerName, "王芳")
            var ta = Xieshang_Consultation_V1_TopicAction()
            ta.id = topic.id
            var c = Consultation()
            c.topicId = topic.id
            c.form = .thematic
            c.level = .county
            c.hostMemberId = d.member
            c.planId = plan.id
            c.planEntry = 0
            c.unitIds = [d.unit]
            await assertStatus(.failedPrecondition, mentioning: "proposed", "starting from a topic not chosen") {
                _ = try await h.client.createConsultation(c, options: h.staff)
            }
            topic = try await h.client.shortlistTopic(ta, options: h.staff)
            topic = try await h.client.chooseTopic(ta, options: h.staff)
            XCTAssertEqual(topic.state, .chosen)
            c = try await h.client.createConsultation(c, options: h.staff)
            XCTAssertEqual(c.step, .topicChosen)
            XCTAssertEqual(c.title, "老旧小区加装电梯")
            XCTAssertEqual(c.hostName, "王芳")
            var get = Xieshang_Consultation_V1_GetRequest()
            get.id = topic.id
            let v1 = try await h.client.getTopic(get, options: h.staff).links.map(\.targetId)
            XCTAssertEqual(v1, [c.id])
            await assertStatus(.alreadyExists, "a second consultation from the same topic") { _ = try await h.client.createConsultation(c, options: h.staff) }

            // A meeting can be scheduled, but not held before research (不调研不协商).
            let meeting = try await h.meeting(c.id, "2026-03-10T09:00", "2026-03-10T11:30", invite: [
                h.invitation(member: d.unitMember), h.invitation(member: d.thirdMember, required: false),
            ])
            XCTAssertEqual(meeting.invitations.map(\.name), ["李强", "张丽"])
            var official = Invitation()
            official.kind = .official
            official.unitId = d.unit
            official.name = "赵局长"
            var invite = Xieshang_Consultation_V1_InviteRequest()
            invite.id = meeting.id
            invite.invitations = [official]
            _ = try await h.client.invite(invite, options: h.staff)
            h.set("2026-03-10T09:05")
            var ref = Xieshang_Consultation_V1_MeetingRef()
            ref.id = meeting.id
            await assertStatus(.failedPrecondition, mentioning: "不调研不协商", "holding before research") {
                _ = try await h.client.holdMeeting(ref, options: h.staff)
            }
            h.set("2026-03-02T10:00")
            var mp = Xieshang_Consultation_V1_MakePlanRequest()
            mp.id = c.id
            mp.workPlan = "分三组调研，3月10日召开专题协商会。"
            c = try await h.client.makeConsultationPlan(mp, options: h.staff)
            var report = Xieshang_Consultation_V1_ReportRequest()
            report.id = c.id
            report.text = "调研报告"
            await assertStatus(.failedPrecondition, mentioning: "no research", "a report without research") {
                _ = try await h.client.submitResearchReport(report, options: h.staff)
            }
            var rr = Xieshang_Consultation_V1_ResearchRequest()
            rr.id = c.id
            var activity = Xieshang_Consultation_V1_ResearchActivity()
            activity.on = "2026-03-03"
            activity.place = "营盘社区"
            activity.summary = "走访12栋老旧住宅楼。"
            activity.memberIds = [d.member, d.unitMember]
            rr.activity = activity
            c = try await h.client.recordResearch(rr, options: h.staff)
            // A week: five working days after Tuesday 3 March.
            XCTAssertEqual(c.researchReportDue, "2026-03-10")
            c = try await h.client.submitResearchReport(report, options: h.staff)
            XCTAssertEqual(c.step, .researched)

            // Invitations: 张丽 asks for leave and is refused, 李强 signs in; 张丽 does not come.
            var leave = Xieshang_Consultation_V1_LeaveRequest()
            leave.meetingId = meeting.id
            leave.number = 2
            leave.reason = "出差"
            await assertStatus(.permissionDenied, "another member asking leave for 张丽") {
                _ = try await h.client.requestLeave(leave, options: h.as(.member, member: d.member))
            }
            var m = try await h.client.requestLeave(leave, options: h.as(.member, member: d.thirdMember))
            XCTAssertEqual(m.invitations[1].leave, .requested)
            var decision = Xieshang_Consultation_V1_LeaveDecision()
            decision.meetingId = meeting.id
            decision.number = 2
            decision.approve = false
            decision.note = "会议重要，请调整行程"
            m = try await h.client.decideLeave(decision, options: h.staff)
            XCTAssertEqual(m.invitations[1].leave, .refused)
            var signIn = Xieshang_Consultation_V1_InvitationRef()
            signIn.meetingId = meeting.id
            signIn.number = 1
            await assertStatus(.failedPrecondition, mentioning: "sign-in opens", "signing in a week early") {
                _ = try await h.client.signIn(signIn, options: h.as(.member, member: d.unitMember))
            }
            h.set("2026-03-10T08:50")
            m = try await h.client.signIn(signIn, options: h.as(.member, member: d.unitMember))
            XCTAssertNotEqual(m.invitations[0].signedInAtUnixMs, 0)
            h.set("2026-03-10T11:40")
            m = try await h.client.holdMeeting(ref, options: h.staff)
            XCTAssertEqual(m.state, .held)
            XCTAssertEqual(m.invitations.map(\.talkNeeded), [false, true, false])
            // Held, it keeps its room until it ends; nobody can book the rest of the morning.
            var slot = Xieshang_Consultation_V1_SlotRequest()
            slot.venueId = d.room
            slot.startsAt = "2026-03-10T11:00"
            slot.endsAt = "2026-03-10T12:00"
            let held = try await h.client.checkConflicts(slot, options: h.staff).conflicts
            XCTAssertEqual(held.map(\.meetingId), [meeting.id])
            var talks = Xieshang_Consultation_V1_ListMeetingsRequest()
            talks.talksPending = true
            let v2 = try await h.client.listMeetings(talks, options: h.staff).meetings.map(\.id)
            XCTAssertEqual(v2, [meeting.id])
            var talk = Xieshang_Consultation_V1_TalkRequest()
            talk.meetingId = meeting.id
            talk.number = 2
            talk.note = "已约谈，说明缺席原因"
            _ = try await h.client.recordTalk(talk, options: h.staff)
            let v3 = try await h.client.listMeetings(talks, options: h.staff).meetings.count
            XCTAssertEqual(v3, 0)

            get.id = c.id
            c = try await h.client.getConsultation(get, options: h.staff)
            XCTAssertEqual(c.step, .meetingHeld)
            XCTAssertEqual(c.heldOn, "2026-03-10")
            // Results three working days after Tuesday's meeting.
            XCTAssertEqual(c.resultsDue, "2026-03-13")

            // Results late: the chase list shows them on Monday 16 March.
            h.set("2026-03-16T09:00")
            var chase = Xieshang_Consultation_V1_ChaseListRequest()
            var due = try await h.client.listChase(chase, options: h.staff).entries
            XCTAssertEqual(due.map(\.kind), [.results])
            XCTAssertEqual(due.map(\.overdue), [true])
            var results = Xieshang_Consultation_V1_ResultsRequest()
            results.id = c.id
            results.suggestions = ["建立加装电梯财政补贴机制", "简化审批流程"]
            c = try await h.client.submitResults(results, options: h.staff)
            XCTAssertFalse(c.resultsOnTime)

            // Responsibility list: each suggestion a unit and a due date.
            var resp = Xieshang_Consultation_V1_ResponsibilitiesRequest()
            resp.id = c.id
            var r1 = Xieshang_Consultation_V1_Responsibility()
            r1.suggestionNumber = 1
            r1.unitId = d.unit
            r1.dueDate = "2026-04-30"
            resp.responsibilities = [r1]
            await assertStatus(.invalidArgument, mentioning: "suggestion 2", "a suggestion left without a unit") {
                _ = try await h.client.assignResponsibilities(resp, options: h.staff)
            }
            var r2 = r1
            r2.suggestionNumber = 2
            r2.unitId = d.otherUnit
            r2.dueDate = ""
            resp.responsibilities = [r1, r2]
            c = try await h.client.assignResponsibilities(resp, options: h.staff)
            XCTAssertEqual(c.step, .supervising)
            XCTAssertEqual(c.suggestions.map(\.unitId), [d.unit, d.otherUnit])
            XCTAssertEqual(c.suggestions[1].dueDate, "2026-04-13")

            // Units: each sees its own responsibility; 县住建局 reports on time, 县交警队 late.
            var fb = Xieshang_Consultation_V1_FeedbackRequest()
            fb.id = c.id
            fb.suggestionNumber = 2
            fb.text = "已完成"
            await assertStatus(.permissionDenied, "a unit reporting on another's suggestion") {
                _ = try await h.client.recordFeedback(fb, options: h.as(.handlingUnit, unit: d.unit))
            }
            await assertStatus(.notFound, "a unit with nothing to do with it") {
                _ = try await h.client.recordFeedback(fb, options: h.as(.handlingUnit, unit: d.thirdUnit))
            }
            fb.suggestionNumber = 1
            fb.text = "已出台补贴办法"
            c = try await h.client.recordFeedback(fb, options: h.as(.handlingUnit, unit: d.unit))
            h.set("2026-04-14T09:00")
            chase.unitId = d.otherUnit
            due = try await h.client.listChase(chase, options: h.staff).entries
            XCTAssertEqual(due.map(\.suggestionNumber), [2])
            let v4 = try await h.client.listChase(Xieshang_Consultation_V1_ChaseListRequest(), options: h.as(.handlingUnit, unit: d.unit)).entries.count
            XCTAssertEqual(v4, 0)
            var feedBack = Xieshang_Consultation_V1_ReportRequest()
            feedBack.id = c.id
            feedBack.text = "已向提出建议的委员和社区反馈"
            await assertStatus(.failedPrecondition, mentioning: "2", "feeding back before every unit reported") {
                _ = try await h.client.feedBackResults(feedBack, options: h.staff)
            }
            fb.suggestionNumber = 2
            fb.text = "已简化为一站式审批"
            c = try await h.client.recordFeedback(fb, options: h.as(.handlingUnit, unit: d.otherUnit))
            XCTAssertEqual(c.suggestions.map(\.feedbackOnTime), [true, false])
            c = try await h.client.feedBackResults(feedBack, options: h.staff)
            var archive = Xieshang_Consultation_V1_ConsultationRef()
            archive.id = c.id
            c = try await h.client.archiveConsultation(archive, options: h.staff)
            XCTAssertEqual(c.step, .archived)

            // The archive gathers it all.
            let a = try await h.client.getArchive(get, options: h.as(.leader))
            XCTAssertEqual(a.planEntry?.topic, "推进老旧小区改造")
            XCTAssertEqual(a.planYear, 2026)
            XCTAssertEqual(a.topic?.title, "老旧小区加装电梯")
            XCTAssertEqual(a.attendance.first?.signedIn, 1)
            XCTAssertEqual(a.attendance.first?.absent, ["张丽"])
            XCTAssertEqual(a.consultation?.research.count, 1)
            XCTAssertEqual(a.consultation?.suggestions.map(\.feedback), ["已出台补贴办法", "已简化为一站式审批"])

            let v5 = try await h.history("consultation", c.id)
            XCTAssertEqual(v5, [
                "consultation.created", "consultation.planned", "consultation.research_recorded", "consultation.researched",
                "consultation.meeting_held", "consultation.results_submitted", "consultation.responsibilities_assigned",
                "consultation.feedback_recorded", "consultation.feedback_recorded", "consultation.fed_back", "consultation.archived",
            ])
            let v6 = try await h.history("meeting", meeting.id)
            XCTAssertEqual(v6, [
                "meeting.created", "meeting.invited", "meeting.leave_requested", "meeting.leave_refused", "meeting.signed_in",
                "meeting.held", "meeting.talk_recorded",
            ])
            await assertStatus(.notFound, "another county reads it") {
                _ = try await h.client.getConsultation(get, options: h.as(.committeeStaff, committee: d.otherCommittee))
            }
        }
    }

    /// No venue or required person is double-booked; the refusal names the other meeting; moving
    /// or cancelling frees the slot; concurrent bookings of one slot let exactly one through.
    func testDoubleBookingNamesTheOtherMeeting() async throws {
        try await ConsultationHarness.each("consultation_booking") { h in
            let d = h.directory
            let a = try await h.consultation("城区停车难问题")
            let b = try await h.consultation("农村饮水安全")
            let first = try await h.meeting(a.id, "2026-03-05T09:00", "2026-03-05T11:00", invite: [h.invitation(member: d.unitMember)])
            await assertStatus(.failedPrecondition, mentioning: "meeting \(first.id) (城区停车难问题)", "the same room overlapping") {
                _ = try await h.meeting(b.id, "2026-03-05T10:30", "2026-03-05T12:00")
            }
            // Another room, but the host (王芳 hosts both) is taken.
            await assertStatus(.failedPrecondition, mentioning: "member \(d.member)", "the same host elsewhere") {
                _ = try await h.meeting(b.id, "2026-03-05T10:30", "2026-03-05T12:00", venue: d.station)
            }
            // Back to back is fine.
            let second = try await h.meeting(b.id, "2026-03-05T11:00", "2026-03-05T12:00")

            var slot = Xieshang_Consultation_V1_SlotRequest()
            slot.venueId = d.station
            slot.memberIds = [d.unitMember, d.thirdMember]
            slot.startsAt = "2026-03-05T08:00"
            slot.endsAt = "2026-03-05T09:30"
            let conflicts = try await h.client.checkConflicts(slot, options: h.staff).conflicts
            XCTAssertEqual(conflicts.map(\.resource), ["member"])
            XCTAssertEqual(conflicts.map(\.resourceId), [d.unitMember])
            XCTAssertEqual(conflicts.map(\.meetingId), [first.id])

            // A required invitee is booked, and checked when added; an optional one is not.
            let third = try await h.meeting(try await h.consultation("学前教育", configure: { $0.hostMemberId = d.thirdMember }).id,
                                            "2026-03-05T09:30", "2026-03-05T10:30", venue: d.station)
            var invite = Xieshang_Consultation_V1_InviteRequest()
            invite.id = third.id
            invite.invitations = [h.invitation(member: d.unitMember)]
            await assertStatus(.failedPrecondition, mentioning: "member \(d.unitMember)", "a required invitee who is elsewhere") {
                _ = try await h.client.invite(invite, options: h.staff)
            }
            let v7 = try await h.client.getMeeting(.with { $0.id = third.id }, options: h.staff).invitations.count
            XCTAssertEqual(v7, 0)
            invite.invitations = [h.invitation(member: d.unitMember, required: false)]
            let v8 = try await h.client.invite(invite, options: h.staff).invitations.map(\.name)
            XCTAssertEqual(v8, ["李强"])

            // Moving the first meeting frees its old slot.
            var move = Xieshang_Consultation_V1_RescheduleRequest()
            move.id = first.id
            move.startsAt = "2026-03-05T11:30"
            move.endsAt = "2026-03-05T12:30"
            await assertStatus(.failedPrecondition, mentioning: "meeting \(second.id)", "moving onto the second meeting") {
                _ = try await h.client.rescheduleMeeting(move, options: h.staff)
            }
            move.startsAt = "2026-03-06T09:00"
            move.endsAt = "2026-03-06T11:00"
            _ = try await h.client.rescheduleMeeting(move, options: h.staff)
            let v9 = try await h.client.checkConflicts(slot, options: h.staff).conflicts.count
            XCTAssertEqual(v9, 0)
            var cancel = Xieshang_Consultation_V1_CancelRequest()
            cancel.id = second.id
            cancel.reason = "议题调整"
            _ = try await h.client.cancelMeeting(cancel, options: h.staff)
            _ = try await h.meeting(b.id, "2026-03-05T10:30", "2026-03-05T12:00")

            // Eight consultations race for one room at one time: exactly one books it.
            var racers: [Int64] = []
            for i in 0..<8 { racers.append(try await h.consultation("并发预订\(i)", configure: { $0.hostMemberId = d.thirdMember }).id) }
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for id in racers {
                    group.addTask {
                        (try? await h.meeting(id, "2026-03-20T14:00", "2026-03-20T16:00", venue: d.station)) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            XCTAssertEqual(outcomes.filter { $0 }.count, 1)
            let v10 = try await h.database.read {
                try $0.query("SELECT COUNT(*) AS n FROM bookings WHERE resource = ? AND start_min = ?",
                             [.text("v:\(d.station)"), .integer(ChinaTime("2026-03-20T14:00")!.minutes)]).first?.int("n")
            }
            XCTAssertEqual(v10, 1)
        }
    }

    /// Free slots skip bookings, weekends and hours outside the day; a roster rotates a station's
    /// members and skips whoever is at a meeting; meetings then run into duty shifts.
    func testFreeSlotsAndDutyRoster() async throws {
        try await ConsultationHarness.each("consultation_slots") { h in
            let d = h.directory
            let c = try await h.consultation("养老服务")
            _ = try await h.meeting(c.id, "2026-03-06T09:00", "2026-03-06T12:00", invite: [h.invitation(member: d.unitMember)])
            var free = Xieshang_Consultation_V1_FreeSlotsRequest()
            free.venueId = d.room
            free.memberIds = [d.unitMember]
            free.from = "2026-03-06"
            free.to = "2026-03-09"
            free.durationMinutes = 120
            free.dayStart = "08:30"
            free.dayEnd = "17:30"
            let slots = try await h.client.findFreeSlots(free, options: h.staff).slots
            // Friday before and after the meeting (08:30–09:00 is too short), then Monday.
            XCTAssertEqual(slots.map(\.startsAt), ["2026-03-06T12:00", "2026-03-09T08:30"])
            XCTAssertEqual(slots.map(\.freeUntil), ["2026-03-06T17:30", "2026-03-09T17:30"])
            free.limit = 1
            let v11 = try await h.client.findFreeSlots(free, options: h.staff).slots.count
            XCTAssertEqual(v11, 1)

            // The station's members (李强, 张丽) over Thu 5 – Tue 10 March, one a day: 李强 is at the
            // meeting on Friday morning, so 张丽 takes Friday; the weekend has no duty.
            var plan = Xieshang_Consultation_V1_PlanRosterRequest()
            plan.stationId = d.station
            plan.from = "2026-03-05"
            plan.to = "2026-03-10"
            plan.hours = "09:00-12:00"
            let roster = try await h.client.planRoster(plan, options: h.staff)
            XCTAssertEqual(roster.shifts.map(\.date), ["2026-03-05", "2026-03-06", "2026-03-09", "2026-03-10"])
            XCTAssertEqual(roster.shifts.map(\.memberName), ["李强", "张丽", "李强", "张丽"])
            XCTAssertEqual(roster.unfilled, [])
            var get = Xieshang_Consultation_V1_GetRosterRequest()
            get.stationId = d.station
            get.from = "2026-03-01"
            get.to = "2026-03-31"
            let v12 = try await h.client.getRoster(get, options: h.as(.member, member: d.member)).shifts.map(\.memberId)
            XCTAssertEqual(v12,
                           [d.unitMember, d.thirdMember, d.unitMember, d.thirdMember])
            // 值班 counts when worked: 李强 signs in for his Thursday shift; 张丽 cannot sign in for
            // it, nor anyone for a day without a shift, nor a member for a day to come; staff
            // confirm 张丽's Friday. A second sign-in changes nothing.
            h.set("2026-03-06T18:00")
            var signIn = Xieshang_Consultation_V1_ShiftRef()
            signIn.stationId = d.station
            signIn.date = "2026-03-05"
            let worked = try await h.client.confirmShift(signIn, options: h.as(.member, member: d.unitMember))
            XCTAssertTrue(worked.worked)
            XCTAssertEqual([worked.memberId, Int64(worked.hours == "09:00-12:00" ? 1 : 0)], [d.unitMember, 1])
            var theirs = signIn
            theirs.memberId = d.unitMember
            await assertStatus(.permissionDenied, "signing in for another member's shift") {
                _ = try await h.client.confirmShift(theirs, options: h.as(.member, member: d.thirdMember))
            }
            var noShift = signIn
            noShift.date = "2026-03-04"  // before the roster begins
            await assertStatus(.notFound, "a day without a shift") {
                _ = try await h.client.confirmShift(noShift, options: h.as(.member, member: d.unitMember))
            }
            var ahead = signIn
            ahead.date = "2026-03-09"  // his next shift, still to come
            await assertStatus(.invalidArgument, mentioning: "date", "signing in before the day") {
                _ = try await h.client.confirmShift(ahead, options: h.as(.member, member: d.unitMember))
            }
            var confirm = signIn
            confirm.date = "2026-03-06"
            confirm.memberId = d.thirdMember
            _ = try await h.client.confirmShift(confirm, options: h.staff)
            let again = try await h.client.confirmShift(signIn, options: h.as(.member, member: d.unitMember))
            XCTAssertEqual(again.workedAtUnixMs, worked.workedAtUnixMs)
            let marked = try await h.client.getRoster(get, options: h.staff).shifts.map(\.worked)
            XCTAssertEqual(marked, [true, true, false, false])
            h.set("2026-03-02T09:00")
            // 张丽 is on duty Tuesday morning: a meeting needing her then names the duty shift.
            let other = try await h.consultation("社区治理")
            await assertStatus(.failedPrecondition, mentioning: "duty shift at station \(d.station)", "a meeting over a duty shift") {
                _ = try await h.meeting(other.id, "2026-03-10T10:00", "2026-03-10T11:00", invite: [h.invitation(member: d.thirdMember)])
            }
            // Planning again replaces the range rather than adding to it.
            plan.perDay = 2
            let twice = try await h.client.planRoster(plan, options: h.staff)
            XCTAssertEqual(twice.shifts.count, 7)
            XCTAssertEqual(twice.unfilled, ["2026-03-06"])
            let replanned = try await h.client.getRoster(get, options: h.staff).shifts
            XCTAssertEqual(replanned.count, 7)
            // Re-planning does not take back a shift worked.
            XCTAssertTrue(replanned.contains { $0.date == "2026-03-05" && $0.memberId == d.unitMember && $0.worked })
        }
    }

    /// 码上协商: the public posts on an open page and sees only what was published; quotas show
    /// who is behind.
    func testOnlinePageAndQuotas() async throws {
        try await ConsultationHarness.each("consultation_online") { h in
            let d = h.directory
            let online = try await h.consultation("城区公园建设", form: .online)
            XCTAssertTrue(online.pageOpen)
            var post = Xieshang_Consultation_V1_OpinionPost()
            post.consultationId = online.id
            post.text = "希望增加儿童游乐设施"
            post.authorName = "市民李女士"
            let publicCaller = h.as(.public)
            let first = try await h.client.postOpinion(post, options: publicCaller)
            XCTAssertEqual(first.state, .pending)
            post.text = "公园应配套停车位"
            let second = try await h.client.postOpinion(post, options: h.as(.member, member: d.member))
            XCTAssertEqual(second.authorName, "王芳")
            var mod = Xieshang_Consultation_V1_ModerationRequest()
            mod.id = first.id
            mod.publish = true
            _ = try await h.client.moderatePost(mod, options: h.staff)
            mod.id = second.id
            mod.publish = false
            await assertStatus(.invalidArgument, mentioning: "note", "rejecting without a reason") { _ = try await h.client.moderatePost(mod, options: h.staff) }
            mod.note = "与议题无关"
            _ = try await h.client.moderatePost(mod, options: h.staff)
            var list = Xieshang_Consultation_V1_ListPostsRequest()
            list.consultationId = online.id
            let v14 = try await h.client.listPosts(list, options: publicCaller).posts.map(\.text)
            XCTAssertEqual(v14, ["希望增加儿童游乐设施"])
            let v15 = try await h.client.listPosts(list, options: h.staff).posts.count
            XCTAssertEqual(v15, 2)
            var page = Xieshang_Consultation_V1_PageRequest()
            page.id = online.id
            page.open = false
            _ = try await h.client.setPageOpen(page, options: h.staff)
            await assertStatus(.notFound, "posting on a closed page") { _ = try await h.client.postOpinion(post, options: publicCaller) }
            await assertStatus(.notFound, "the public reading a closed page") {
                _ = try await h.client.getConsultation(.with { $0.id = online.id }, options: publicCaller)
            }
            await assertStatus(.permissionDenied, "the public listing consultations") {
                _ = try await h.client.listConsultations(Xieshang_Consultation_V1_ListConsultationsRequest(), options: publicCaller)
            }

            // Quotas on 1 July 2026: a thematic consultation held in March; a sector consultation
            // not yet held; research for a courtyard consultation in the town in Q1 (not yet held);
            // the town's opinion feedback in January only.
            let thematic = try await h.researched("民营经济发展")
            _ = try await h.consultation("界别协商：营商环境", form: .sector) { $0.sectorId = d.sector }
            let courtyard = try await h.consultation("院坝协商：通组路", form: .courtyard, level: .village) { $0.townId = d.town }
            var mp = Xieshang_Consultation_V1_MakePlanRequest()
            mp.id = courtyard.id
            mp.workPlan = "入户走访"
            _ = try await h.client.makeConsultationPlan(mp, options: h.staff)
            var rr = Xieshang_Consultation_V1_ResearchRequest()
            rr.id = courtyard.id
            var act = Xieshang_Consultation_V1_ResearchActivity()
            act.on = "2026-03-03"
            act.summary = "走访农户"
            rr.activity = act
            _ = try await h.client.recordResearch(rr, options: h.staff)
            let m = try await h.meeting(thematic.id, "2026-03-04T09:00", "2026-03-04T10:00")
            h.set("2026-03-04T10:00")
            _ = try await h.client.holdMeeting(.with { $0.id = m.id }, options: h.staff)
            var activity = Xieshang_Consultation_V1_LiaisonActivity()
            activity.townId = d.town
            activity.kind = .opinionFeedback
            activity.on = "2026-01-20"
            _ = try await h.client.recordLiaisonActivity(activity, options: h.staff)

            var q = Xieshang_Consultation_V1_QuotaRequest()
            q.year = 2026
            q.asOf = "2026-07-01"
            let report = try await h.client.checkQuotas(q, options: h.as(.leader))
            func row(_ subject: Xieshang_Consultation_V1_QuotaSubject, _ id: Int64, _ quota: String, _ period: String) -> Xieshang_Consultation_V1_QuotaRow? {
                report.rows.first { $0.subject == subject && $0.subjectId == id && $0.quota.hasPrefix(quota) && $0.period == period }
            }
            // The sector's consultation has not met, but its year is not over: 0 of 1 expected by July.
            XCTAssertEqual(row(.sector, d.sector, "界别活动", "2026")?.expected, 0)
            XCTAssertEqual(row(.sector, d.sector, "界别活动", "2026")?.behind, false)
            // Thematic: one held, one expected by 1 July (4 × 182/365, rounded down).
            XCTAssertEqual(row(.committee, h.committee, "专题协商", "2026")?.done, 1)
            XCTAssertEqual(row(.committee, h.committee, "专题协商", "2026")?.expected, 1)
            XCTAssertEqual(row(.town, d.town, "反馈社情民意", "2026-01")?.done, 1)
            XCTAssertEqual(row(.town, d.town, "反馈社情民意", "2026-02")?.behind, true)
            XCTAssertEqual(row(.town, d.town, "开展调研", "2026-Q1")?.done, 1)
            XCTAssertEqual(row(.town, d.town, "开展调研", "2026-Q2")?.behind, true)
            XCTAssertEqual(row(.town, d.otherTown, "开展调研", "2026-Q1")?.behind, true)
            XCTAssertEqual(row(.town, d.town, "院坝协商", "2026-H1")?.behind, true)
            XCTAssertNil(row(.town, d.town, "反馈社情民意", "2026-08"), "months not begun are not listed")
            q.behindOnly = true
            let behind = try await h.client.checkQuotas(q, options: h.as(.leader))
            XCTAssertEqual(behind.rows.count, Int(report.behind))
            XCTAssertTrue(behind.rows.allSatisfy(\.behind))
            await assertStatus(.permissionDenied, "a member reading quotas") { _ = try await h.client.checkQuotas(q, options: h.as(.member, member: d.member)) }
        }
    }

    /// Bad input names the field and writes nothing.
    func testBadInputIsRefusedAndWritesNothing() async throws {
        try await ConsultationHarness.each("consultation_bad_input") { h in
            let d = h.directory
            let c = try await h.consultation("交通安全")
            let before = (try await h.rows("events"), try await h.rows("meetings"), try await h.rows("bookings"), try await h.rows("consultations"))
            func meeting(_ edit: (inout Meeting) -> Void) -> Meeting {
                var m = Meeting()
                m.consultationId = c.id
                m.venueId = d.room
                m.startsAt = "2026-03-05T09:00"
                m.endsAt = "2026-03-05T10:00"
                edit(&m)
                return m
            }
            let bad: [(String, Meeting)] = [
                ("starts_at", meeting { $0.startsAt = "2026-03-05 9:00" }),
                ("ends_at", meeting { $0.endsAt = "2026-03-05T08:00" }),
                ("ends_at", meeting { $0.endsAt = "2026-03-07T10:00" }),
                ("venue_id", meeting { $0.venueId = 99_999 }),
                ("venue_id", meeting { $0.venueId = 0 }),
                ("consultation_id", meeting { $0.consultationId = 99_999 }),
                ("invitations[0].member_id", meeting { $0.invitations = [h.invitation(member: 99_999)] }),
                ("invitations[1].member_id", meeting { $0.invitations = [h.invitation(member: d.unitMember), h.invitation(member: d.unitMember)] }),
                ("invitations[0].kind", meeting { var i = Invitation(); i.name = "专家"; $0.invitations = [i] }),
                ("invitations[0].name", meeting { var i = Invitation(); i.kind = .expert; $0.invitations = [i] }),
                ("title", meeting { $0.title = String(repeating: "长", count: 201) }),
                ("host_member_id", meeting { $0.hostMemberId = 99_999 }),
            ]
            for (field, m) in bad {
                await assertStatus(.invalidArgument, mentioning: field, "meeting with bad \(field)") { _ = try await h.client.scheduleMeeting(m, options: h.staff) }
            }
            var cons = Consultation()
            cons.topicId = (try await h.chosenTopic("新议题")).id
            cons.form = .sector
            cons.level = .county
            cons.hostMemberId = d.member
            await assertStatus(.invalidArgument, mentioning: "sector_id", "a sector consultation without a sector") {
                _ = try await h.client.createConsultation(cons, options: h.staff)
            }
            cons.form = .UNRECOGNIZED(42)
            await assertStatus(.invalidArgument, mentioning: "form", "an unknown form") { _ = try await h.client.createConsultation(cons, options: h.staff) }
            cons.form = .thematic
            cons.hostMemberId = 0
            await assertStatus(.invalidArgument, mentioning: "host_member_id", "no host") { _ = try await h.client.createConsultation(cons, options: h.staff) }
            cons.hostMemberId = d.member
            cons.unitIds = [d.unit, 99_999]
            await assertStatus(.invalidArgument, mentioning: "unit_ids[1]", "an unknown unit") { _ = try await h.client.createConsultation(cons, options: h.staff) }
            var free = Xieshang_Consultation_V1_FreeSlotsRequest()
            free.venueId = d.room
            free.from = "2026-03-01"
            free.to = "2026-07-01"
            await assertStatus(.invalidArgument, mentioning: "92 days", "a free-slot range too long") { _ = try await h.client.findFreeSlots(free, options: h.staff) }
            free.to = "2026-03-02"
            free.dayStart = "25:00"
            await assertStatus(.invalidArgument, mentioning: "day_start", "a bad hour") { _ = try await h.client.findFreeSlots(free, options: h.staff) }
            var plan = Plan()
            plan.year = 2026
            plan.title = "计划"
            var e = Xieshang_Consultation_V1_PlanEntry()
            e.topic = "议题"
            e.form = .thematic
            e.plannedMonth = 13
            plan.entries = [e]
            await assertStatus(.invalidArgument, mentioning: "entries[0].planned_month", "month 13") { _ = try await h.client.createPlan(plan, options: h.staff) }
            await assertStatus(.permissionDenied, "a member scheduling") { _ = try await h.client.scheduleMeeting(meeting { _ in }, options: h.as(.member, member: d.member)) }
            let after = (try await h.rows("events"), try await h.rows("meetings"), try await h.rows("bookings"), try await h.rows("consultations"))
            XCTAssertEqual(after.0 - before.0, 2, "only the topic proposed and chosen above was written")
            XCTAssertEqual(before.1, after.1)
            XCTAssertEqual(before.2, after.2)
            XCTAssertEqual(before.3, after.3)
        }
    }
}

extension Xieshang_Consultation_V1_GetRequest {
    static func with(_ edit: (inout Self) -> Void) -> Self {
        var r = Self()
        edit(&r)
        return r
    }
}

extension Xieshang_Consultation_V1_MeetingRef {
    static func with(_ edit: (inout Self) -> Void) -> Self {
        var r = Self()
        edit(&r)
        return r
    }
}

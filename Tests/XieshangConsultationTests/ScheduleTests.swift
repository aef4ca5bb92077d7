import XCTest
import XieshangAPI
import XieshangConsultation
import XieshangKit

/// The pure parts: times, free slots, rotation, quotas and the step table.
final class ScheduleTests: XCTestCase {
    func testChinaTimeRoundTripsAndRejectsNonsense() {
        let t = ChinaTime("2026-03-05T09:30")!
        XCTAssertEqual(t.description, "2026-03-05T09:30")
        XCTAssertEqual(ChinaTime("2026-03-05 09:30"), t)
        // 09:30 China time is 01:30 UTC.
        XCTAssertEqual(t.minutes % 1440, 90)
        XCTAssertEqual(ChinaTime("2026-03-05T00:10")!.date.description, "2026-03-05")
        XCTAssertEqual(ChinaTime("2026-03-05T24:00")!.description, "2026-03-06T00:00")
        for bad in ["2026-03-05T9:30", "2026-03-05T09:60", "2026-02-30T09:00", "2026-03-05T25:00", "", "2026-03-05X09:30"] {
            XCTAssertNil(ChinaTime(bad), bad)
        }
    }

    func testFreeSlotsAroundOverlappingBookings() {
        let day = CivilDate("2026-03-05")!
        func at(_ hm: String) -> ChinaTime { ChinaTime("2026-03-05T\(hm)")! }
        let busy = [(at("09:00"), at("10:00")), (at("09:30"), at("11:00")), (at("13:00"), at("14:00")), (at("16:30"), at("18:00"))]
        let slots = Schedule.freeSlots(days: [day], dayStart: 8 * 60, dayEnd: 17 * 60 + 30, duration: 60, busy: busy, limit: 10)
        XCTAssertEqual(slots.map { "\($0.start)/\($0.until)" }, [
            "2026-03-05T08:00/2026-03-05T09:00", "2026-03-05T11:00/2026-03-05T13:00", "2026-03-05T14:00/2026-03-05T16:30",
        ])
        // A booking from the evening before that runs into the morning.
        let overnight = [(ChinaTime("2026-03-04T20:00")!, at("09:00"))]
        XCTAssertEqual(Schedule.freeSlots(days: [day], dayStart: 8 * 60, dayEnd: 12 * 60, duration: 30, busy: overnight, limit: 10).map(\.start),
                       [at("09:00")])
        XCTAssertEqual(Schedule.freeSlots(days: [day], dayStart: 8 * 60, dayEnd: 17 * 60, duration: 600, busy: [], limit: 10).count, 0)
    }

    func testRotationIsFairAndSkipsBusyMembers() {
        let days = (0..<6).map { CivilDate("2026-03-02")!.adding(days: $0) }
        let (shifts, unfilled) = Schedule.rotate(members: [1, 2, 3], days: days, perDay: 1) { m, d in m == 2 && d == days[1] }
        XCTAssertEqual(shifts.map(\.1), [1, 3, 2, 1, 3, 2])
        XCTAssertEqual(unfilled, [])
        let (_, gaps) = Schedule.rotate(members: [1], days: days, perDay: 1) { _, d in d == days[2] }
        XCTAssertEqual(gaps, [days[2]])
    }

    func testQuotasCountPeriodsAndProRata() {
        let done: [Quotas.Done] = [
            .init(.town, 5, .liaison(.opinionFeedback), on: CivilDate("2026-01-10")!),
            .init(.town, 5, .liaison(.opinionFeedback), on: CivilDate("2026-03-10")!),
            .init(.committee, 1, .thematic, on: CivilDate("2026-02-10")!),
            .init(.committee, 1, .thematic, on: CivilDate("2025-12-10")!),
        ]
        let r = Quotas.report(year: 2026, asOf: CivilDate("2026-03-15")!, subjects: [(.town, 5, "长寨街道"), (.committee, 1, "县政协")],
                              done: done, behindOnly: false)
        let feedback = r.rows.filter { $0.quota.hasPrefix("反馈") }
        XCTAssertEqual(feedback.map(\.period), ["2026-01", "2026-02", "2026-03"])
        XCTAssertEqual(feedback.map(\.behind), [false, true, false])
        let thematic = r.rows.first { $0.quota.hasPrefix("专题协商") }!
        XCTAssertEqual(thematic.done, 1, "last year's does not count")
        // 4 × 74/365 → 0 expected yet.
        XCTAssertEqual(thematic.expected, 0)
        XCTAssertEqual(Int(r.behind), r.rows.filter(\.behind).count)
    }

    func testEveryCommandFromEveryStep() throws {
        let staff = Participant(roles: [.committeeStaff], name: "办公室")
        var activity = Xieshang_Consultation_V1_ResearchActivity()
        activity.summary = "调研"
        let commands: [ConsultationCommand] = [
            .makePlan("方案"), .recordResearch(activity, reportDue: "2026-03-10"), .holdMeeting(meetingID: 1, on: "2026-03-10", resultsDue: "2026-03-13"),
            .submitResults(["建议"]), .archive, .cancel(reason: "取消"), .setPage(open: true),
        ]
        for step in Xieshang_Consultation_V1_Step.allKnownCases where step != .unspecified {
            var c = Consultation()
            c.id = 1
            c.step = step
            c.research = [activity]
            for command in commands {
                let allowed = ConsultationMachine.sources(of: command).contains(step)
                do {
                    _ = try ConsultationMachine.apply(command, to: c, by: staff, at: 0)
                    XCTAssertTrue(allowed, "\(command.name) from \(step.label)")
                } catch let e as DomainError {
                    XCTAssertFalse(allowed, "\(command.name) from \(step.label): \(e)")
                    guard case .notAllowed(let message) = e else { return XCTFail("\(e)") }
                    XCTAssertTrue(message.contains(step.label), message)
                }
            }
        }
        var c = Consultation()
        c.step = .planned
        XCTAssertThrowsError(try ConsultationMachine.apply(.makePlan("x"), to: c, by: Participant(roles: [.member], memberID: 1, name: "委员"), at: 0))
    }
}

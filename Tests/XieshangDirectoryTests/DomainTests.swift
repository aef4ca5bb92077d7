import XCTest
@testable import XieshangDirectory
import XieshangKit

final class CivilDateTests: XCTestCase {
    func testWrongPasswordsLockAUsernameForLongerEachTime() {
        var lock = LoginLock()
        let t0: Int64 = 1_000_000_000
        for i in 1..<LoginLock.threshold {
            lock = lock.failed(now: t0 + i)
            XCTAssertNil(lock.remaining(now: t0 + i), "no lock before \(LoginLock.threshold) in a row")
        }
        lock = lock.failed(now: t0 + 10)
        XCTAssertEqual(lock.remaining(now: t0 + 10), LoginLock.base)
        XCTAssertNil(lock.remaining(now: t0 + 10 + LoginLock.base), "the lock passes")
        lock = lock.failed(now: t0 + 20 + LoginLock.base)
        XCTAssertEqual(lock.remaining(now: t0 + 20 + LoginLock.base), 2 * LoginLock.base, "doubles")
        for _ in 0..<30 { lock = lock.failed(now: t0 + 100_000) }
        XCTAssertEqual(lock.remaining(now: t0 + 100_000), LoginLock.longest, "up to the longest")
        // A count left alone for an hour starts again.
        let later = lock.failed(now: t0 + 100_000 + LoginLock.forgetAfter + 1)
        XCTAssertEqual(later.failures, 1)
        XCTAssertTrue(LoginLock.message(remainingMs: 29_001, failures: 5).contains("30 s after 5 wrong passwords"))
    }

    func testParsesFormatsAndCountsDays() {
        XCTAssertEqual(CivilDate("1970-01-01")?.dayNumber, 0)
        XCTAssertEqual(CivilDate("2026-11-21")?.isoWeekday, 6)  // a Saturday
        XCTAssertEqual(CivilDate("2024-02-29")?.description, "2024-02-29")
        XCTAssertNil(CivilDate("2025-02-29"))
        XCTAssertNil(CivilDate("2025-2-1"))
        XCTAssertNil(CivilDate("２０２５-01-01"))
        var d = CivilDate("1999-12-31")!
        for _ in 0..<10_000 { d = d.adding(days: 1) }
        XCTAssertEqual(d.description, "2027-05-18")
        XCTAssertEqual(CivilDate(dayNumber: d.dayNumber).parts.year, 2027)
    }
}

final class WorkingCalendarTests: XCTestCase {
    func calendar() throws -> WorkingCalendar {
        var c = WorkingCalendar()
        let t = ChineseHolidays.years[2026]!
        c.years[2026] = try WorkingCalendar.validate(year: 2026, holidays: t.holidays, workdays: t.workdays)
        return c
    }

    func testSpringFestivalHolidaysAndMakeUpDays() throws {
        let c = try calendar()
        // Fri 13 Feb → Sat 14 Feb is a make-up working day.
        XCTAssertEqual(c.adding(workingDays: 1, to: CivilDate("2026-02-13")!).date.description, "2026-02-14")
        // From Sat 14 Feb the next working day is Tue 24 Feb (15th–23rd off).
        XCTAssertEqual(c.adding(workingDays: 1, to: CivilDate("2026-02-14")!).date.description, "2026-02-24")
        XCTAssertEqual(c.adding(workingDays: -1, to: CivilDate("2026-02-24")!).date.description, "2026-02-14")
        XCTAssertEqual(c.adding(workingDays: 0, to: CivilDate("2026-02-16")!).date.description, "2026-02-16")
        // National Day: Wed 30 Sep + 1 → Thu 8 Oct.
        XCTAssertEqual(c.adding(workingDays: 1, to: CivilDate("2026-09-30")!).date.description, "2026-10-08")
        XCTAssertEqual(c.workingDays(from: CivilDate("2026-02-13")!, to: CivilDate("2026-02-24")!).days, 2)
        XCTAssertEqual(c.workingDays(from: CivilDate("2026-02-24")!, to: CivilDate("2026-02-13")!).days, -2)
        // 2026 on this table: 365 − 104 weekend days − 19 weekday holidays + 6 make-up days.
        XCTAssertEqual(c.workingDays(from: CivilDate("2025-12-31")!, to: CivilDate("2026-12-31")!).days, 248)
    }

    func testYearsWithoutATableAreReported() throws {
        let c = try calendar()
        let r = c.adding(workingDays: 5, to: CivilDate("2026-12-29")!)
        XCTAssertEqual(r.date.description, "2027-01-05")
        XCTAssertEqual(r.yearsWithoutTable, [2027])
    }

    func testTableValidation() {
        XCTAssertThrowsError(try WorkingCalendar.validate(year: 2026, holidays: ["2025-10-01"], workdays: [])) {
            XCTAssertEqual(($0 as? ValidationFailure)?.field, "holidays[0]")
        }
        XCTAssertThrowsError(try WorkingCalendar.validate(year: 2026, holidays: ["2026-10-01"], workdays: ["2026-10-01"])) {
            XCTAssertEqual(($0 as? ValidationFailure)?.field, "workdays")
        }
        XCTAssertThrowsError(try WorkingCalendar.validate(year: 2026, holidays: ["10/01/2026"], workdays: []))
    }
}

final class CSVTests: XCTestCase {
    func testQuotesLineBreaksBOMAndLineNumbers() throws {
        let text = "\u{FEFF}姓名,备注\r\n张三,\"有逗号,和\"\"引号\"\"\"\r\n李四,\"两行\n文字\"\n\n王五,\n"
        let records = try CSV.parse(Array(text.utf8))
        XCTAssertEqual(records.map(\.fields), [["姓名", "备注"], ["张三", "有逗号,和\"引号\""], ["李四", "两行\n文字"], ["王五", ""]])
        XCTAssertEqual(records.map(\.line), [1, 2, 3, 6])
    }

    func testRejectsBrokenFiles() {
        XCTAssertThrowsError(try CSV.parse(Array("a,\"b\n".utf8))) { XCTAssertEqual(($0 as? CSV.ParseError)?.line, 1) }
        XCTAssertThrowsError(try CSV.parse([0x61, 0xff, 0x0a]))
        XCTAssertThrowsError(try CSV.parse(Array("a,b\"c\n".utf8)))
    }

    func testFormatRoundTripsAndDefusesFormulas() throws {
        let rows = [["编号", "说明"], ["1", "含,逗号"], ["2", "=SUM(A1)"], ["3", " 前后空格 "]]
        let bytes = CSV.format(rows)
        XCTAssertEqual(Array(bytes.prefix(3)), [0xEF, 0xBB, 0xBF])
        let back = try CSV.parse(bytes).map(\.fields)
        XCTAssertEqual(back[1], ["1", "含,逗号"])
        XCTAssertEqual(back[2], ["2", "'=SUM(A1)"])
        XCTAssertEqual(back[3], ["3", " 前后空格 "])
    }
}

final class DemoDataTests: XCTestCase {
    func testRandomIsDeterministic() {
        var a = DemoRandom(seed: 7), b = DemoRandom(seed: 7)
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
    }
}

import XieshangAPI
import XieshangKit
import XieshangStore

extension DirectoryStore {
    /// Creates or replaces one year of `committee`'s calendar.
    public func setCalendarYear(_ year: Xieshang_Directory_V1_CalendarYear, committee: Int64, actor: Actor) async throws -> Xieshang_Directory_V1_CalendarYear {
        let table = try WorkingCalendar.validate(year: year.year, holidays: year.holidays, workdays: year.workdays)
        var next = year
        next.committeeId = committee
        next.holidays = table.holidays.sorted().map(\.description)
        next.workdays = table.workdays.sorted().map(\.description)
        let ready = next
        return try await database.write { tx in
            let t = EntityTable<Xieshang_Directory_V1_CalendarYear>()
            var filter = SQLFilter()
            filter.add("year = ?", .integer(Int64(ready.year)))
            if let current = try t.first(committee: committee, where: filter, on: tx.connection) {
                if ready.version != 0 && ready.version != current.version {
                    throw DomainError.staleVersion(kind: "calendar_year", id: "\(ready.year)", expected: ready.version, actual: current.version)
                }
                return try t.replace(current, with: ready, in: tx, actor: actor)
            }
            return try t.insert(ready, in: tx, actor: actor)
        }
    }

    /// One year of `committee`'s calendar; NOT_FOUND when it has none.
    public func calendarYear(_ year: Int32, committee: Int64) async throws -> Xieshang_Directory_V1_CalendarYear {
        try await database.read { conn in
            var filter = SQLFilter()
            filter.add("year = ?", .integer(Int64(year)))
            guard let y = try EntityTable<Xieshang_Directory_V1_CalendarYear>().first(committee: committee, where: filter, on: conn) else {
                throw DomainError.notFound(kind: "calendar_year", id: "\(year)")
            }
            return y
        }
    }

    /// `committee`'s whole calendar.
    public func calendar(committee: Int64) async throws -> WorkingCalendar {
        let years = try await all(Xieshang_Directory_V1_CalendarYear.self, committee: committee)
        var cal = WorkingCalendar()
        for y in years {
            cal.years[Int(y.year)] = WorkingCalendar.Year(table: y)
        }
        return cal
    }
}

import XieshangAPI


/// A committee's working days: Monday to Friday, minus public holidays, plus make-up working days
/// (调休), from a table per year. Years without a table count weekends only, and are reported.
public struct WorkingCalendar: Sendable {
    /// One year's table.
    public struct Year: Sendable, Equatable {
        /// Days off that would otherwise be working days.
        public var holidays: Set<CivilDate>
        /// Working days that would otherwise be off (weekend make-up days).
        public var workdays: Set<CivilDate>

        /// A year's table.
        public init(holidays: Set<CivilDate>, workdays: Set<CivilDate>) {
            self.holidays = holidays
            self.workdays = workdays
        }

        /// The table as the directory stores it.
        public init(table: Xieshang_Directory_V1_CalendarYear) {
            self.init(holidays: Set(table.holidays.compactMap(CivilDate.init)), workdays: Set(table.workdays.compactMap(CivilDate.init)))
        }
    }

    /// Tables by year.
    public var years: [Int: Year]

    /// A calendar with these tables.
    public init(years: [Int: Year] = [:]) {
        self.years = years
    }

    /// Whether `date` is a working day.
    public func isWorkingDay(_ date: CivilDate) -> Bool {
        if let y = years[date.year] {
            if y.workdays.contains(date) { return true }
            if y.holidays.contains(date) { return false }
        }
        return !date.isWeekend
    }

    /// The `days`-th working day after `date` (before it when negative; `date` itself for 0), and
    /// the years crossed that have no table.
    public func adding(workingDays days: Int, to date: CivilDate) -> (date: CivilDate, yearsWithoutTable: [Int]) {
        var d = date
        var left = abs(days)
        let step = days < 0 ? -1 : 1
        var missing = Set<Int>()
        while left > 0 {
            d = d.adding(days: step)
            if years[d.year] == nil { missing.insert(d.year) }
            if isWorkingDay(d) { left -= 1 }
        }
        return (d, missing.sorted())
    }

    /// Working days in (from, to]; negative when `to` is before `from`.
    public func workingDays(from: CivilDate, to: CivilDate) -> (days: Int, yearsWithoutTable: [Int]) {
        let (lo, hi, sign) = from <= to ? (from, to, 1) : (to, from, -1)
        var missing = Set<Int>()
        var n = 0
        var d = lo
        while d < hi {
            d = d.adding(days: 1)
            if years[d.year] == nil { missing.insert(d.year) }
            if isWorkingDay(d) { n += 1 }
        }
        return (n * sign, missing.sorted())
    }

    /// Checks a year's table: dates valid and in the year, holidays not also make-up days.
    /// Returns the table or throws the field at fault.
    public static func validate(year: Int32, holidays: [String], workdays: [String]) throws -> Year {
        guard (1900...2200).contains(year) else { throw ValidationFailure(field: "year", message: "must be between 1900 and 2200") }
        func dates(_ list: [String], _ field: String) throws -> Set<CivilDate> {
            var out = Set<CivilDate>()
            for (i, s) in list.enumerated() {
                guard let d = CivilDate(s) else {
                    throw ValidationFailure(field: "\(field)[\(i)]", message: "'\(s)' is not a YYYY-MM-DD date")
                }
                guard d.year == Int(year) else {
                    throw ValidationFailure(field: "\(field)[\(i)]", message: "\(s) is not in \(year)")
                }
                out.insert(d)
            }
            return out
        }
        let h = try dates(holidays, "holidays"), w = try dates(workdays, "workdays")
        if let both = h.intersection(w).min() {
            throw ValidationFailure(field: "workdays", message: "\(both) is also listed as a holiday")
        }
        return Year(holidays: h, workdays: w)
    }
}

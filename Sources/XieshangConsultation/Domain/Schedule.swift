import XieshangAPI
import XieshangKit

/// A wall-clock time in China Standard Time (UTC+8, no daylight saving), kept as minutes since
/// 1970-01-01T00:00 UTC so intervals compare as integers.
public struct ChinaTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let minutes: Int64
    static let offset: Int64 = 8 * 60

    public init(minutes: Int64) { self.minutes = minutes }

    /// `date` at `minuteOfDay` minutes after midnight.
    public init(date: CivilDate, minuteOfDay: Int) {
        minutes = Int64(date.dayNumber) * 1440 + Int64(minuteOfDay) - Self.offset
    }

    /// `YYYY-MM-DDTHH:MM` (a space instead of `T` is accepted).
    public init?(_ text: String) {
        let s = Array(text.utf8)
        guard s.count == 16, s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: " "),
              let date = CivilDate(String(decoding: s[0..<10], as: UTF8.self)),
              let minute = Self.minuteOfDay(String(decoding: s[11...], as: UTF8.self)) else { return nil }
        self.init(date: date, minuteOfDay: minute)
    }

    /// Minutes after midnight of `HH:MM` (00:00–24:00), or nil.
    public static func minuteOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0..<60).contains(m),
              h * 60 + m <= 1440 else { return nil }
        return h * 60 + m
    }

    /// `HH:MM` of a minute of the day.
    public static func clock(_ minuteOfDay: Int) -> String {
        let h = minuteOfDay / 60, m = minuteOfDay % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }

    public var date: CivilDate { CivilDate(dayNumber: Int((minutes + Self.offset).floorDiv(1440))) }
    public var minuteOfDay: Int { Int((minutes + Self.offset) - Int64(date.dayNumber) * 1440) }
    public var description: String { "\(date)T\(Self.clock(minuteOfDay))" }

    public static func < (a: ChinaTime, b: ChinaTime) -> Bool { a.minutes < b.minutes }

    /// The time `value` names; INVALID_ARGUMENT naming `field`.
    public static func parse(_ value: String, _ field: String) throws -> ChinaTime {
        guard let t = ChinaTime(value) else {
            throw DomainError.invalid(field: field, message: value.isEmpty ? "required" : "'\(value)' is not a YYYY-MM-DDTHH:MM time")
        }
        return t
    }
}

extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
}

/// Who or what a booking holds.
public enum Resource: Hashable, Sendable, CustomStringConvertible {
    case venue(Int64)
    case member(Int64)

    /// The key stored in `bookings.resource`: `v:12`, `m:34`.
    public var key: String {
        switch self {
        case .venue(let id): "v:\(id)"
        case .member(let id): "m:\(id)"
        }
    }

    public init?(key: String) {
        guard key.count > 2, let id = Int64(key.dropFirst(2)) else { return nil }
        switch key.prefix(2) {
        case "v:": self = .venue(id)
        case "m:": self = .member(id)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .venue(let id): "venue \(id)"
        case .member(let id): "member \(id)"
        }
    }
}

/// A span of time a venue or person is taken: by a meeting or a duty shift at a station.
public struct Booking: Hashable, Sendable {
    public enum Owner: Hashable, Sendable {
        case meeting(Int64)
        case duty(station: Int64)

        /// As stored in `bookings.owner_kind` and `owner_id`.
        public var kind: String {
            switch self {
            case .meeting: "meeting"
            case .duty: "duty"
            }
        }

        public var id: Int64 {
            switch self {
            case .meeting(let id), .duty(let id): id
            }
        }

        public init(kind: String, id: Int64) {
            self = kind == "duty" ? .duty(station: id) : .meeting(id)
        }
    }

    public var resource: Resource
    public var start: ChinaTime
    public var end: ChinaTime
    public var owner: Owner
    /// The meeting's title or the station's name (for conflict messages).
    public var title: String

    public init(resource: Resource, start: ChinaTime, end: ChinaTime, owner: Owner, title: String) {
        self.resource = resource
        self.start = start
        self.end = end
        self.owner = owner
        self.title = title
    }

    public func overlaps(_ start: ChinaTime, _ end: ChinaTime) -> Bool { self.start < end && start < self.end }

    /// The conflict this booking is for someone wanting the same resource.
    public var conflict: Xieshang_Consultation_V1_Conflict {
        var c = Xieshang_Consultation_V1_Conflict()
        switch resource {
        case .venue(let id): c.resource = "venue"; c.resourceId = id
        case .member(let id): c.resource = "member"; c.resourceId = id
        }
        c.kind = owner.kind
        switch owner {
        case .meeting(let id): c.meetingId = id
        case .duty(let station): c.stationId = station
        }
        c.title = title
        c.startsAt = start.description
        c.endsAt = end.description
        return c
    }
}

/// Pure scheduling: the longest a booking may last, conflict messages, free slots, duty rotation.
public enum Schedule {
    /// Meetings and shifts last at most a day, so overlap queries look back this far only.
    public static let longestBooking: Int64 = 24 * 60

    /// A refusal naming the first conflict: "venue 3 is booked 2026-03-05T09:00–11:00 by meeting 17 (…)".
    public static func refusal(_ conflicts: [Xieshang_Consultation_V1_Conflict]) -> DomainError {
        let c = conflicts[0]
        let by = c.kind == "meeting" ? "meeting \(c.meetingId) (\(c.title))" : "a duty shift at station \(c.stationId) (\(c.title))"
        let more = conflicts.count > 1 ? "; \(conflicts.count - 1) more conflict\(conflicts.count > 2 ? "s" : "")" : ""
        return .notAllowed("\(c.resource) \(c.resourceId) is booked \(c.startsAt)–\(c.endsAt.suffix(5)) by \(by)\(more)")
    }

    /// Checks a meeting's times: the end after the start, within a day.
    public static func span(_ startsAt: String, _ endsAt: String) throws -> (ChinaTime, ChinaTime) {
        let start = try ChinaTime.parse(startsAt, "starts_at"), end = try ChinaTime.parse(endsAt, "ends_at")
        guard start < end else { throw DomainError.invalid(field: "ends_at", message: "must be after starts_at") }
        guard end.minutes - start.minutes <= longestBooking else { throw DomainError.invalid(field: "ends_at", message: "a meeting lasts at most 24 hours") }
        return (start, end)
    }

    /// Starts of free intervals at least `duration` minutes long within `dayStart`–`dayEnd` (minutes
    /// of the day) of each of `days`, avoiding `busy`; at most `limit`. Each slot is the start of a
    /// free interval and where that interval ends.
    public static func freeSlots(days: [CivilDate], dayStart: Int, dayEnd: Int, duration: Int, busy: [(ChinaTime, ChinaTime)],
                                 limit: Int) -> [(start: ChinaTime, until: ChinaTime)] {
        let sorted = busy.sorted { $0.0 < $1.0 }
        var out: [(ChinaTime, ChinaTime)] = []
        var first = 0
        for day in days.sorted() {
            let open = ChinaTime(date: day, minuteOfDay: dayStart), close = ChinaTime(date: day, minuteOfDay: dayEnd)
            // Bookings are sorted by start and last at most a day: earlier ones cannot reach this window.
            while first < sorted.count && sorted[first].0.minutes < open.minutes - longestBooking { first += 1 }
            var cursor = open
            var k = first
            while k < sorted.count && sorted[k].0 < close {
                let (s, e) = sorted[k]
                k += 1
                guard e > cursor else { continue }
                if s > cursor && s.minutes - cursor.minutes >= Int64(duration) {
                    out.append((cursor, s))
                    if out.count >= limit { return out }
                }
                cursor = max(cursor, e)
            }
            if close > cursor && close.minutes - cursor.minutes >= Int64(duration) {
                out.append((cursor, close))
                if out.count >= limit { return out }
            }
        }
        return out
    }

    /// A rotation of `members` over `days`, `perDay` each day, fairly (whoever has had fewest
    /// shifts goes first, ties in the order given), skipping anyone `busy` that day. Returns the
    /// shifts and the days that could not be filled.
    public static func rotate(members: [Int64], days: [CivilDate], perDay: Int,
                              busy: (Int64, CivilDate) -> Bool) -> (shifts: [(CivilDate, Int64)], unfilled: [CivilDate]) {
        var count = [Int64: Int]()
        var lastDay = [Int64: Int]()
        var shifts: [(CivilDate, Int64)] = []
        var unfilled: [CivilDate] = []
        for day in days.sorted() {
            let order = members.enumerated().sorted { a, b in
                let ca = count[a.element, default: 0], cb = count[b.element, default: 0]
                if ca != cb { return ca < cb }
                let la = lastDay[a.element, default: Int.min], lb = lastDay[b.element, default: Int.min]
                if la != lb { return la < lb }
                return a.offset < b.offset
            }.map(\.element)
            var taken = 0
            for m in order where taken < perDay && !busy(m, day) {
                shifts.append((day, m))
                count[m, default: 0] += 1
                lastDay[m] = day.dayNumber
                taken += 1
            }
            if taken < perDay { unfilled.append(day) }
        }
        return (shifts, unfilled)
    }
}

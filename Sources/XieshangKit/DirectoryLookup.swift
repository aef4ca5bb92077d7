import NIOConcurrencyHelpers
import XieshangAPI
import XieshangRPC
import XieshangStore

/// What services need from the directory: that the members, units, places and groups they are
/// given exist in the committee, and due dates on the committee's working-day calendar.
public protocol DirectoryLookup: Sendable {
    func member(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Member?
    func unit(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Unit?
    func area(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Area?
    /// An account (leaders are accounts with the leader role).
    func account(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Account?
    /// The committee's sectors (界别), parties and special committees (专委会), archived included.
    func sectors(committee: Int64) async throws -> [Xieshang_Directory_V1_Sector]
    func parties(committee: Int64) async throws -> [Xieshang_Directory_V1_Party]
    func specialCommittees(committee: Int64) async throws -> [Xieshang_Directory_V1_SpecialCommittee]
    /// The committee's terms (届).
    func terms(committee: Int64) async throws -> [Xieshang_Directory_V1_Term]
    /// `date` plus `days` working days on `committee`'s calendar.
    func addWorkingDays(_ days: Int32, to date: CivilDate, committee: Int64) async throws -> CivilDate
    /// A work station or consultation room.
    func station(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_WorkStation?
    /// The committee's table for `year` (holidays and make-up days), nil when it has none.
    func calendarYear(_ year: Int, committee: Int64) async throws -> Xieshang_Directory_V1_CalendarYear?
    /// The committee's towns and streets, archived included.
    func towns(committee: Int64) async throws -> [Xieshang_Directory_V1_Area]
    /// The active members whose work station is `station`.
    func members(ofStation station: Int64, committee: Int64) async throws -> [Xieshang_Directory_V1_Member]
}

/// The directory service over gRPC, called as a system principal of the committee concerned.
/// Records found are cached for `ttl` seconds (they are never deleted, rarely changed); NOT_FOUND
/// is nil, and the directory being down is UNAVAILABLE to intake's caller.
public final class RemoteDirectory: DirectoryLookup, @unchecked Sendable {
    let client: Xieshang_Directory_V1_DirectoryServiceClient
    let ttl: Double
    let timeout: Double
    /// The name the calls are made under (the calling service).
    let serviceName: String
    private let cache = NIOLockedValueBox([String: (expires: Double, value: any Sendable)]())

    public init(channel: any ClientTransport, serviceName: String, ttl: Double = 30, timeout: Double = 5) {
        self.client = Xieshang_Directory_V1_DirectoryServiceClient(channel: channel)
        self.serviceName = serviceName
        self.ttl = ttl
        self.timeout = timeout
    }

    func options(_ committee: Int64) -> CallOptions {
        CallOptions(metadata: Caller.system(serviceName, committee: committee), timeout: timeout)
    }

    private func cached<T: Sendable>(_ key: String, _ fetch: () async throws -> T) async throws -> T? {
        let now = Double(XieshangStore.Clock.nowMilliseconds()) / 1000
        if let hit = cache.withLockedValue({ $0[key] }), hit.expires > now, let v = hit.value as? T { return v }
        do {
            let v = try await fetch()
            cache.withLockedValue { c in
                if c.count > 50_000 { c.removeAll() }
                c[key] = (now + ttl, v)
            }
            return v
        } catch let e as RPCError where e.code == .notFound {
            return nil
        }
    }

    private func get(_ id: Int64) -> Xieshang_Directory_V1_GetRequest {
        var r = Xieshang_Directory_V1_GetRequest()
        r.id = id
        return r
    }

    public func member(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Member? {
        try await cached("m\(committee)/\(id)") { try await client.getMember(get(id), options: options(committee)) }
    }

    public func unit(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Unit? {
        try await cached("u\(committee)/\(id)") { try await client.getUnit(get(id), options: options(committee)) }
    }

    public func area(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Area? {
        try await cached("a\(committee)/\(id)") { try await client.getArea(get(id), options: options(committee)) }
    }

    public func account(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Account? {
        try await cached("acc\(committee)/\(id)") { try await client.getAccount(get(id), options: options(committee)) }
    }

    /// Every page of a listing, from `request` on.
    private func pages<R: Sendable, T: Sendable>(_ request: R, token: WritableKeyPath<R, String>,
                                                 _ page: (R) async throws -> ([T], String)) async throws -> [T] {
        var r = request
        var all: [T] = []
        while true {
            let (items, next) = try await page(r)
            all += items
            if next.isEmpty { return all }
            r[keyPath: token] = next
        }
    }

    /// Every page of a short reference list.
    private func every<T: Sendable>(_ key: String, committee: Int64,
                                    _ page: (Xieshang_Directory_V1_ListRequest) async throws -> ([T], String)) async throws -> [T] {
        try await cached("\(key)\(committee)") {
            var r = Xieshang_Directory_V1_ListRequest()
            r.pageSize = 1000
            r.includeArchived = true
            return try await pages(r, token: \.pageToken, page)
        } ?? []
    }

    public func sectors(committee: Int64) async throws -> [Xieshang_Directory_V1_Sector] {
        try await every("sectors", committee: committee) {
            let r = try await client.listSectors($0, options: options(committee))
            return (r.sectors, r.nextPageToken)
        }
    }

    public func parties(committee: Int64) async throws -> [Xieshang_Directory_V1_Party] {
        try await every("parties", committee: committee) {
            let r = try await client.listParties($0, options: options(committee))
            return (r.parties, r.nextPageToken)
        }
    }

    public func specialCommittees(committee: Int64) async throws -> [Xieshang_Directory_V1_SpecialCommittee] {
        try await every("special", committee: committee) {
            let r = try await client.listSpecialCommittees($0, options: options(committee))
            return (r.specialCommittees, r.nextPageToken)
        }
    }

    public func terms(committee: Int64) async throws -> [Xieshang_Directory_V1_Term] {
        try await every("terms", committee: committee) {
            let r = try await client.listTerms($0, options: options(committee))
            return (r.terms, r.nextPageToken)
        }
    }

    public func station(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_WorkStation? {
        try await cached("s\(committee)/\(id)") { try await client.getWorkStation(get(id), options: options(committee)) }
    }

    public func calendarYear(_ year: Int, committee: Int64) async throws -> Xieshang_Directory_V1_CalendarYear? {
        var r = Xieshang_Directory_V1_GetCalendarYearRequest()
        r.year = Int32(year)
        return try await cached("cal\(committee)/\(year)") { try await client.getCalendarYear(r, options: options(committee)) }
    }

    public func towns(committee: Int64) async throws -> [Xieshang_Directory_V1_Area] {
        var r = Xieshang_Directory_V1_ListAreasRequest()
        r.pageSize = 1000
        r.includeArchived = true
        r.level = .town
        return try await cached("towns\(committee)") {
            try await pages(r, token: \.pageToken) {
                let page = try await client.listAreas($0, options: options(committee))
                return (page.areas, page.nextPageToken)
            }
        } ?? []
    }

    public func members(ofStation station: Int64, committee: Int64) async throws -> [Xieshang_Directory_V1_Member] {
        var r = Xieshang_Directory_V1_ListMembersRequest()
        r.pageSize = 1000
        r.stationId = station
        return try await cached("sm\(committee)/\(station)") {
            try await pages(r, token: \.pageToken) {
                let page = try await client.listMembers($0, options: options(committee))
                return (page.members, page.nextPageToken)
            }
        } ?? []
    }

    public func addWorkingDays(_ days: Int32, to date: CivilDate, committee: Int64) async throws -> CivilDate {
        var r = Xieshang_Directory_V1_AddWorkingDaysRequest()
        r.date = date.description
        r.days = days
        let response = try await client.addWorkingDays(r, options: options(committee))
        guard let due = CivilDate(response.date) else {
            throw RPCError(.internal, "the directory answered '\(response.date)' for a date")
        }
        return due
    }
}

extension DirectoryLookup {
    /// INVALID_ARGUMENT naming `field` unless `id` is 0 or a member of `committee`; the member.
    @discardableResult
    public func requireMember(_ id: Int64, committee: Int64, field: String) async throws -> Xieshang_Directory_V1_Member? {
        guard id != 0 else { return nil }
        guard let m = try await member(id, committee: committee) else {
            throw DomainError.invalid(field: field, message: "no member \(id) in this committee")
        }
        return m
    }

    public func requireUnit(_ id: Int64, committee: Int64, field: String) async throws {
        guard id != 0 else { return }
        guard try await unit(id, committee: committee) != nil else {
            throw DomainError.invalid(field: field, message: "no unit \(id) in this committee")
        }
    }

    /// INVALID_ARGUMENT naming `field[i]` unless every id is a distinct unit of `committee`.
    public func requireUnits(_ ids: [Int64], field: String, committee: Int64) async throws {
        var seen = Set<Int64>()
        for (i, u) in ids.enumerated() {
            try Check.id(u, "\(field)[\(i)]", required: true)
            if !seen.insert(u).inserted { throw DomainError.invalid(field: "\(field)[\(i)]", message: "unit \(u) is listed twice") }
            try await requireUnit(u, committee: committee, field: "\(field)[\(i)]")
        }
    }

    /// Checks a town and village pair: each an area of the right level, the village in the town.
    public func requirePlace(town: Int64, village: Int64, committee: Int64) async throws {
        if town != 0 {
            guard let t = try await area(town, committee: committee), t.level == .town else {
                throw DomainError.invalid(field: "town_id", message: "no town \(town) in this committee")
            }
        }
        if village != 0 {
            guard let v = try await area(village, committee: committee), v.level == .village else {
                throw DomainError.invalid(field: "village_id", message: "no village \(village) in this committee")
            }
            if town != 0 && v.parentId != town {
                throw DomainError.invalid(field: "village_id", message: "village \(village) is not in town \(town)")
            }
        }
    }

    /// INVALID_ARGUMENT naming `field` unless `id` is 0 or a record among `records` (by `id`).
    public func require<T>(_ id: Int64, in records: [T], id key: (T) -> Int64, kind: String, field: String) throws {
        guard id != 0 else { return }
        if !records.contains(where: { key($0) == id }) {
            throw DomainError.invalid(field: field, message: "no \(kind) \(id) in this committee")
        }
    }

    /// The committee's working-day calendar for the years `from` through `to`.
    public func calendar(from: CivilDate, to: CivilDate, committee: Int64) async throws -> WorkingCalendar {
        var cal = WorkingCalendar()
        for year in from.year...max(from.year, to.year) {
            guard let y = try await calendarYear(year, committee: committee) else { continue }
            cal.years[year] = WorkingCalendar.Year(table: y)
        }
        return cal
    }

    /// Working days each of `dueDates` is overdue at `asOf` on the committee's calendar
    /// (negative: working days left; 0 for a date that does not parse), as every time limit counts.
    public func workingDaysOverdue(_ dueDates: [String], asOf: CivilDate, committee: Int64) async throws -> [Int32] {
        let dues = dueDates.map { CivilDate($0) }
        let known = dues.compactMap { $0 }
        guard let first = known.min(), let last = known.max() else { return dueDates.map { _ in 0 } }
        let cal = try await calendar(from: min(first, asOf), to: max(last, asOf), committee: committee)
        return dues.map { due in due.map { Int32(cal.workingDays(from: $0, to: asOf).days) } ?? 0 }
    }

    /// `date` moved forward to the first working day on or after it.
    public func workingDay(onOrAfter date: CivilDate, committee: Int64) async throws -> CivilDate {
        try await addWorkingDays(1, to: date.adding(days: -1), committee: committee)
    }
}

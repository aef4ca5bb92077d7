import NIOConcurrencyHelpers
import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// What intake needs from the directory: that the members, units and places it is given exist in
/// the committee, and due dates on the committee's working-day calendar.
public protocol DirectoryLookup: Sendable {
    func member(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Member?
    func unit(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Unit?
    func area(_ id: Int64, committee: Int64) async throws -> Xieshang_Directory_V1_Area?
    /// `date` plus `days` working days on `committee`'s calendar.
    func addWorkingDays(_ days: Int32, to date: CivilDate, committee: Int64) async throws -> CivilDate
}

/// The directory service over gRPC, called as a system principal of the committee concerned.
/// Records found are cached for `ttl` seconds (they are never deleted, rarely changed); NOT_FOUND
/// is nil, and the directory being down is UNAVAILABLE to intake's caller.
public final class RemoteDirectory: DirectoryLookup, @unchecked Sendable {
    let client: Xieshang_Directory_V1_DirectoryServiceClient
    let ttl: Double
    let timeout: Double
    private let cache = NIOLockedValueBox([String: (expires: Double, value: any Sendable)]())

    public init(channel: RPCChannel, ttl: Double = 30, timeout: Double = 5) {
        self.client = Xieshang_Directory_V1_DirectoryServiceClient(channel: channel)
        self.ttl = ttl
        self.timeout = timeout
    }

    func options(_ committee: Int64) -> CallOptions {
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = committee
        p.roles = [.system]
        p.displayName = "intake"
        return CallOptions(metadata: Caller.metadata(for: p), timeout: timeout)
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
    func requireMember(_ id: Int64, committee: Int64, field: String) async throws -> Xieshang_Directory_V1_Member? {
        guard id != 0 else { return nil }
        guard let m = try await member(id, committee: committee) else {
            throw DomainError.invalid(field: field, message: "no member \(id) in this committee")
        }
        return m
    }

    func requireUnit(_ id: Int64, committee: Int64, field: String) async throws {
        guard id != 0 else { return }
        guard try await unit(id, committee: committee) != nil else {
            throw DomainError.invalid(field: field, message: "no unit \(id) in this committee")
        }
    }

    /// Checks a town and village pair: each an area of the right level, the village in the town.
    func requirePlace(town: Int64, village: Int64, committee: Int64) async throws {
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
}

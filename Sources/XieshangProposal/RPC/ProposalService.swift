import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// Proposals' RPC handlers: who may see what and the directory checks here, the life of a
/// proposal in ``ProposalMachine``, persistence in ``ProposalStore``.
public struct ProposalService: Sendable {
    public let store: ProposalStore
    public let directory: DirectoryLookup
    public let feed: EventFeed
    /// Milliseconds since 1970 (injectable so tests can move time).
    public let clock: @Sendable () -> Int64

    public init(store: ProposalStore, directory: DirectoryLookup, clock: @escaping @Sendable () -> Int64 = { XieshangStore.Clock.nowMilliseconds() }) {
        self.store = store
        self.directory = directory
        self.feed = EventFeed(database: store.database)
        self.clock = clock
    }

    /// Today in China Standard Time.
    var today: CivilDate { CivilDate.china(unixMilliseconds: clock()) }

    /// The date `value` names (YYYY-MM-DD), or today when it is empty; INVALID_ARGUMENT naming `field`.
    func day(_ value: String, _ field: String) throws -> CivilDate {
        try Check.day(value, field, or: today)
    }

    /// Roles that see every proposal of their committee.
    static let overseers: [Xieshang_Common_V1_Role] = [.committeeStaff, .liaisonStaff, .leader, .committeeAdmin, .prefectureAdmin, .system]

    static func seesAll(_ caller: Caller) -> Bool { caller.principal.roles.contains { overseers.contains($0) } }

    /// Whether `caller` may see `p`: overseers all, a unit what it is assigned or referred, a
    /// member what they proposed, signed or had merged into it.
    static func canSee(_ p: Proposal, _ caller: Caller) -> Bool {
        if seesAll(caller) { return true }
        let who = caller.principal
        if caller.has(.handlingUnit) && who.unitId != 0 && p.unitIDs.contains(who.unitId) { return true }
        if caller.has(.member) && who.memberId != 0 && p.memberIDs.contains(who.memberId) { return true }
        return false
    }

    /// The proposal if `caller` may see it; NOT_FOUND otherwise (nothing is given away).
    func visible(_ id: Int64, _ caller: Caller) async throws -> Proposal {
        let p = try await store.get(Proposal.self, id: id, committee: caller.committeeID)
        guard Self.canSee(p, caller) else { throw DomainError.notFound(kind: "proposal", id: "\(id)") }
        return p
    }

    /// Applies `command` to proposal `id` as `caller`; a proposal the caller may not see is NOT_FOUND.
    func transition(_ id: Int64, version: Int64, _ caller: Caller,
                    _ make: @escaping @Sendable (Proposal, Transaction) throws -> ProposalCommand) async throws -> Proposal {
        try await store.transition(id, version: version, committee: caller.committeeID, by: Participant(caller),
                                   actor: caller.actor, at: clock(), visible: { Self.canSee($0, caller) }, make)
    }

    /// The same, for a command that does not depend on the current proposal.
    func transition(_ id: Int64, version: Int64, _ caller: Caller, _ command: ProposalCommand) async throws -> Proposal {
        try await transition(id, version: version, caller) { _, _ in command }
    }

    /// The first working day on or after `months` months from `from` (or `workingDays` working
    /// days after it, when set).
    func due(months: Int32, workingDays: Int32 = 0, from: CivilDate, committee: Int64) async throws -> CivilDate {
        if workingDays > 0 { return try await directory.addWorkingDays(workingDays, to: from, committee: committee) }
        return try await directory.workingDay(onOrAfter: from.adding(months: Int(months)), committee: committee)
    }

    /// An assignment to `lead` and `co` from today: units checked, due date and re-assignment
    /// window from the committee's settings.
    func assignment(lead: Int64, co: [Int64], committee: Int64) async throws -> Assignment {
        let coUnits = try ProposalRules.units(lead: lead, co: co)
        try await directory.requireUnit(lead, committee: committee, field: "lead_unit_id")
        for (i, u) in coUnits.enumerated() { try await directory.requireUnit(u, committee: committee, field: "co_unit_ids[\(i)]") }
        let s = try await store.settings(committee: committee)
        let day = today
        let dueDate = try await due(months: s.replyMonths, workingDays: s.replyWorkingDays, from: day, committee: committee)
        let window = try await directory.addWorkingDays(s.reassignWindowDays, to: day, committee: committee)
        return Assignment(leadUnitID: lead, coUnitIDs: coUnits, on: day.description, dueDate: dueDate.description,
                          reassignDeadline: window.description)
    }

    /// Staff of the committee (提案委, special committees) or a service.
    static func requireStaff(_ caller: Caller, to action: String) throws {
        try caller.require(.committeeStaff, to: action)
    }

    /// Names of units (for exports and scores), from the directory's cache.
    func unitNames(_ ids: Set<Int64>, committee: Int64) async throws -> [Int64: String] {
        var names: [Int64: String] = [:]
        for id in ids where id != 0 { names[id] = try await directory.unit(id, committee: committee)?.name ?? "#\(id)" }
        return names
    }
}

import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// Intake's RPC handlers: who may see what and the directory checks here, the life of an item in
/// ``ItemMachine``, persistence in ``IntakeStore``.
public struct IntakeService: Sendable {
    public let store: IntakeStore
    public let directory: DirectoryLookup
    public let feed: EventFeed
    /// Milliseconds since 1970 (injectable so tests can move time).
    public let clock: @Sendable () -> Int64

    public init(store: IntakeStore, directory: DirectoryLookup, clock: @escaping @Sendable () -> Int64 = { XieshangStore.Clock.nowMilliseconds() }) {
        self.store = store
        self.directory = directory
        self.feed = EventFeed(database: store.database)
        self.clock = clock
    }

    /// Today in China Standard Time.
    var today: CivilDate { ItemRules.chinaDate(unixMilliseconds: clock()) }

    /// Roles that see every item of their committee.
    static let overseers: [Xieshang_Common_V1_Role] = [.liaisonStaff, .committeeStaff, .leader, .committeeAdmin, .prefectureAdmin, .system]

    static func seesAll(_ caller: Caller) -> Bool { caller.principal.roles.contains { overseers.contains($0) } }

    /// Whether `caller` may see `item`: overseers all, a unit what is routed to it, a member what
    /// they brought, raised or lead.
    static func canSee(_ item: Xieshang_Intake_V1_Item, _ caller: Caller) -> Bool {
        if seesAll(caller) { return true }
        let p = caller.principal
        if caller.has(.handlingUnit) && p.unitId != 0 && item.unitId == p.unitId { return true }
        if caller.has(.member) && p.memberId != 0
            && [item.bringingMemberId, item.handlingMemberId, ItemRules.raiser(of: item).memberId].contains(p.memberId) { return true }
        return false
    }

    /// The item if `caller` may see it; NOT_FOUND otherwise (nothing is given away).
    func visibleItem(_ id: Int64, _ caller: Caller) async throws -> Xieshang_Intake_V1_Item {
        let item = try await store.get(Xieshang_Intake_V1_Item.self, id: id, committee: caller.committeeID)
        guard Self.canSee(item, caller) else { throw DomainError.notFound(kind: "item", id: "\(id)") }
        return item
    }

    /// Applies `command` to item `id` as `caller`; an item the caller may not see is NOT_FOUND.
    func transition(_ id: Int64, version: Int64, _ caller: Caller,
                    _ make: @escaping @Sendable (Xieshang_Intake_V1_Item, Transaction) throws -> ItemCommand) async throws -> Xieshang_Intake_V1_Item {
        try await store.transition(id, version: version, committee: caller.committeeID, by: Participant(caller),
                                   actor: caller.actor, visible: { Self.canSee($0, caller) }, make)
    }

    /// The due date `days` working days from today (15 when 0).
    func dueDate(_ days: Int32, committee: Int64) async throws -> (Int32, String) {
        guard days >= 0, days <= ItemRules.maxTimeLimit else {
            throw DomainError.invalid(field: "time_limit_days", message: "must be between 1 and \(ItemRules.maxTimeLimit)")
        }
        let limit = days == 0 ? ItemRules.defaultTimeLimit : days
        return (limit, try await directory.addWorkingDays(limit, to: today, committee: committee).description)
    }

    /// What the raiser sees of an item (and of the item it was merged into).
    func ticket(_ item: Xieshang_Intake_V1_Item, shown: Xieshang_Intake_V1_Item) -> Xieshang_Intake_V1_Ticket {
        var t = Xieshang_Intake_V1_Ticket()
        t.ticketCode = item.ticketCode
        t.text = item.text
        t.receivedAtUnixMs = item.receivedAtUnixMs
        t.merged = item.id != shown.id
        t.state = shown.state
        t.steps = shown.steps.filter { $0.action != "chased" }.map {
            var s = Xieshang_Intake_V1_Step()
            s.state = $0.state
            s.atUnixMs = $0.atUnixMs
            s.action = $0.action
            return s
        }
        t.reply = shown.reply
        t.feedback = shown.feedback
        t.outOfScopeReason = shown.outOfScopeReason
        t.satisfaction = shown.satisfaction
        t.canRate = shown.state == .answered || shown.state == .fedBack
        return t
    }
}

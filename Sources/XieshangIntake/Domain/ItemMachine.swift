import XieshangAPI
import XieshangKit

public typealias Item = Xieshang_Intake_V1_Item
public typealias ItemState = Xieshang_Intake_V1_ItemState

extension Participant {
    /// 委员联络服务中心 staff (or a service).
    var isLiaison: Bool { has(.liaisonStaff) }
}

/// What can be done to an upward item. Inputs that need the directory (unit membership, the due
/// date on the working-day calendar) are resolved by the service before the command is applied.
public enum ItemCommand: Sendable, Equatable {
    case register(title: String, category: String, townID: Int64, villageID: Int64, note: String)
    /// This item is a duplicate of `intoID`.
    case merge(intoID: Int64)
    /// `duplicateID` was merged into this item.
    case absorb(duplicateID: Int64)
    case route(mode: Xieshang_Intake_V1_HandlingMode, unitID: Int64, memberID: Int64, limitDays: Int32, dueDate: String, note: String)
    case decline(reason: String)
    case escalate(Xieshang_Intake_V1_Link)
    case link(kind: Xieshang_Intake_V1_EscalationKind, targetID: Int64)
    case acknowledge(note: String)
    case requestReroute(reason: String)
    case reply(String)
    case feedBack(String)
    /// `reopenDueDate` is the new due date should the rating be 不满意.
    case close(Xieshang_Intake_V1_Satisfaction, comment: String, reopenDueDate: String)
    case chase(Xieshang_Intake_V1_Chase)

    /// The action's name in steps, events (`item.<name>`) and errors.
    public var name: String {
        switch self {
        case .register: "registered"
        case .merge: "merged"
        case .absorb: "absorbed"
        case .route: "routed"
        case .decline: "declined"
        case .escalate: "escalated"
        case .link: "linked"
        case .acknowledge: "acknowledged"
        case .requestReroute: "reroute_requested"
        case .reply: "answered"
        case .feedBack: "fed_back"
        case .close: "closed"
        case .chase: "chased"
        }
    }
}

/// The life of an upward item (DOMAIN.md §2) as a pure function: the states a command may start
/// from, who may give it, and the item it leaves. No I/O; the service stores the result.
public enum ItemMachine {
    /// States an item can still take duplicates or links in.
    static let open: Set<ItemState> = [.received, .registered, .routed, .inProgress, .answered, .fedBack]

    /// The states each command may start from.
    public static func sources(of command: ItemCommand) -> Set<ItemState> {
        switch command {
        case .register: [.received, .registered]
        case .merge: [.received, .registered]
        case .absorb: open
        case .route: [.registered, .routed, .inProgress]
        case .decline: [.received, .registered]
        case .escalate: [.registered]
        case .link: Set(ItemState.allKnownCases).subtracting([.unspecified])
        case .acknowledge: [.routed]
        case .requestReroute: [.routed, .inProgress]
        case .reply: [.inProgress]
        case .feedBack: [.answered]
        case .close: [.answered, .fedBack]
        case .chase: [.routed, .inProgress]
        }
    }

    /// Throws PERMISSION_DENIED unless `who` may give `command` for `item`.
    public static func authorize(_ command: ItemCommand, on item: Item, by who: Participant) throws {
        let handler = (who.has(.handlingUnit) && who.unitID != 0 && who.unitID == item.unitId)
            || (who.has(.member) && who.memberID != 0 && who.memberID == item.handlingMemberId)
        let allowed: Bool
        switch command {
        case .register, .merge, .absorb, .route, .decline, .escalate, .chase:
            allowed = who.isLiaison
        case .link:
            allowed = who.isLiaison || who.has(.committeeStaff)
        case .acknowledge, .reply:
            allowed = who.isLiaison || handler
        case .requestReroute:
            allowed = handler
        case .feedBack:
            allowed = who.isLiaison || handler
                || (who.has(.member) && who.memberID != 0 && who.memberID == item.bringingMemberId)
        case .close:
            // The public rates through its ticket; staff record a rating given to them.
            allowed = who.isLiaison || who.has(.public)
        }
        if !allowed {
            throw DomainError.forbidden("\(command.name.replacingOccurrences(of: "_", with: " ")) item \(item.id): not allowed for this account")
        }
    }

    /// The item after `command`, and the event type to record. FAILED_PRECONDITION naming the
    /// current state when the state does not allow it; INVALID_ARGUMENT for missing inputs.
    public static func apply(_ command: ItemCommand, to item: Item, by who: Participant, at ms: Int64) throws -> (Item, String) {
        try authorize(command, on: item, by: who)
        guard sources(of: command).contains(item.state) else {
            throw DomainError.notAllowed("item \(item.id) is \(item.state.label); it cannot be \(command.name.replacingOccurrences(of: "_", with: " ")) now")
        }
        var next = item
        var note = ""
        var eventType = "item.\(command.name)"
        switch command {
        case .register(let title, let category, let town, let village, let n):
            if !title.isEmpty { next.title = title }
            if !category.isEmpty { next.category = category }
            if town != 0 { next.townId = town }
            if village != 0 { next.villageId = village }
            if next.title.isEmpty { next.title = ItemRules.defaultTitle(next.text) }
            guard !next.category.isEmpty else { throw DomainError.invalid(field: "category", message: "required to register") }
            next.state = .registered
            note = n
        case .merge(let into):
            guard into != item.id else { throw DomainError.invalid(field: "into_id", message: "an item cannot be merged into itself") }
            next.mergedIntoId = into
            next.state = .merged
        case .absorb(let duplicate):
            if !next.mergedIds.contains(duplicate) { next.mergedIds.append(duplicate) }
            note = "merged item \(duplicate)"
        case .route(let mode, let unit, let member, let days, let due, let n):
            guard mode != .unspecified else { throw DomainError.invalid(field: "mode", message: "required") }
            guard unit > 0 else { throw DomainError.invalid(field: "unit_id", message: "required") }
            if mode == .directLead && member == 0 {
                throw DomainError.invalid(field: "handling_member_id", message: "直接领办 needs the member who leads it")
            }
            if item.state != .registered { eventType = "item.rerouted" }
            next.handlingMode = mode
            next.unitId = unit
            next.handlingMemberId = mode == .directLead ? member : 0
            next.timeLimitDays = days
            next.dueDate = due
            next.rerouteRequested = false
            next.rerouteReason = ""
            next.state = .routed
            note = n
        case .decline(let reason):
            guard !reason.isEmpty else { throw DomainError.invalid(field: "reason", message: "required") }
            next.outOfScopeReason = reason
            next.state = .outOfScope
            note = reason
        case .escalate(let link):
            guard link.kind != .unspecified else { throw DomainError.invalid(field: "kind", message: "required") }
            next.links.append(link)
            next.state = .escalated
            note = link.note
        case .link(let kind, let target):
            guard kind != .unspecified else { throw DomainError.invalid(field: "kind", message: "required") }
            guard target > 0 else { throw DomainError.invalid(field: "target_id", message: "required") }
            if let i = next.links.firstIndex(where: { $0.kind == kind && ($0.targetId == 0 || $0.targetId == target) }) {
                next.links[i].targetId = target
            } else {
                var l = Xieshang_Intake_V1_Link()
                l.kind = kind
                l.targetId = target
                l.atUnixMs = ms
                next.links.append(l)
            }
        case .acknowledge(let n):
            next.state = .inProgress
            note = n
        case .requestReroute(let reason):
            guard !reason.isEmpty else { throw DomainError.invalid(field: "reason", message: "required") }
            next.rerouteRequested = true
            next.rerouteReason = reason
            note = reason
        case .reply(let text):
            guard !text.isEmpty else { throw DomainError.invalid(field: "reply", message: "required") }
            next.reply = text
            next.state = .answered
        case .feedBack(let content):
            guard !content.isEmpty else { throw DomainError.invalid(field: "content", message: "required") }
            next.feedback = content
            next.state = .fedBack
        case .close(let satisfaction, let comment, let reopenDue):
            guard satisfaction != .unspecified else { throw DomainError.invalid(field: "satisfaction", message: "required") }
            next.satisfaction = satisfaction
            next.satisfactionComment = comment
            note = comment
            if satisfaction == .dissatisfied {
                // 不满意 sends it back to the same unit with a fresh time limit.
                next.state = .routed
                next.reopenCount += 1
                next.dueDate = reopenDue
                next.reply = ""
                eventType = "item.reopened"
            } else {
                next.state = .closed
                next.closedAtUnixMs = ms
            }
        case .chase(let chase):
            guard chase.method != .unspecified else { throw DomainError.invalid(field: "method", message: "required") }
            next.chases.append(chase)
            note = [chase.whom, chase.note].filter { !$0.isEmpty }.joined(separator: ": ")
        }
        next.steps.append(step(next.state, action: String(eventType.dropFirst("item.".count)), by: who.name, at: ms, note: note))
        return (next, eventType)
    }

    /// A new item as received at `ms` (China Standard Time for its date), its first step by `name`.
    public static func received(_ item: Item, by name: String, at ms: Int64) -> Item {
        var r = item
        r.state = .received
        r.receivedAtUnixMs = ms
        r.receivedOn = ItemRules.chinaDate(unixMilliseconds: ms).description
        r.steps = [step(.received, action: "received", by: name, at: ms)]
        return r
    }

    static func step(_ state: ItemState, action: String, by name: String, at ms: Int64, note: String = "") -> Xieshang_Intake_V1_Step {
        var step = Xieshang_Intake_V1_Step()
        step.state = state
        step.atUnixMs = ms
        step.actor = name
        step.action = action
        step.note = note
        return step
    }

    /// Whether an item counts as overdue on `today`: still with the unit and past its due date.
    public static func isOverdue(_ item: Item, today: CivilDate) -> Bool {
        guard item.state == .routed || item.state == .inProgress, let due = CivilDate(item.dueDate) else { return false }
        return due < today
    }
}

extension Xieshang_Intake_V1_ItemState {
    /// The state's name in messages, e.g. `in progress`.
    public var label: String {
        switch self {
        case .unspecified: "unspecified"
        case .received: "received"
        case .registered: "registered"
        case .routed: "routed"
        case .inProgress: "in progress"
        case .answered: "answered"
        case .fedBack: "fed back"
        case .closed: "closed"
        case .outOfScope: "out of scope"
        case .escalated: "escalated"
        case .merged: "merged"
        default: "state \(rawValue)"
        }
    }
}

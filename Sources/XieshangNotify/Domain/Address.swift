import XieshangAPI

/// Whom a notification is for: an account, a member, a unit, a staff role of the committee or a
/// public ticket. Accounts read what is addressed to them, their member, their unit and their
/// staff roles (see ``Address/inbox(of:)``), so an account made later still sees its unit's
/// notifications, and nothing is resolved when the event is read.
public struct Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public typealias Kind = Xieshang_Notify_V1_RecipientKind
    public var kind: Kind
    /// The account, member or unit; the role's number for staff.
    public var id: Int64
    /// For tickets.
    public var ticket: String

    public init(kind: Kind, id: Int64 = 0, ticket: String = "") {
        self.kind = kind
        self.id = id
        self.ticket = ticket
    }

    public static func member(_ id: Int64) -> Address { Address(kind: .member, id: id) }
    public static func unit(_ id: Int64) -> Address { Address(kind: .unit, id: id) }
    public static func account(_ id: Int64) -> Address { Address(kind: .account, id: id) }
    public static func ticket(_ code: String) -> Address { Address(kind: .ticket, ticket: code) }
    public static func staff(_ role: Xieshang_Common_V1_Role) -> Address { Address(kind: .staff, id: Int64(role.rawValue)) }
    /// 委员联络服务中心: intake's items.
    public static let liaisonStaff = staff(.liaisonStaff)
    /// 提案委/专委会: proposals and consultations.
    public static let committeeStaff = staff(.committeeStaff)

    /// The kind's name in keys and webhook payloads.
    public static func name(of kind: Kind) -> String {
        switch kind {
        case .account: "account"
        case .member: "member"
        case .unit: "unit"
        case .staff: "staff"
        case .ticket: "ticket"
        default: "unspecified"
        }
    }

    /// Stored and keyed as `kind:id` (`ticket:CODE` for tickets).
    public var description: String {
        "\(Self.name(of: kind)):" + (kind == .ticket ? ticket : "\(id)")
    }

    /// The stored column value: the id, or 0 for tickets (whose code has a column of its own).
    public var storedID: Int64 { kind == .ticket ? 0 : id }

    public static func < (l: Address, r: Address) -> Bool { l.description < r.description }

    /// Every address whose notifications `principal` reads in its inbox.
    public static func inbox(of principal: Xieshang_Common_V1_Principal) -> [Address] {
        var out: [Address] = []
        if principal.accountId > 0 { out.append(.account(principal.accountId)) }
        if principal.memberId > 0 { out.append(.member(principal.memberId)) }
        if principal.unitId > 0 { out.append(.unit(principal.unitId)) }
        for role in [Xieshang_Common_V1_Role.liaisonStaff, .committeeStaff] where principal.roles.contains(role) {
            out.append(.staff(role))
        }
        // A committee admin does what both staff do (DOMAIN.md roles), so reads both.
        if principal.roles.contains(.committeeAdmin) {
            for a in [Address.liaisonStaff, .committeeStaff] where !out.contains(a) { out.append(a) }
        }
        return out
    }

    /// The message form (name and phone are filled for webhook deliveries only).
    public var message: Xieshang_Notify_V1_Recipient {
        var r = Xieshang_Notify_V1_Recipient()
        r.kind = kind
        switch kind {
        case .ticket: r.ticketCode = ticket
        case .staff: r.role = Xieshang_Common_V1_Role(rawValue: Int32(id))
        default: r.id = id
        }
        return r
    }
}

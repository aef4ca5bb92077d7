import XieshangAPI

/// Whoever acts on a record: their roles and the member or unit their account belongs to.
public struct Participant: Sendable, Equatable {
    public var roles: [Xieshang_Common_V1_Role]
    public var memberID: Int64
    public var unitID: Int64
    public var name: String

    public init(roles: [Xieshang_Common_V1_Role], memberID: Int64 = 0, unitID: Int64 = 0, name: String) {
        self.roles = roles
        self.memberID = memberID
        self.unitID = unitID
        self.name = name
    }

    /// The participant behind an RPC's principal.
    public init(_ caller: Caller) {
        self.init(roles: caller.principal.roles, memberID: caller.principal.memberId, unitID: caller.principal.unitId,
                  name: caller.principal.displayName)
    }

    /// Whether they have `role` (a service has every role).
    public func has(_ role: Xieshang_Common_V1_Role) -> Bool { roles.contains(role) || roles.contains(.system) }
}

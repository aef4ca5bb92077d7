import XieshangAPI
import XieshangRPC

/// The authenticated caller of an RPC, from the `x-xieshang-principal-bin` metadata entry.
public struct Caller: Sendable {
    /// The metadata key carrying the encoded ``Xieshang_Common_V1_Principal``.
    public static let metadataKey = "x-xieshang-principal-bin"

    /// Who is calling.
    public let principal: Xieshang_Common_V1_Principal

    /// A caller for `principal`.
    public init(_ principal: Xieshang_Common_V1_Principal) {
        self.principal = principal
    }

    /// The caller of the current call; UNAUTHENTICATED when the principal is missing or malformed.
    public init(context: ServerContext) throws {
        guard let bytes = context.metadata.binary(Self.metadataKey) else {
            throw DomainError.unauthenticated("no principal: call through the gateway")
        }
        guard let p = try? Xieshang_Common_V1_Principal(serializedBytes: bytes), p.committeeId > 0 else {
            throw DomainError.unauthenticated("the principal is malformed or names no committee")
        }
        principal = p
    }

    /// The committee every call is scoped to.
    public var committeeID: Int64 { principal.committeeId }

    /// Whether the caller has any of `roles`.
    public func has(_ roles: Xieshang_Common_V1_Role...) -> Bool {
        principal.roles.contains { roles.contains($0) }
    }

    /// Whether the caller is a service (cross-committee).
    public var isSystem: Bool { principal.roles.contains(.system) }

    /// Throws PERMISSION_DENIED unless the caller has one of `roles` (system principals always pass).
    public func require(_ roles: Xieshang_Common_V1_Role..., to action: String) throws {
        if isSystem || principal.roles.contains(where: { roles.contains($0) }) { return }
        throw DomainError.forbidden("\(action) needs one of: \(roles.map { "\($0)" }.joined(separator: ", "))")
    }

    /// Throws PERMISSION_DENIED for the public (群众) alone: directory reads need a staff, member,
    /// unit or leader account.
    public func requireAccount(to action: String) throws {
        if principal.roles.contains(where: { $0 != .public && $0 != .unspecified }) { return }
        throw DomainError.forbidden("\(action) needs a committee account")
    }

    /// Metadata for a service calling another as itself (`service` is recorded as the actor):
    /// a system principal of `committee`, which system principals see past.
    public static func system(_ service: String, committee: Int64) -> Metadata {
        metadata(for: systemPrincipal(service, committee: committee))
    }

    /// The principal of a service acting as itself (or on someone's behalf, named in `service`).
    public static func systemPrincipal(_ service: String, committee: Int64) -> Xieshang_Common_V1_Principal {
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = committee
        p.roles = [.system]
        p.displayName = service
        return p
    }

    /// Metadata carrying `principal`, for client calls; signed when the process has a
    /// ``PrincipalSigner``.
    public static func metadata(for principal: Xieshang_Common_V1_Principal) -> Metadata {
        if let signer = PrincipalSigner.process { return signer.metadata(for: principal) }
        var m = Metadata()
        m.add(metadataKey, binary: principal.serializedBytes())
        return m
    }
}

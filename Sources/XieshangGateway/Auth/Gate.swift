import XieshangAPI
import XieshangKit
import XieshangRPC

/// What every call through the gateway passes first: who is calling (a token, or no one), whether
/// the policy lets them call this method, the public's rate limit, and the signed principal the
/// call is forwarded with.
public struct Gate: Sendable {
    /// The metadata key naming the committee an anonymous (public) call is for.
    public static let committeeKey = "x-xieshang-committee"

    public let authenticator: Authenticator
    public let policy: Policy
    public let limiter: RateLimiter
    /// Wrong passwords per client address (Login).
    public let logins = LoginThrottle()
    public let signer: PrincipalSigner

    public init(authenticator: Authenticator, policy: Policy = Policy(), limiter: RateLimiter, signer: PrincipalSigner) {
        self.authenticator = authenticator
        self.policy = policy
        self.limiter = limiter
        self.signer = signer
    }

    /// The caller of the current call and the options to forward it with; UNAUTHENTICATED,
    /// PERMISSION_DENIED or RESOURCE_EXHAUSTED when it may not go on.
    public func admit(_ context: ServerContext) async throws -> (principal: Xieshang_Common_V1_Principal, options: CallOptions) {
        let principal: Xieshang_Common_V1_Principal
        if let session = try await authenticator.session(for: context.metadata) {
            if case .deny(let why) = policy.decide(path: context.path, roles: session.principal.roles, prefectureCommittee: session.prefecture) {
                throw DomainError.forbidden(why)
            }
            return (session.principal, forwardOptions(signed: session.signed, context: context))
        } else {
            if case .deny(let why) = policy.decide(path: context.path, roles: [], prefectureCommittee: false) {
                throw DomainError.unauthenticated("\(why): send 'authorization: Bearer <token>' (GatewayService/Login issues one)")
            }
            guard limiter.admit(context.clientAddress) else {
                throw RPCError(.resourceExhausted, "too many public calls from this address; at most \(limiter.perMinute) a minute")
            }
            principal = try await Self.publicPrincipal(context.metadata, authenticator: authenticator)
        }
        return (principal, forwardOptions(principal, context: context))
    }

    /// The public's principal: no account, the committee the QR code names.
    static func publicPrincipal(_ metadata: Metadata, authenticator: Authenticator) async throws -> Xieshang_Common_V1_Principal {
        guard let raw = metadata[committeeKey] else {
            throw DomainError.invalid(field: committeeKey, message: "a public call names its committee (the QR code carries it)")
        }
        guard let id = Int64(raw), id > 0 else { throw DomainError.invalid(field: committeeKey, message: "'\(raw)' is not a committee id") }
        _ = try await authenticator.committeeInfo(id)
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = id
        p.roles = [.public]
        p.displayName = "群众"
        return p
    }

    /// Call options carrying `principal`, signed, and the caller's own metadata except
    /// credentials and anything claiming to be a principal (the deadline follows by itself).
    public func forwardOptions(_ principal: Xieshang_Common_V1_Principal, context: ServerContext) -> CallOptions {
        forwardOptions(signed: signer.metadata(for: principal), context: context)
    }

    /// The same, from a principal already signed (a session's).
    func forwardOptions(signed: Metadata, context: ServerContext) -> CallOptions {
        var m = signed
        for (key, value) in context.metadata where !Self.dropped(key) {
            switch value {
            case .string(let s): m.add(key, s)
            case .binary(let b): m.add(key, binary: b)
            }
        }
        return CallOptions(metadata: m)
    }

    private static func dropped(_ key: String) -> Bool {
        key == "authorization" || key.hasPrefix("x-xieshang-") || key.hasPrefix("grpc-") || key == "te" || key == "content-type"
            || key == "user-agent"
    }
}

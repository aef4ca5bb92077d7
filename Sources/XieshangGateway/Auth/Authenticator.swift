import NIOConcurrencyHelpers
import NIOCore
import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// Turns credentials into principals: password login (through the directory's `Authenticate`,
/// then a session token from its `CreateToken`) and bearer tokens (the directory's
/// `ResolveToken`, remembered for ``cacheSeconds`` so each call does not cost a directory hop —
/// a revoked token stops working within that time).
public final class Authenticator: Sendable {
    /// An authenticated caller and what the policy needs to know about its committee.
    public struct Session: Sendable {
        public let principal: Xieshang_Common_V1_Principal
        public let committeeName: String
        public let prefecture: Bool
        /// The principal and its signature as forwarded, made once per session rather than per call.
        public let signed: Metadata
    }

    private let directory: Xieshang_Directory_V1_DirectoryServiceClient
    private let signer: PrincipalSigner
    /// Lifetime of a login's token, seconds.
    public let sessionSeconds: Double
    /// How long a resolved token is trusted without asking the directory again, seconds.
    public let cacheSeconds: Double

    private struct Cached { let session: Session; let until: NIODeadline }
    private let tokens = NIOLockedValueBox<[String: Cached]>([:])
    private let committees = NIOLockedValueBox<[Int64: (name: String, prefecture: Bool, until: NIODeadline)]>([:])

    public init(directory: any ClientTransport, signer: PrincipalSigner, sessionSeconds: Double = 12 * 3600, cacheSeconds: Double = 30) {
        self.directory = Xieshang_Directory_V1_DirectoryServiceClient(channel: directory)
        self.signer = signer
        self.sessionSeconds = sessionSeconds
        self.cacheSeconds = cacheSeconds
    }

    private var system: CallOptions {
        CallOptions(metadata: signer.metadata(for: Caller.systemPrincipal("gateway", committee: 1)), timeout: 10)
    }

    /// Checks a username and password and issues a session token.
    public func login(username: String, password: String) async throws -> Xieshang_Gateway_V1_LoginResponse {
        guard !username.isEmpty, username.utf8.count <= 200 else { throw DomainError.invalid(field: "username", message: "must be 1 to 200 bytes") }
        guard !password.isEmpty, password.utf8.count <= 1024 else { throw DomainError.invalid(field: "password", message: "must be 1 to 1024 bytes") }
        var req = Xieshang_Directory_V1_AuthenticateRequest()
        req.username = username
        req.password = password
        let auth = try await directory.authenticate(req, options: system)
        guard let account = auth.account, let principal = auth.principal else {
            throw RPCError(.internal, "the directory answered a login without an account")
        }
        var t = Xieshang_Directory_V1_CreateTokenRequest()
        t.accountId = account.id
        t.name = "session"
        let expires = XieshangStore.Clock.nowMilliseconds() + Int64(sessionSeconds * 1000)
        t.expiresAtUnixMs = expires
        let issued = try await directory.createToken(t, options: CallOptions(metadata: signer.metadata(for: principal), timeout: 10))
        var r = Xieshang_Gateway_V1_LoginResponse()
        r.token = issued.secret
        r.expiresAtUnixMs = expires
        r.principal = principal
        return r
    }

    /// The session a call's `authorization: Bearer …` stands for; nil when the call carries no
    /// credentials (an anonymous caller); UNAUTHENTICATED when they are wrong or expired.
    public func session(for metadata: Metadata) async throws -> Session? {
        guard let header = metadata["authorization"] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw DomainError.unauthenticated("authorization must be 'Bearer <token>'")
        }
        let secret = String(parts[1])
        let now = NIODeadline.now()
        if let hit = tokens.withLockedValue({ $0[secret] }), hit.until > now { return hit.session }
        var req = Xieshang_Directory_V1_ResolveTokenRequest()
        req.secret = secret
        let resolved: Xieshang_Directory_V1_AuthenticateResponse
        do {
            resolved = try await directory.resolveToken(req, options: system)
        } catch let e as RPCError where e.code == .unauthenticated {
            tokens.withLockedValue { _ = $0.removeValue(forKey: secret) }
            throw e
        }
        guard let principal = resolved.principal else { throw RPCError(.internal, "the directory resolved a token to no principal") }
        let committee = try await committeeInfo(principal.committeeId)
        let session = Session(principal: principal, committeeName: committee.name, prefecture: committee.prefecture,
                              signed: signer.metadata(for: principal))
        tokens.withLockedValue { t in
            if t.count > 50_000 { t = t.filter { $0.value.until > now } }
            t[secret] = Cached(session: session, until: now + .milliseconds(Int64(cacheSeconds * 1000)))
        }
        return session
    }

    /// A committee's name and level (remembered for five minutes).
    public func committeeInfo(_ id: Int64) async throws -> (name: String, prefecture: Bool) {
        let now = NIODeadline.now()
        if let c = committees.withLockedValue({ $0[id] }), c.until > now { return (c.name, c.prefecture) }
        var g = Xieshang_Directory_V1_GetRequest()
        g.id = id
        let c = try await directory.getCommittee(g, options: system)
        committees.withLockedValue { $0[id] = (c.name, c.level == .prefecture, now + .seconds(300)) }
        return (c.name, c.level == .prefecture)
    }
}

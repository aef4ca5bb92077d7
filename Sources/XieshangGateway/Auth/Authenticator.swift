import NIOConcurrencyHelpers
import NIOCore
import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// Turns credentials into principals: password login (through the directory's `Authenticate`,
/// then a session token from its `CreateToken`) and bearer tokens (the directory's
/// `ResolveToken`, remembered for ``cacheSeconds`` so each call does not cost a directory hop,
/// and never past the token's own expiry). ``followDirectory()`` watches the directory's
/// accounts and tokens and forgets an account's cached tokens the moment one of them changes
/// (revoked, disabled, roles changed), so revocation reaches every gateway at once; while that
/// feed is not caught up, tokens are remembered for ``unfollowedSeconds`` only.
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

    /// How long a token is remembered while the directory's feed is not followed, seconds.
    public let unfollowedSeconds: Double = 2

    private struct Cached { let session: Session; let until: NIODeadline }
    private let tokens = NIOLockedValueBox<[String: Cached]>([:])
    /// Bumped by every invalidation: a resolution that raced one is not cached.
    private let generation = NIOLockedValueBox<UInt64>(0)
    /// Whether the directory's feed is caught up (its last heartbeat came after the last event).
    private let following = NIOLockedValueBox(false)
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
        let seen = generation.withLockedValue { $0 }
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
        var until = now + .milliseconds(Int64((following.withLockedValue { $0 } ? cacheSeconds : unfollowedSeconds) * 1000))
        if resolved.tokenExpiresAtUnixMs > 0 {
            // An expired token never passes: the cache ends with the token.
            let left = resolved.tokenExpiresAtUnixMs - XieshangStore.Clock.nowMilliseconds()
            until = min(until, now + .milliseconds(max(left, 0)))
        }
        tokens.withLockedValue { t in
            if t.count > 50_000 { t = t.filter { $0.value.until > now } }
            // Not cached if an account changed while the directory was asked (its answer may be older).
            if generation.withLockedValue({ $0 }) == seen { t[secret] = Cached(session: session, until: until) }
        }
        return session
    }

    /// Forgets every cached token of `account` (a token of it, or the account, changed).
    func invalidate(account: Int64) {
        generation.withLockedValue { $0 &+= 1 }
        tokens.withLockedValue { t in t = t.filter { $0.value.session.principal.accountId != account } }
    }

    /// Follows the directory's account and token events until cancelled, reconnecting after a
    /// failure from where it stopped. Every change of an account or of one of its tokens drops
    /// that account's cached tokens.
    public func followDirectory() -> Task<Void, Never> {
        Task { [self] in
            var cursor: Int64 = 0
            while !Task.isCancelled {
                var req = Xieshang_Events_V1_WatchRequest()
                req.afterCursor = cursor
                req.entityKinds = [Self.accountKind, Self.tokenKind]
                req.heartbeats = true
                let call = directory.watch(req, options: CallOptions(metadata: system.metadata))
                do {
                    for try await e in call.responses {
                        cursor = max(cursor, e.sequence)
                        if e.entityKind.isEmpty {
                            following.withLockedValue { $0 = true }  // caught up with the head
                            continue
                        }
                        if let account = Self.account(of: e) { invalidate(account: account) }
                    }
                } catch {}
                // Until the feed is back, nothing tells of revocations: cache briefly, and forget now.
                following.withLockedValue { $0 = false }
                tokens.withLockedValue { $0.removeAll() }
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
    }

    /// The directory's entity kinds for accounts and tokens (its StoredEntity names).
    static let accountKind = "account", tokenKind = "api_token"

    /// The account an account or token event is about.
    static func account(of e: Xieshang_Events_V1_Event) -> Int64? {
        switch e.entityKind {
        case accountKind:
            return Int64(e.entityId)
        case tokenKind:
            let payload = e.after.isEmpty ? e.before : e.after
            return (try? Xieshang_Directory_V1_ApiToken(serializedBytes: payload))?.accountId
        default:
            return nil
        }
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

import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// `xieshang.gateway.v1.GatewayService`: login, who-am-i, and the calls composed across services.
public struct GatewayService: Sendable {
    public let gate: Gate
    let directory: Xieshang_Directory_V1_DirectoryServiceClient
    let intake: Xieshang_Intake_V1_IntakeServiceClient
    let proposals: Xieshang_Proposal_V1_ProposalServiceClient
    let consultation: Xieshang_Consultation_V1_ConsultationServiceClient
    let analytics: Xieshang_Analytics_V1_AnalyticsServiceClient

    /// The gateway's own service over the services' pooled clients.
    public init(gate: Gate, routes: Routes) {
        self.gate = gate
        directory = .init(channel: routes.directory)
        intake = .init(channel: routes.intake)
        proposals = .init(channel: routes.proposals)
        consultation = .init(channel: routes.consultation)
        analytics = .init(channel: routes.analytics)
    }

    /// Seconds a composed call waits for each service when the caller set no deadline.
    static let stepTimeout = 10.0

    /// Admits a composed call; its steps go out with the caller's principal and a step timeout.
    func admitComposed(_ context: ServerContext) async throws -> (Xieshang_Common_V1_Principal, CallOptions) {
        let (principal, options) = try await gate.admit(context)
        return (principal, CallOptions(metadata: options.metadata, timeout: Self.stepTimeout))
    }
}

extension GatewayService: Xieshang_Gateway_V1_GatewayServiceProvider {
    public func login(request: Xieshang_Gateway_V1_LoginRequest, context: ServerContext) async throws -> Xieshang_Gateway_V1_LoginResponse {
        // Open to anyone, and rate limited per address like the public's calls (password guessing).
        let address = context.clientAddress
        guard gate.limiter.admit(address) else {
            throw RPCError(.resourceExhausted, "too many attempts from this address; at most \(gate.limiter.perMinute) a minute")
        }
        if let wait = gate.logins.refusal(address) {
            throw RPCError(.resourceExhausted, "too many wrong passwords from this address; try again in \(Int(wait.rounded(.up))) s")
        }
        do {
            let r = try await gate.authenticator.login(username: request.username, password: request.password)
            gate.logins.succeeded(address)
            return r
        } catch let e as RPCError where e.code == .unauthenticated {
            // Slower answers to a guesser, then a lock on the address (LoginThrottle).
            let (delay, lockedFor) = gate.logins.failed(address)
            if let lockedFor {
                SecurityLog.warning("gateway: address \(address) refused for \(Int(lockedFor)) s after \(LoginThrottle.lockAfter) wrong passwords")
                throw RPCError(.resourceExhausted, "\(e.message); too many wrong passwords from this address: refused for \(Int(lockedFor)) s")
            }
            if delay > 0 { try? await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
            throw e
        }
    }

    public func whoAmI(request: Xieshang_Gateway_V1_WhoAmIRequest, context: ServerContext) async throws -> Xieshang_Gateway_V1_WhoAmIResponse {
        let (principal, _) = try await gate.admit(context)
        var r = Xieshang_Gateway_V1_WhoAmIResponse()
        r.principal = principal
        r.committeeName = try await gate.authenticator.committeeInfo(principal.committeeId).name
        return r
    }

    public func getMemberSummary(request: Xieshang_Gateway_V1_MemberSummaryRequest, context: ServerContext) async throws -> Xieshang_Gateway_V1_MemberSummary {
        let (principal, opts) = try await admitComposed(context)
        let memberID = request.memberId != 0 ? request.memberId : principal.memberId
        guard memberID > 0 else { throw DomainError.invalid(field: "member_id", message: "name a member (this account belongs to none)") }
        if principal.roles == [.member] && memberID != principal.memberId {
            throw DomainError.forbidden("a member reads only their own summary")
        }
        guard request.year == 0 || (2000...2100).contains(request.year) else {
            throw DomainError.invalid(field: "year", message: "\(request.year) is not a year between 2000 and 2100")
        }
        let year = request.year != 0 ? request.year : Int32(CivilDate.china(unixMilliseconds: XieshangStore.Clock.nowMilliseconds()).year)

        var get = Xieshang_Directory_V1_GetRequest()
        get.id = memberID
        let member = try await directory.getMember(get, options: opts)

        var s = Xieshang_Gateway_V1_MemberSummary()
        s.memberId = memberID
        s.name = member.name
        s.year = year
        return await MemberSummaryBuilder(service: self, options: opts).fill(s)
    }

    public func escalate(request: Xieshang_Gateway_V1_EscalateRequest, context: ServerContext) async throws -> Xieshang_Gateway_V1_EscalateResponse {
        let (principal, opts) = try await admitComposed(context)
        try Check.id(request.itemId, "item_id", required: true)
        try Check.known(request.target, "target")
        let title = try Check.text(request.title, "title", required: false, max: 100)
        let note = try Check.longText(request.note, "note", required: false, max: 500)
        return try await Escalation(service: self, principal: principal, callerOptions: opts)
            .run(itemID: request.itemId, target: request.target, title: title, note: note)
    }

    public func search(request: Xieshang_Gateway_V1_SearchRequest, context: ServerContext) async throws -> Xieshang_Gateway_V1_SearchResponse {
        let (_, opts) = try await admitComposed(context)
        let query = try Check.text(request.query, "query", max: 100)
        guard query.count >= 2 else { throw DomainError.invalid(field: "query", message: "needs at least two characters") }
        guard (0...50).contains(request.limit) else { throw DomainError.invalid(field: "limit", message: "must be 0 to 50") }
        let limit = request.limit == 0 ? 10 : request.limit
        return await CrossSearch(service: self, options: opts).run(query: query, limit: limit)
    }
}

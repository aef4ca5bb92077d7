import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

extension ProposalService: Xieshang_Proposal_V1_ProposalServiceProvider {
    // MARK: Submission and signing (提)

    public func submitProposal(request: Xieshang_Proposal_V1_Proposal, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        try caller.require(.member, .committeeStaff, to: "submitting a proposal")
        var r = request
        if !caller.has(.committeeStaff) && !caller.isSystem {
            // A member submits their own proposal, alone or jointly.
            guard caller.principal.memberId != 0 else { throw DomainError.forbidden("this account belongs to no member") }
            guard r.proposerKind == .member || r.proposerKind == .joint || r.proposerKind == .unspecified else {
                throw DomainError.forbidden("group proposals are submitted by committee staff")
            }
            if r.leadMemberId == 0 { r.leadMemberId = caller.principal.memberId }
            if r.leadMemberId != caller.principal.memberId {
                throw DomainError.invalid(field: "lead_member_id", message: "a member submits only their own proposals")
            }
        }
        var p = try ProposalRules.submission(r, today: today)
        let committee = caller.committeeID
        if let lead = try await directory.requireMember(p.leadMemberId, committee: committee, field: "lead_member_id") {
            if p.proposerKind == .member || p.proposerKind == .joint {
                p.proposerName = lead.name
                p.sectorId = lead.sectorId
            }
            if p.termId == 0 { p.termId = lead.termId }
        }
        for i in p.coSigners.indices {
            let m = try await directory.requireMember(p.coSigners[i].memberId, committee: committee, field: "co_signers[\(i)].member_id")
            p.coSigners[i].name = m?.name ?? ""
        }
        switch p.proposerKind {
        case .sectorGroup:
            let all = try await directory.sectors(committee: committee)
            try directory.require(p.sectorId, in: all, id: \.id, kind: "sector", field: "sector_id")
            p.proposerName = (all.first { $0.id == p.sectorId }?.name ?? "") + "界别"
        case .partyGroup:
            let all = try await directory.parties(committee: committee)
            try directory.require(p.partyId, in: all, id: \.id, kind: "party", field: "party_id")
            p.proposerName = all.first { $0.id == p.partyId }?.name ?? ""
        case .specialCommittee:
            let all = try await directory.specialCommittees(committee: committee)
            try directory.require(p.specialCommitteeId, in: all, id: \.id, kind: "special committee", field: "special_committee_id")
            p.proposerName = all.first { $0.id == p.specialCommitteeId }?.name ?? ""
        default:
            break
        }
        let terms = try await directory.terms(committee: committee)
        if p.termId != 0 {
            try directory.require(p.termId, in: terms, id: \.id, kind: "term", field: "term_id")
        } else {
            p.termId = terms.first { $0.current }?.id ?? 0
        }
        return try await store.submit(p, committee: committee, actor: caller.actor, at: clock())
    }

    public func getProposal(request: Xieshang_Proposal_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading proposals")
        return try await visible(request.id, caller)
    }

    /// The listing's filters, scoped to what `caller` may see; nil when the caller asked for
    /// another unit's or member's proposals (an empty answer).
    func query(_ request: Xieshang_Proposal_V1_ListProposalsRequest, _ caller: Caller) throws -> ProposalQuery? {
        try caller.requireAccount(to: "listing proposals")
        var q = ProposalQuery()
        q.terms = SearchGrams.terms(of: try Check.text(request.query, "query", required: false, max: 100))
        for (i, s) in request.states.enumerated() { try Check.known(s, "states[\(i)]") }
        q.states = request.states
        for (field, id) in [("unit_id", request.unitId), ("member_id", request.memberId), ("sector_id", request.sectorId), ("term_id", request.termId)] {
            try Check.id(id, field)
        }
        q.unitID = request.unitId
        q.memberID = request.memberId
        q.sectorID = request.sectorId
        q.termID = request.termId
        q.category = try Check.text(request.category, "category", required: false, max: 20)
        q.keyOnly = request.keyOnly
        try Check.known(request.session, "session", required: false)
        q.session = request.session
        q.sessionName = try Check.text(request.sessionName, "session_name", required: false, max: 40)
        try Check.known(request.proposerKind, "proposer_kind", required: false)
        q.proposerKind = request.proposerKind
        if request.overdueOnly { q.overdueOn = today.description }
        if !Self.seesAll(caller) {
            if caller.has(.handlingUnit) && caller.principal.unitId != 0 {
                if q.unitID != 0 && q.unitID != caller.principal.unitId { return nil }
                q.unitID = caller.principal.unitId
            } else if caller.has(.member) && caller.principal.memberId != 0 {
                if q.memberID != 0 && q.memberID != caller.principal.memberId { return nil }
                q.memberID = caller.principal.memberId
            } else {
                throw DomainError.forbidden("listing proposals needs a staff, unit or member account")
            }
        }
        return q
    }

    public func listProposals(request: Xieshang_Proposal_V1_ListProposalsRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_ListProposalsResponse {
        let caller = try Caller(context: context)
        guard let q = try query(request, caller) else { return Xieshang_Proposal_V1_ListProposalsResponse() }
        let page = try await store.list(committee: caller.committeeID, query: q, page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Proposal_V1_ListProposalsResponse()
        r.proposals = page.items
        r.nextPageToken = page.nextToken
        r.total = Int32(page.total)
        r.totalCapped = page.totalCapped
        return r
    }

    public func exportProposals(request: Xieshang_Proposal_V1_ListProposalsRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_CsvFile {
        let caller = try Caller(context: context)
        var f = Xieshang_Proposal_V1_CsvFile()
        guard let q = try query(request, caller) else {
            f.csv = CSV.format([ProposalCSV.header])
            return f
        }
        let committee = caller.committeeID
        let proposals = try await store.all(committee: committee, query: q)
        let units = try await unitNames(Set(proposals.flatMap { [$0.leadUnitId] + $0.coUnitIds }), committee: committee)
        let sectors = Dictionary(try await directory.sectors(committee: committee).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let terms = Dictionary(try await directory.terms(committee: committee).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        f.csv = CSV.format([ProposalCSV.header] + proposals.map { ProposalCSV.row($0, units: units, sectors: sectors, terms: terms) })
        f.rows = Int32(proposals.count)
        return f
    }

    public func withdrawProposal(request: Xieshang_Proposal_V1_ProposalRef, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        try await transition(request.id, version: request.version, try Caller(context: context), .withdraw)
    }

    public func signProposal(request: Xieshang_Proposal_V1_SignRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        try await transition(request.id, version: 0, try Caller(context: context), .sign(confirm: request.confirm))
    }

    public func updateProposal(request: Xieshang_Proposal_V1_Proposal, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        guard request.id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        let revision = try ProposalRules.revision(request)
        return try await transition(request.id, version: request.version, caller, .revise(revision))
    }

    public func closeSigning(request: Xieshang_Proposal_V1_ProposalRef, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        try await transition(request.id, version: request.version, try Caller(context: context), .closeSigning)
    }

    // MARK: Review (立)

    public func registerProposal(request: Xieshang_Proposal_V1_RegisterRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        let category = try Check.text(request.category, "category", required: false, max: 20)
        let note = try ProposalRules.longText(request.note, "note", required: false, max: 500)
        guard request.id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        _ = try await visible(request.id, caller)
        return try await store.register(request.id, version: request.version, committee: caller.committeeID, category: category,
                                        note: note, by: Participant(caller), actor: caller.actor, at: clock())
    }

    public func declineProposal(request: Xieshang_Proposal_V1_DeclineRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        let reason = try ProposalRules.longText(request.reason, "reason")
        try await directory.requireUnits(request.referredUnitIds, field: "referred_unit_ids", committee: caller.committeeID)
        return try await transition(request.id, version: request.version, caller, .decline(reason: reason, referredUnitIDs: request.referredUnitIds))
    }

    public func mergeProposal(request: Xieshang_Proposal_V1_MergeRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        try Self.requireStaff(caller, to: "merging proposals")
        return try await store.merge(request.id, version: request.version, into: request.intoId, committee: caller.committeeID,
                                     by: Participant(caller), actor: caller.actor, at: clock())
    }

    // MARK: The change feed

    public func watch(request: Xieshang_Events_V1_WatchRequest, responses: ResponseWriter<Xieshang_Events_V1_Event>,
                      context: ServerContext) async throws {
        try await feed.watch(request, caller: try Caller(context: context), responses: responses)
    }

    public func history(request: Xieshang_Events_V1_HistoryRequest, context: ServerContext) async throws -> Xieshang_Events_V1_HistoryResponse {
        try await feed.history(request, caller: try Caller(context: context))
    }
}

import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

extension ProposalService {
    // MARK: Assignment (交)

    public func assignProposal(request: Xieshang_Proposal_V1_AssignRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        try Self.requireStaff(caller, to: "assigning proposals")
        let note = try ProposalRules.longText(request.note, "note", required: false, max: 500)
        let a = try await assignment(lead: request.leadUnitId, co: request.coUnitIds, committee: caller.committeeID)
        return try await transition(request.id, version: request.version, caller, .assign(a, note: note))
    }

    public func requestReassignment(request: Xieshang_Proposal_V1_ReassignmentRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let reason = try ProposalRules.longText(request.reason, "reason", max: 1_000)
        return try await transition(request.id, version: request.version, try Caller(context: context), .requestReassignment(reason: reason))
    }

    public func decideReassignment(request: Xieshang_Proposal_V1_ReassignmentDecision, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        try Self.requireStaff(caller, to: "deciding re-assignments")
        let note = try ProposalRules.longText(request.note, "note", required: false, max: 500)
        let a = request.approve ? try await assignment(lead: request.leadUnitId, co: request.coUnitIds, committee: caller.committeeID) : nil
        return try await transition(request.id, version: request.version, caller, .decideReassignment(a, note: note))
    }

    // MARK: Handling (办)

    public func recordContact(request: Xieshang_Proposal_V1_ContactRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        try Check.known(request.method, "method")
        try Check.id(request.unitId, "unit_id")
        var c = Xieshang_Proposal_V1_Contact()
        c.method = request.method
        c.on = try Check.date(request.on, "on")
        if let d = CivilDate(c.on), today < d { throw DomainError.invalid(field: "on", message: "\(c.on) is in the future") }
        c.note = try ProposalRules.longText(request.note, "note", required: false)
        let own = caller.has(.handlingUnit) && !caller.has(.committeeStaff) ? caller.principal.unitId : 0
        if own != 0 && request.unitId != 0 && request.unitId != own {
            throw DomainError.invalid(field: "unit_id", message: "a unit records its own contacts")
        }
        let fixed = c
        return try await transition(request.id, version: request.version, caller) { current, _ in
            var contact = fixed
            contact.unitId = own != 0 ? own : (request.unitId != 0 ? request.unitId : current.leadUnitId)
            return .contact(contact)
        }
    }

    public func submitCoOpinion(request: Xieshang_Proposal_V1_CoOpinionRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let text = try ProposalRules.longText(request.text, "text", max: ProposalRules.maxBody)
        return try await transition(request.id, version: request.version, try Caller(context: context), .coOpinion(text))
    }

    public func replyProposal(request: Xieshang_Proposal_V1_ReplyRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let text = try ProposalRules.longText(request.text, "text", max: ProposalRules.maxBody)
        try Check.known(request.grade, "grade")
        return try await transition(request.id, version: request.version, try Caller(context: context), .reply(text: text, grade: request.grade))
    }

    // MARK: Supervision (督)

    public func setKeyProposal(request: Xieshang_Proposal_V1_KeyRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        try caller.require(.committeeStaff, .leader, to: "choosing key proposals")  // leaders choose what they oversee
        try Check.id(request.leaderAccountId, "leader_account_id", required: request.key)
        var name = ""
        if request.key {
            guard let leader = try await directory.account(request.leaderAccountId, committee: caller.committeeID),
                  leader.roles.contains(.leader), !leader.disabled else {
                throw DomainError.invalid(field: "leader_account_id", message: "no leader account \(request.leaderAccountId) in this committee")
            }
            name = leader.displayName
        }
        return try await transition(request.id, version: request.version, caller,
                                    .setKey(request.key, leaderAccountID: request.key ? request.leaderAccountId : 0, leaderName: name))
    }

    public func chaseProposal(request: Xieshang_Proposal_V1_ChaseRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        try Check.known(request.method, "method")
        try Check.id(request.unitId, "unit_id")
        var c = Xieshang_Proposal_V1_Chase()
        c.method = request.method
        c.unitId = request.unitId
        c.whom = try Check.text(request.whom, "whom", required: false, max: 100)
        c.note = try ProposalRules.longText(request.note, "note", required: false, max: 1_000)
        let chase = c
        return try await transition(request.id, version: request.version, caller) { current, _ in
            if chase.unitId != 0 && chase.unitId != current.leadUnitId && !current.coUnitIds.contains(chase.unitId) {
                throw DomainError.invalid(field: "unit_id", message: "unit \(chase.unitId) is not assigned proposal \(current.id)")
            }
            return .chase(chase)
        }
    }

    public func listChase(request: Xieshang_Proposal_V1_ChaseListRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_ChaseListResponse {
        let caller = try Caller(context: context)
        try caller.require(.committeeStaff, .leader, .committeeAdmin, .handlingUnit, to: "reading chase lists")
        try Check.id(request.unitId, "unit_id")
        try Check.id(request.leaderAccountId, "leader_account_id")
        guard (0...60).contains(request.withinDays) else {
            throw DomainError.invalid(field: "within_days", message: "must be between 0 and 60")
        }
        let asOf = try day(request.asOf, "as_of")
        var q = ProposalQuery()
        q.unitID = request.unitId
        q.leaderAccountID = request.leaderAccountId
        if !Self.seesAll(caller) {
            if request.unitId != 0 && request.unitId != caller.principal.unitId { return Xieshang_Proposal_V1_ChaseListResponse() }
            q.unitID = caller.principal.unitId
        }
        if request.withinDays == 0 {
            q.overdueOn = asOf.description
        } else {
            q.dueBy = try await directory.addWorkingDays(request.withinDays, to: asOf, committee: caller.committeeID).description
        }
        let found = try await store.all(committee: caller.committeeID, query: q).sorted { ($0.dueDate, $0.id) < ($1.dueDate, $1.id) }
        let overdue = try await directory.workingDaysOverdue(found.map(\.dueDate), asOf: asOf, committee: caller.committeeID)
        var r = Xieshang_Proposal_V1_ChaseListResponse()
        r.entries = zip(found, overdue).map { p, days in
            var e = Xieshang_Proposal_V1_ChaseEntry()
            e.proposal = p
            e.daysOverdue = days
            e.chaseCount = Int32(p.chases.count)
            e.lastChasedAtUnixMs = p.chases.last?.atUnixMs ?? 0
            return e
        }
        return r
    }

    // MARK: Evaluation and afterwards (评)

    public func evaluateProposal(request: Xieshang_Proposal_V1_EvaluateRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let caller = try Caller(context: context)
        try Check.known(request.satisfaction, "satisfaction")
        let comment = try ProposalRules.longText(request.comment, "comment", required: request.satisfaction == .dissatisfied, max: 1_000)
        var rehandleDue = ""
        if request.satisfaction == .dissatisfied {
            let s = try await store.settings(committee: caller.committeeID)
            rehandleDue = try await due(months: s.rehandleMonths, from: today, committee: caller.committeeID).description
        }
        return try await transition(request.id, version: request.version, caller,
                                    .evaluate(request.satisfaction, comment: comment, rehandleDueDate: rehandleDue))
    }

    public func recordFollowUpReview(request: Xieshang_Proposal_V1_FollowUpReviewRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let on = try Check.date(request.on, "on")
        let findings = try ProposalRules.longText(request.findings, "findings", max: 5_000)
        return try await transition(request.id, version: request.version, try Caller(context: context), .followUpReview(on: on, findings: findings))
    }

    public func recordConversion(request: Xieshang_Proposal_V1_ConversionRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        let given = request.conversion ?? Xieshang_Proposal_V1_Conversion()
        var c = Xieshang_Proposal_V1_Conversion()
        c.title = try Check.text(given.title, "conversion.title", max: 200)
        c.issuer = try Check.text(given.issuer, "conversion.issuer", required: false, max: 100)
        c.documentNumber = try Check.text(given.documentNumber, "conversion.document_number", required: false, max: 100)
        c.issuedOn = try Check.date(given.issuedOn, "conversion.issued_on")
        c.note = try ProposalRules.longText(given.note, "conversion.note", required: false)
        return try await transition(request.id, version: request.version, try Caller(context: context), .convert(c))
    }

    public func linkProposal(request: Xieshang_Proposal_V1_LinkRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Proposal {
        try Check.known(request.kind, "kind")
        try Check.id(request.targetId, "target_id", required: true)
        return try await transition(request.id, version: 0, try Caller(context: context), .link(kind: request.kind, targetID: request.targetId))
    }

    // MARK: Settings, scores, appraisals

    public func getSettings(request: Xieshang_Proposal_V1_SettingsRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_Settings {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading proposal settings")
        return try await store.settings(committee: caller.committeeID)
    }

    public func setSettings(request: Xieshang_Proposal_V1_Settings, context: ServerContext) async throws -> Xieshang_Proposal_V1_Settings {
        let caller = try Caller(context: context)
        try caller.require(.committeeAdmin, to: "changing proposal settings")
        var s = try ProposalRules.validated(request)
        s.version = request.version
        return ProposalRules.effective(try await store.setSettings(s, committee: caller.committeeID, actor: caller.actor))
    }

    public func scoreUnits(request: Xieshang_Proposal_V1_ScoreUnitsRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_ScoreUnitsResponse {
        let caller = try Caller(context: context)
        try caller.require(.committeeStaff, .leader, .committeeAdmin, to: "scoring units")
        var q = ProposalQuery()
        q.assignedOnly = true
        q.assignedFrom = try Check.date(request.assignedFrom, "assigned_from")
        q.assignedTo = try Check.date(request.assignedTo, "assigned_to")
        try Check.id(request.termId, "term_id")
        q.termID = request.termId
        let asOf = try day(request.asOf, "as_of")
        let committee = caller.committeeID
        let proposals = try await store.all(committee: committee, query: q)
        let criteria = try await store.settings(committee: committee).criteria ?? Xieshang_Proposal_V1_ScoringCriteria()
        let names = try await unitNames(Set(proposals.map(\.leadUnitId)), committee: committee)
        var r = Xieshang_Proposal_V1_ScoreUnitsResponse()
        r.units = UnitScoring.score(proposals, criteria: criteria, asOf: asOf, names: names)
        return r
    }

    public func createAppraisal(request: Xieshang_Proposal_V1_Appraisal, context: ServerContext) async throws -> Xieshang_Proposal_V1_Appraisal {
        let caller = try Caller(context: context)
        try caller.require(.committeeStaff, .committeeAdmin, to: "recording appraisals")
        var a = Xieshang_Proposal_V1_Appraisal()
        try Check.id(request.unitId, "unit_id", required: true)
        try await directory.requireUnit(request.unitId, committee: caller.committeeID, field: "unit_id")
        a.unitId = request.unitId
        guard (2000...2100).contains(request.year) else { throw DomainError.invalid(field: "year", message: "must be between 2000 and 2100") }
        a.year = request.year
        a.heldOn = try Check.date(request.heldOn, "held_on")
        guard (0...10_000).contains(request.participants) else {
            throw DomainError.invalid(field: "participants", message: "must be between 0 and 10000")
        }
        a.participants = request.participants
        guard request.problems.count <= 200 else { throw DomainError.invalid(field: "problems", message: "more than 200") }
        a.problems = try request.problems.enumerated().map { try ProposalRules.longText($1, "problems[\($0)]", max: 1_000) }
        try Check.known(request.rating, "rating", required: false)
        a.rating = request.rating
        a.rectification = try ProposalRules.longText(request.rectification, "rectification", required: false, max: 5_000)
        return try await store.create(a, committee: caller.committeeID, actor: caller.actor)
    }

    public func listAppraisals(request: Xieshang_Proposal_V1_ListAppraisalsRequest, context: ServerContext) async throws -> Xieshang_Proposal_V1_ListAppraisalsResponse {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading appraisals")
        try Check.id(request.unitId, "unit_id")
        var f = SQLFilter()
        f.equal("unit_id", request.unitId)
        if request.year != 0 { f.add("year = ?", .integer(Int64(request.year))) }
        if !Self.seesAll(caller) {
            // A unit reads its own appraisals only.
            guard caller.has(.handlingUnit) && caller.principal.unitId != 0 else {
                throw DomainError.forbidden("reading appraisals needs a staff, leader or unit account")
            }
            f.add("unit_id = ?", .integer(caller.principal.unitId))
        }
        var r = Xieshang_Proposal_V1_ListAppraisalsResponse()
        r.appraisals = try await store.all(Xieshang_Proposal_V1_Appraisal.self, committee: caller.committeeID, filter: f)
        return r
    }
}

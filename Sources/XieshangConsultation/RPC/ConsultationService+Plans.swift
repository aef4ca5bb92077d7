import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

extension ConsultationService {
    // MARK: Annual plan

    public func createPlan(request: Plan, context: ServerContext) async throws -> Plan {
        let caller = try Caller(context: context)
        try caller.require(.committeeStaff, .committeeAdmin, to: "drafting the annual plan")
        guard (2000...2200).contains(request.year) else { throw DomainError.invalid(field: "year", message: "must be between 2000 and 2200") }
        var p = try await checkedPlan(request, caller)
        p.state = .draft
        p.approvedBy = ""
        p.approvedOn = ""
        p.publishedOn = ""
        p.returnReason = ""
        p.history = [History.record("created", by: caller.principal.displayName, at: clock())]
        return try await store.create(p, committee: caller.committeeID, actor: caller.actor)
    }

    /// The plan tidied, its special committees checked against the directory.
    func checkedPlan(_ request: Plan, _ caller: Caller) async throws -> Plan {
        let p = try PlanMachine.validated(request)
        let committees = try await directory.specialCommittees(committee: caller.committeeID)
        for (i, e) in p.entries.enumerated() {
            try directory.require(e.leadSpecialCommitteeId, in: committees, id: \.id, kind: "special committee",
                                  field: "entries[\(i)].lead_special_committee_id")
        }
        return p
    }

    public func updatePlan(request: Plan, context: ServerContext) async throws -> Plan {
        let caller = try Caller(context: context)
        let p = try await checkedPlan(request, caller)
        return try await store.changePlan(request.id, version: request.version, committee: caller.committeeID, actor: caller.actor) {
            try PlanMachine.apply(.edit(title: p.title, entries: p.entries), to: $0, by: Participant(caller), at: clock())
        }
    }

    public func getPlan(request: Xieshang_Consultation_V1_GetRequest, context: ServerContext) async throws -> Plan {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading the annual plan")
        let p = try await store.get(Plan.self, id: request.id, committee: caller.committeeID)
        // Drafts are the office's until published.
        guard Self.overseer(caller) || p.state == .published else { throw DomainError.notFound(kind: "consultation_plan", id: "\(request.id)") }
        return p
    }

    public func listPlans(request: Xieshang_Consultation_V1_ListPlansRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_ListPlansResponse {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading the annual plan")
        var f = SQLFilter()
        if request.year != 0 { f.add("year = ?", .integer(Int64(request.year))) }
        if !Self.overseer(caller) { f.add("state = ?", .integer(Int64(Xieshang_Consultation_V1_PlanState.published.rawValue))) }
        let page = try await store.list(Plan.self, committee: caller.committeeID, filter: f, page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Consultation_V1_ListPlansResponse()
        r.plans = page.items
        r.nextPageToken = page.nextToken
        return r
    }

    func planAction(_ request: Xieshang_Consultation_V1_PlanAction, _ context: ServerContext, _ make: (String, String) throws -> PlanCommand) async throws -> Plan {
        let caller = try Caller(context: context)
        let note = try Check.text(request.note, "note", required: false, max: 500, multiline: true)
        let on = try Check.date(request.on, "on")
        let command = try make(note, on)
        return try await store.changePlan(request.id, version: request.version, committee: caller.committeeID, actor: caller.actor) {
            try PlanMachine.apply(command, to: $0, by: Participant(caller), at: clock())
        }
    }

    public func submitPlan(request: Xieshang_Consultation_V1_PlanAction, context: ServerContext) async throws -> Plan {
        try await planAction(request, context) { _, _ in .submit }
    }

    public func approvePlan(request: Xieshang_Consultation_V1_PlanAction, context: ServerContext) async throws -> Plan {
        try await planAction(request, context) { .approve(by: $0, on: $1) }
    }

    public func returnPlan(request: Xieshang_Consultation_V1_PlanAction, context: ServerContext) async throws -> Plan {
        try await planAction(request, context) { note, _ in .giveBack(reason: note) }
    }

    public func publishPlan(request: Xieshang_Consultation_V1_PlanAction, context: ServerContext) async throws -> Plan {
        try await planAction(request, context) { _, _ in .publish }
    }

    // MARK: Topic pool

    public func proposeTopic(request: Topic, context: ServerContext) async throws -> Topic {
        let caller = try Caller(context: context)
        try caller.require(.member, .committeeStaff, to: "proposing a topic")
        let committee = caller.committeeID
        var t = Topic()
        t.title = try Check.text(request.title, "title", max: 200)
        t.description = try Check.longText(request.description, "description", required: false, max: 5000)
        t.category = try Check.text(request.category, "category", required: false, max: 20)
        try Check.known(request.source, "source", required: false)
        try Check.id(request.townId, "town_id")
        try Check.id(request.proposerMemberId, "proposer_member_id")
        t.source = request.source
        t.townId = request.townId
        t.proposerMemberId = request.proposerMemberId
        t.proposerName = try Check.text(request.proposerName, "proposer_name", required: false, max: 100)
        if !caller.has(.committeeStaff) && !caller.isSystem {
            // 委员荐题: a member suggests in their own name.
            guard caller.principal.memberId != 0 else { throw DomainError.forbidden("this account belongs to no member") }
            if t.source != .unspecified && t.source != .member {
                throw DomainError.forbidden("members suggest topics as members (source MEMBER); other sources are entered by staff")
            }
            if t.proposerMemberId != 0 && t.proposerMemberId != caller.principal.memberId {
                throw DomainError.invalid(field: "proposer_member_id", message: "a member suggests topics in their own name")
            }
            t.source = .member
            t.proposerMemberId = caller.principal.memberId
        }
        guard t.source != .unspecified else { throw DomainError.invalid(field: "source", message: "required") }
        if let m = try await directory.requireMember(t.proposerMemberId, committee: committee, field: "proposer_member_id") {
            t.proposerName = m.name
        }
        try await directory.requirePlace(town: t.townId, village: 0, committee: committee)
        t.state = .proposed
        let ms = clock()
        t.createdAtUnixMs = ms
        t.history = [History.record("proposed", by: caller.principal.displayName, at: ms)]
        return try await store.proposeTopic(t, committee: committee, actor: caller.actor)
    }

    public func getTopic(request: Xieshang_Consultation_V1_GetRequest, context: ServerContext) async throws -> Topic {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading topics")
        return try await store.get(Topic.self, id: request.id, committee: caller.committeeID)
    }

    public func listTopics(request: Xieshang_Consultation_V1_ListTopicsRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_ListTopicsResponse {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "listing topics")
        let terms = SearchGrams.terms(of: try Check.text(request.query, "query", required: false, max: 100))
        var f = SQLFilter()
        for (i, s) in request.states.enumerated() { try Check.known(s, "states[\(i)]") }
        f.any("i.state", request.states.map { .integer(Int64($0.rawValue)) })
        try Check.known(request.source, "source", required: false)
        if request.source != .unspecified { f.add("i.source = ?", .integer(Int64(request.source.rawValue))) }
        let category = try Check.text(request.category, "category", required: false, max: 20)
        if !category.isEmpty { f.add("i.category = ?", .text(category)) }
        let page = try await store.listTopics(committee: caller.committeeID, terms: terms, filter: f,
                                              page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Consultation_V1_ListTopicsResponse()
        r.topics = page.items
        r.nextPageToken = page.nextToken
        r.total = Int32(page.total)
        r.totalCapped = page.totalCapped
        return r
    }

    func topicAction(_ id: Int64, version: Int64, _ context: ServerContext, _ command: TopicCommand) async throws -> Topic {
        let caller = try Caller(context: context)
        return try await store.changeTopic(id, version: version, committee: caller.committeeID, actor: caller.actor) {
            try TopicMachine.apply(command, to: $0, by: Participant(caller), at: clock())
        }
    }

    public func shortlistTopic(request: Xieshang_Consultation_V1_TopicAction, context: ServerContext) async throws -> Topic {
        try await topicAction(request.id, version: request.version, context,
                              .shortlist(note: try Check.text(request.note, "note", required: false, max: 500, multiline: true)))
    }

    public func chooseTopic(request: Xieshang_Consultation_V1_TopicAction, context: ServerContext) async throws -> Topic {
        try await topicAction(request.id, version: request.version, context,
                              .choose(note: try Check.text(request.note, "note", required: false, max: 500, multiline: true)))
    }

    public func rejectTopic(request: Xieshang_Consultation_V1_TopicAction, context: ServerContext) async throws -> Topic {
        try await topicAction(request.id, version: request.version, context,
                              .reject(reason: try Check.text(request.note, "note", required: false, max: 500, multiline: true)))
    }

    public func linkTopic(request: Xieshang_Consultation_V1_LinkRequest, context: ServerContext) async throws -> Topic {
        try Check.known(request.kind, "kind")
        return try await topicAction(request.id, version: 0, context, .link(kind: request.kind, targetID: request.targetId))
    }
}

import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

extension ConsultationService: Xieshang_Consultation_V1_ConsultationServiceProvider {
    // MARK: Consultations

    public func createConsultation(request: Consultation, context: ServerContext) async throws -> Consultation {
        let caller = try Self.staff(context, to: "starting a consultation")
        let committee = caller.committeeID
        var c = Consultation()
        c.title = try Check.text(request.title, "title", required: false, max: 200)
        try Check.id(request.topicId, "topic_id", required: true)
        c.topicId = request.topicId
        try Check.id(request.planId, "plan_id")
        c.planId = request.planId
        c.planEntry = request.planId == 0 ? 0 : request.planEntry
        try Check.known(request.form, "form")
        try Check.known(request.level, "level")
        c.form = request.form
        c.level = request.level
        for (field, id) in [("host_member_id", request.hostMemberId), ("lead_special_committee_id", request.leadSpecialCommitteeId),
                            ("sector_id", request.sectorId), ("town_id", request.townId)] {
            try Check.id(id, field, required: field == "host_member_id")
        }
        // 委员主持: the host is a member.
        c.hostMemberId = request.hostMemberId
        c.hostName = try await directory.requireMember(request.hostMemberId, committee: committee, field: "host_member_id")?.name ?? ""
        try directory.require(request.leadSpecialCommitteeId, in: try await directory.specialCommittees(committee: committee), id: \.id,
                              kind: "special committee", field: "lead_special_committee_id")
        c.leadSpecialCommitteeId = request.leadSpecialCommitteeId
        if request.form == .sector && request.sectorId == 0 {
            throw DomainError.invalid(field: "sector_id", message: "required for a sector consultation")
        }
        try directory.require(request.sectorId, in: try await directory.sectors(committee: committee), id: \.id, kind: "sector", field: "sector_id")
        c.sectorId = request.sectorId
        if [.town, .village, .group].contains(request.level) && request.townId == 0 {
            throw DomainError.invalid(field: "town_id", message: "required below county level")
        }
        try await directory.requirePlace(town: request.townId, village: 0, committee: committee)
        c.townId = request.townId
        try await directory.requireUnits(request.unitIds, field: "unit_ids", committee: committee)
        c.unitIds = request.unitIds
        c.pageOpen = request.form == .online
        return try await store.start(c, committee: committee, by: Participant(caller), actor: caller.actor, at: clock())
    }

    /// Whether `caller` may read `c`: accounts of the committee (a unit only what concerns it),
    /// the public only an open online page.
    static func canSee(_ c: Consultation, _ caller: Caller) -> Bool {
        if overseer(caller) || caller.has(.member) { return true }
        if caller.has(.handlingUnit) && caller.principal.unitId != 0 {
            let unit = caller.principal.unitId
            return c.unitIds.contains(unit) || c.suggestions.contains { $0.unitId == unit }
        }
        return c.pageOpen
    }

    public func getConsultation(request: Xieshang_Consultation_V1_GetRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        let c = try await store.get(Consultation.self, id: request.id, committee: caller.committeeID)
        guard Self.canSee(c, caller) else { throw DomainError.notFound(kind: "consultation", id: "\(request.id)") }
        return c
    }

    public func listConsultations(request: Xieshang_Consultation_V1_ListConsultationsRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_ListConsultationsResponse {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "listing consultations")
        let terms = SearchGrams.terms(of: try Check.text(request.query, "query", required: false, max: 100))
        var f = SQLFilter()
        for (i, s) in request.steps.enumerated() { try Check.known(s, "steps[\(i)]") }
        f.any("i.step", request.steps.map { .integer(Int64($0.rawValue)) })
        try Check.known(request.form, "form", required: false)
        try Check.known(request.level, "level", required: false)
        if request.form != .unspecified { f.add("i.form = ?", .integer(Int64(request.form.rawValue))) }
        if request.level != .unspecified { f.add("i.level = ?", .integer(Int64(request.level.rawValue))) }
        for (field, id) in [("sector_id", request.sectorId), ("town_id", request.townId), ("unit_id", request.unitId), ("host_member_id", request.hostMemberId)] {
            try Check.id(id, field)
        }
        f.equal("i.sector_id", request.sectorId)
        f.equal("i.town_id", request.townId)
        f.equal("i.host_member_id", request.hostMemberId)
        var unit = request.unitId
        if !Self.overseer(caller) && !caller.has(.member) {
            // A unit lists what concerns it.
            if unit != 0 && unit != caller.principal.unitId { return Xieshang_Consultation_V1_ListConsultationsResponse() }
            unit = caller.principal.unitId
        }
        f.hasKey("i.unit_keys", unit)
        if request.year != 0 { f.add("i.held_year = ?", .integer(Int64(request.year))) }
        let page = try await store.listConsultations(committee: caller.committeeID, terms: terms, filter: f,
                                                     page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Consultation_V1_ListConsultationsResponse()
        r.consultations = page.items
        r.nextPageToken = page.nextToken
        r.total = Int32(page.total)
        r.totalCapped = page.totalCapped
        return r
    }

    // MARK: The eight steps

    public func makeConsultationPlan(request: Xieshang_Consultation_V1_MakePlanRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        let plan = try Check.longText(request.workPlan, "work_plan", max: 20_000)
        return try await transition(request.id, version: request.version, caller, .makePlan(plan))
    }

    public func recordResearch(request: Xieshang_Consultation_V1_ResearchRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        let activity = request.activity ?? .init()
        var a = Xieshang_Consultation_V1_ResearchActivity()
        a.on = try day(activity.on, "activity.on").description
        a.place = try Check.text(activity.place, "activity.place", required: false, max: 200)
        a.summary = try Check.longText(activity.summary, "activity.summary", max: 5000)
        for (i, m) in activity.memberIds.enumerated() {
            try Check.id(m, "activity.member_ids[\(i)]", required: true)
            try await directory.requireMember(m, committee: caller.committeeID, field: "activity.member_ids[\(i)]")
        }
        a.memberIds = activity.memberIds
        let due = try await directory.addWorkingDays(Self.reportWorkingDays, to: CivilDate(a.on)!, committee: caller.committeeID)
        return try await transition(request.id, version: request.version, caller, .recordResearch(a, reportDue: due.description))
    }

    public func submitResearchReport(request: Xieshang_Consultation_V1_ReportRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        return try await transition(request.id, version: request.version, caller, .submitResearchReport(try Check.longText(request.text, "text", max: 20_000)))
    }

    public func submitResults(request: Xieshang_Consultation_V1_ResultsRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        guard request.suggestions.count <= 200 else { throw DomainError.invalid(field: "suggestions", message: "at most 200") }
        let list = try request.suggestions.enumerated().map { try Check.longText($1, "suggestions[\($0)]", max: 5000) }
        return try await transition(request.id, version: request.version, caller, .submitResults(list))
    }

    public func assignResponsibilities(request: Xieshang_Consultation_V1_ResponsibilitiesRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        let committee = caller.committeeID
        guard (0...250).contains(request.defaultWorkingDays) else {
            throw DomainError.invalid(field: "default_working_days", message: "must be 0 to 250")
        }
        guard !request.responsibilities.isEmpty else { throw DomainError.invalid(field: "responsibilities", message: "required") }
        let days = request.defaultWorkingDays == 0 ? Self.responsibilityWorkingDays : request.defaultWorkingDays
        let defaultDue = try await directory.addWorkingDays(days, to: today, committee: committee)
        var list: [Xieshang_Consultation_V1_Responsibility] = []
        var numbers = Set<Int32>()
        for (i, r) in request.responsibilities.enumerated() {
            let f = "responsibilities[\(i)]"
            guard numbers.insert(r.suggestionNumber).inserted else {
                throw DomainError.invalid(field: "\(f).suggestion_number", message: "suggestion \(r.suggestionNumber) is listed twice")
            }
            try Check.id(r.unitId, "\(f).unit_id", required: true)
            try await directory.requireUnit(r.unitId, committee: committee, field: "\(f).unit_id")
            var entry = r
            entry.dueDate = try day(r.dueDate, "\(f).due_date", or: defaultDue).description
            if !r.dueDate.isEmpty && CivilDate(entry.dueDate)! < today {
                throw DomainError.invalid(field: "\(f).due_date", message: "\(entry.dueDate) has passed")
            }
            list.append(entry)
        }
        return try await transition(request.id, version: request.version, caller, .assignResponsibilities(list))
    }

    public func recordFeedback(request: Xieshang_Consultation_V1_FeedbackRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        let text = try Check.longText(request.text, "text", max: 5000)
        return try await transition(request.id, version: request.version, caller, .recordFeedback(number: request.suggestionNumber, text: text))
    }

    public func feedBackResults(request: Xieshang_Consultation_V1_ReportRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        return try await transition(request.id, version: request.version, caller, .feedBack(note: try Check.longText(request.text, "text", max: 5000)))
    }

    public func archiveConsultation(request: Xieshang_Consultation_V1_ConsultationRef, context: ServerContext) async throws -> Consultation {
        try await transition(request.id, version: request.version, try Caller(context: context), .archive)
    }

    public func cancelConsultation(request: Xieshang_Consultation_V1_CancelRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        return try await transition(request.id, version: request.version, caller, .cancel(reason: try Check.text(request.reason, "reason", max: 500)))
    }

    public func chaseConsultation(request: Xieshang_Consultation_V1_ChaseRequest, context: ServerContext) async throws -> Consultation {
        let caller = try Caller(context: context)
        var chase = request.chase ?? .init()
        try Check.known(chase.method, "chase.method")
        try Check.known(chase.about, "chase.about", required: false)
        chase.whom = try Check.text(chase.whom, "chase.whom", required: false, max: 100)
        chase.note = try Check.text(chase.note, "chase.note", required: false, max: 500, multiline: true)
        return try await transition(request.id, version: request.version, caller, .chase(chase))
    }

    public func listChase(request: Xieshang_Consultation_V1_ChaseListRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_ChaseListResponse {
        let caller = try Caller(context: context)
        var unit = request.unitId
        if !Self.overseer(caller) {
            guard caller.has(.handlingUnit) && caller.principal.unitId != 0 else {
                throw DomainError.forbidden("chase lists are for staff, leaders and responsible units")
            }
            if unit != 0 && unit != caller.principal.unitId { return Xieshang_Consultation_V1_ChaseListResponse() }
            unit = caller.principal.unitId
        }
        guard (0...250).contains(request.withinDays) else { throw DomainError.invalid(field: "within_days", message: "must be 0 to 250") }
        let asOf = try day(request.asOf, "as_of")
        let horizon = request.withinDays > 0 ? try await directory.addWorkingDays(request.withinDays, to: asOf, committee: caller.committeeID) : nil
        var f = SQLFilter()
        f.any("i.step", [ConsultationStep.planned, .meetingHeld, .supervising].map { .integer(Int64($0.rawValue)) })
        f.hasKey("i.unit_keys", unit)
        var r = Xieshang_Consultation_V1_ChaseListResponse()
        for c in try await store.allConsultations(committee: caller.committeeID, filter: f) {
            for var e in ConsultationMachine.dueItems(c) where unit == 0 || e.unitId == unit {
                guard let due = CivilDate(e.dueDate) else { continue }
                e.overdue = due < asOf
                if e.overdue || horizon.map({ due <= $0 }) == true { r.entries.append(e) }
            }
        }
        r.entries.sort { ($0.dueDate, $0.consultationId, $0.suggestionNumber) < ($1.dueDate, $1.consultationId, $1.suggestionNumber) }
        return r
    }

    public func getArchive(request: Xieshang_Consultation_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_Archive {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading an archive")
        let committee = caller.committeeID
        var a = Xieshang_Consultation_V1_Archive()
        let c = try await getConsultation(request: request, context: context)
        a.consultation = c
        a.topic = try await store.get(Topic.self, id: c.topicId, committee: committee)
        if c.planId != 0 {
            let plan = try await store.get(Plan.self, id: c.planId, committee: committee)
            if plan.entries.indices.contains(Int(c.planEntry)) { a.planEntry = plan.entries[Int(c.planEntry)] }
            a.planYear = plan.year
        }
        a.meetings = try await store.meetings(ofConsultation: request.id, committee: committee)
        a.attendance = a.meetings.filter { $0.state == .held }.map(MeetingMachine.attendance)
        var f = SQLFilter()
        f.add("i.consultation_id = ?", .integer(request.id))
        f.add("i.state = ?", .integer(Int64(Xieshang_Consultation_V1_PostState.published.rawValue)))
        a.posts = try await store.all(Xieshang_Consultation_V1_OpinionPost.self, committee: committee, filter: f)
        return a
    }

    // MARK: Online pages (码上协商)

    public func setPageOpen(request: Xieshang_Consultation_V1_PageRequest, context: ServerContext) async throws -> Consultation {
        try await transition(request.id, version: request.version, try Caller(context: context), .setPage(open: request.open))
    }

    public func postOpinion(request: Xieshang_Consultation_V1_OpinionPost, context: ServerContext) async throws -> Xieshang_Consultation_V1_OpinionPost {
        let caller = try Caller(context: context)
        var p = Xieshang_Consultation_V1_OpinionPost()
        try Check.id(request.consultationId, "consultation_id", required: true)
        p.consultationId = request.consultationId
        p.text = try Check.longText(request.text, "text", max: 2000)
        p.authorName = try Check.text(request.authorName, "author_name", required: false, max: 50)
        if caller.has(.member) && caller.principal.memberId != 0 {
            p.memberId = caller.principal.memberId
            p.authorName = try await directory.member(p.memberId, committee: caller.committeeID)?.name ?? caller.principal.displayName
        } else if p.authorName.isEmpty {
            p.authorName = "群众"
        }
        p.state = .pending
        p.postedAtUnixMs = clock()
        return try await store.post(p, committee: caller.committeeID, actor: caller.actor)
    }

    public func moderatePost(request: Xieshang_Consultation_V1_ModerationRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_OpinionPost {
        let caller = try Self.staff(context, to: "moderating posts")
        let note = try Check.text(request.note, "note", required: !request.publish, max: 500)
        return try await store.changePost(request.id, version: request.version, committee: caller.committeeID, actor: caller.actor,
                                          eventType: request.publish ? "opinion_post.published" : "opinion_post.rejected") { p in
            let allowed: [Xieshang_Consultation_V1_PostState] = request.publish ? [.pending] : [.pending, .published]
            guard allowed.contains(p.state) else {
                throw DomainError.notAllowed("post \(p.id) is \(p.state.label); it cannot be \(request.publish ? "published" : "rejected") now")
            }
            p.state = request.publish ? .published : .rejected
            p.moderationNote = note
        }
    }

    public func listPosts(request: Xieshang_Consultation_V1_ListPostsRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_ListPostsResponse {
        let caller = try Caller(context: context)
        try Check.id(request.consultationId, "consultation_id", required: true)
        let c = try await getConsultation(request: .with(id: request.consultationId), context: context)
        var f = SQLFilter()
        f.add("consultation_id = ?", .integer(c.id))
        for (i, s) in request.states.enumerated() { try Check.known(s, "states[\(i)]") }
        // Only staff see what waits for moderation or was rejected.
        let states = caller.has(.committeeStaff) || caller.isSystem ? request.states : [.published]
        f.any("state", states.map { .integer(Int64($0.rawValue)) })
        let page = try await store.list(Xieshang_Consultation_V1_OpinionPost.self, committee: caller.committeeID, filter: f,
                                        page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Consultation_V1_ListPostsResponse()
        r.posts = page.items
        r.nextPageToken = page.nextToken
        return r
    }

    // MARK: Quotas

    public func recordLiaisonActivity(request: Xieshang_Consultation_V1_LiaisonActivity, context: ServerContext) async throws -> Xieshang_Consultation_V1_LiaisonActivity {
        let caller = try Self.staff(context, to: "recording liaison activities")
        var a = Xieshang_Consultation_V1_LiaisonActivity()
        try Check.id(request.townId, "town_id", required: true)
        try await directory.requirePlace(town: request.townId, village: 0, committee: caller.committeeID)
        a.townId = request.townId
        try Check.known(request.kind, "kind")
        a.kind = request.kind
        a.on = try day(request.on, "on").description
        a.summary = try Check.text(request.summary, "summary", required: false, max: 500, multiline: true)
        try Check.known(request.refKind, "ref_kind", required: false)
        try Check.id(request.refId, "ref_id")
        a.refKind = request.refKind
        a.refId = request.refId
        return try await store.create(a, committee: caller.committeeID, actor: caller.actor)
    }

    public func checkQuotas(request: Xieshang_Consultation_V1_QuotaRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_QuotaReport {
        let caller = try Caller(context: context)
        guard Self.overseer(caller) else { throw DomainError.forbidden("quotas are for staff, leaders and admins") }
        let committee = caller.committeeID
        let now = today
        let year = request.year == 0 ? now.year : Int(request.year)
        guard (2000...2200).contains(year) else { throw DomainError.invalid(field: "year", message: "must be between 2000 and 2200") }
        let yearEnd = CivilDate(year: year, month: 12, day: 31)!
        let asOf = try day(request.asOf, "as_of", or: min(now, yearEnd))
        guard asOf.year == year else { throw DomainError.invalid(field: "as_of", message: "\(asOf) is not in \(year)") }
        var subjects: [(Xieshang_Consultation_V1_QuotaSubject, Int64, String)] = []
        subjects += try await directory.sectors(committee: committee).filter { !$0.archived }.map { (.sector, $0.id, $0.name) }
        subjects += try await directory.towns(committee: committee).filter { !$0.archived }.map { (.town, $0.id, $0.name) }
        subjects.append((.committee, committee, "本委员会"))
        var done: [Quotas.Done] = []
        var f = SQLFilter()
        f.add("(i.held_year = ? OR i.town_id <> 0)", .integer(Int64(year)))
        for c in try await store.allConsultations(committee: committee, filter: f) {
            if let held = CivilDate(c.heldOn), held.year == year {
                if c.sectorId != 0 { done.append(.init(.sector, c.sectorId, .sectorActivity, on: held)) }
                if c.form == .thematic { done.append(.init(.committee, committee, .thematic, on: held)) }
                if c.form == .courtyard && c.townId != 0 { done.append(.init(.town, c.townId, .liaison(.courtyard), on: held)) }
            }
            if c.townId != 0 {
                for r in c.research { if let on = CivilDate(r.on) { done.append(.init(.town, c.townId, .liaison(.research), on: on)) } }
            }
        }
        for a in try await store.activities(year: year, committee: committee) {
            if let on = CivilDate(a.on) { done.append(.init(.town, a.townId, .liaison(a.kind), on: on)) }
        }
        return Quotas.report(year: year, asOf: asOf, subjects: subjects, done: done, behindOnly: request.behindOnly)
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

extension Xieshang_Consultation_V1_GetRequest {
    static func with(id: Int64) -> Self {
        var r = Self()
        r.id = id
        return r
    }
}

extension Xieshang_Consultation_V1_PostState {
    public var label: String {
        switch self {
        case .pending: "pending"
        case .published: "published"
        case .rejected: "rejected"
        default: "unspecified"
        }
    }
}

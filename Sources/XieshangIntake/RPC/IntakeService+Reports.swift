import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

// Downward relays, opinion reports and bulletins.
extension IntakeService {
    func staff(_ context: ServerContext, to action: String) throws -> Caller {
        let caller = try Caller(context: context)
        try caller.require(.liaisonStaff, to: action)
        return caller
    }

    /// Liaison staff, or a leader: a leader writes 批示 on a report and records its adoption.
    func staffOrLeader(_ context: ServerContext, to action: String) throws -> Caller {
        let caller = try Caller(context: context)
        try caller.require(.liaisonStaff, .leader, to: action)
        return caller
    }

    func reader(_ context: ServerContext, to action: String) throws -> Caller {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: action)
        return caller
    }

    // MARK: Relays

    public func createRelay(request: Xieshang_Intake_V1_Relay, context: ServerContext) async throws -> Xieshang_Intake_V1_Relay {
        let caller = try Caller(context: context)
        try caller.require(.member, .liaisonStaff, to: "recording a relay")
        var r = Xieshang_Intake_V1_Relay()
        r.memberId = request.memberId
        if !caller.has(.liaisonStaff) && !caller.isSystem {
            guard request.memberId == 0 || request.memberId == caller.principal.memberId else {
                throw DomainError.invalid(field: "member_id", message: "a member records their own relays")
            }
            r.memberId = caller.principal.memberId
        }
        try Check.id(r.memberId, "member_id", required: true)
        try Check.id(request.itemId, "item_id")
        try Check.id(request.townId, "town_id")
        r.itemId = request.itemId
        r.townId = request.townId
        r.content = try ItemRules.longText(request.content, "content", max: 2000)
        r.audience = try Check.text(request.audience, "audience", required: false)
        guard request.audienceSize >= 0 else { throw DomainError.invalid(field: "audience_size", message: "must not be negative") }
        r.audienceSize = request.audienceSize
        r.date = try Check.date(request.date, "date")
        if r.date.isEmpty { r.date = today.description }
        try Check.known(request.channel, "channel", required: false)
        r.channel = request.channel
        let committee = caller.committeeID
        try await directory.requireMember(r.memberId, committee: committee, field: "member_id")
        try await directory.requirePlace(town: r.townId, village: 0, committee: committee)
        if r.itemId != 0 { _ = try await visibleItem(r.itemId, caller) }
        return try await store.create(r, committee: committee, actor: caller.actor)
    }

    public func listRelays(request: Xieshang_Intake_V1_ListRelaysRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_ListRelaysResponse {
        let caller = try reader(context, to: "listing relays")
        var f = SQLFilter()
        var member = request.memberId
        if !Self.seesAll(caller) {
            guard caller.has(.member), caller.principal.memberId != 0 else {
                throw DomainError.forbidden("listing relays needs a staff or member account")
            }
            member = caller.principal.memberId
        }
        f.equal("member_id", member)
        f.equal("town_id", request.townId)
        let from = try Check.date(request.from, "from"), to = try Check.date(request.to, "to")
        if !from.isEmpty { f.add("date >= ?", .text(from)) }
        if !to.isEmpty { f.add("date <= ?", .text(to)) }
        let filter = f
        let page = try await store.list(Xieshang_Intake_V1_Relay.self, committee: caller.committeeID, filter: filter,
                                        page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Intake_V1_ListRelaysResponse()
        r.relays = page.items
        r.nextPageToken = page.nextToken
        r.total = Int32(page.total)
        r.audienceTotal = try await store.audienceTotal(committee: caller.committeeID, filter: filter)
        return r
    }

    // MARK: Reports

    static func reportText(_ r: Xieshang_Intake_V1_OpinionReport) throws -> (String, String) {
        (try Check.text(r.title, "title", max: ItemRules.maxTitle), try ItemRules.longText(r.body, "body", max: 20_000))
    }

    public func createReport(request: Xieshang_Intake_V1_OpinionReport, context: ServerContext) async throws -> Xieshang_Intake_V1_OpinionReport {
        let caller = try staff(context, to: "compiling a report")
        var r = Xieshang_Intake_V1_OpinionReport()
        (r.title, r.body) = try Self.reportText(request)
        r.itemIds = request.itemIds
        r.state = .draft
        return try await store.createReport(r, committee: caller.committeeID, by: Participant(caller), actor: caller.actor)
    }

    public func updateReport(request: Xieshang_Intake_V1_OpinionReport, context: ServerContext) async throws -> Xieshang_Intake_V1_OpinionReport {
        let caller = try staff(context, to: "editing a report")
        let (title, body) = try Self.reportText(request)
        let (store, who, actor) = (self.store, Participant(caller), caller.actor)
        return try await store.change(Xieshang_Intake_V1_OpinionReport.self, request.id, version: request.version,
                                      committee: caller.committeeID, actor: actor, eventType: "report.updated") { r, tx in
            guard r.state == .draft else { throw DomainError.notAllowed("report \(r.id) is issued; only drafts are edited") }
            r.title = title
            r.body = body
            r.itemIds = request.itemIds
            try store.linkItems(r.itemIds, toReport: r.id, committee: r.committeeId, by: who, actor: actor, in: tx)
        }
    }

    public func getReport(request: Xieshang_Intake_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_OpinionReport {
        let caller = try reader(context, to: "reading reports")
        guard Self.seesAll(caller) else { throw DomainError.forbidden("reading reports needs a staff or leader account") }
        return try await store.get(Xieshang_Intake_V1_OpinionReport.self, id: request.id, committee: caller.committeeID)
    }

    public func listReports(request: Xieshang_Intake_V1_ListReportsRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_ListReportsResponse {
        let caller = try reader(context, to: "listing reports")
        guard Self.seesAll(caller) else { throw DomainError.forbidden("listing reports needs a staff or leader account") }
        try Check.known(request.state, "state", required: false)
        var f = SQLFilter()
        if request.state != .unspecified { f.add("state = ?", .integer(Int64(request.state.rawValue))) }
        if request.adoptedOnly { f.add("adopted = 1") }
        f.contains(["title"], try Check.text(request.query, "query", required: false, max: 100))
        let page = try await store.list(Xieshang_Intake_V1_OpinionReport.self, committee: caller.committeeID, filter: f,
                                        page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Intake_V1_ListReportsResponse()
        r.reports = page.items
        r.nextPageToken = page.nextToken
        r.total = Int32(page.total)
        return r
    }

    public func issueBulletin(request: Xieshang_Intake_V1_IssueBulletinRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Bulletin {
        let caller = try staff(context, to: "issuing a bulletin")
        let title = try Check.text(request.title, "title", max: ItemRules.maxTitle)
        guard !request.reportIds.isEmpty else { throw DomainError.invalid(field: "report_ids", message: "required") }
        guard Set(request.reportIds).count == request.reportIds.count else {
            throw DomainError.invalid(field: "report_ids", message: "a report is listed twice")
        }
        let day = today
        return try await store.issueBulletin(title: title, reportIDs: request.reportIds, year: Int32(day.year),
                                             issuedOn: day.description, committee: caller.committeeID, actor: caller.actor)
    }

    public func listBulletins(request: Xieshang_Intake_V1_ListBulletinsRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_ListBulletinsResponse {
        let caller = try reader(context, to: "listing bulletins")
        var f = SQLFilter()
        if request.year != 0 { f.add("year = ?", .integer(Int64(request.year))) }
        let page = try await store.list(Xieshang_Intake_V1_Bulletin.self, committee: caller.committeeID, filter: f,
                                        page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Intake_V1_ListBulletinsResponse()
        r.bulletins = page.items
        r.nextPageToken = page.nextToken
        return r
    }

    /// Changes an issued (or sent) report.
    func changeIssued(_ id: Int64, version: Int64, _ caller: Caller, eventType: String,
                      _ change: @escaping @Sendable (inout Xieshang_Intake_V1_OpinionReport) throws -> Void) async throws -> Xieshang_Intake_V1_OpinionReport {
        try await store.change(Xieshang_Intake_V1_OpinionReport.self, id, version: version, committee: caller.committeeID,
                               actor: caller.actor, eventType: eventType) { r, _ in
            guard r.state == .issued || r.state == .sent else {
                throw DomainError.notAllowed("report \(r.id) is a draft; issue it in a bulletin first")
            }
            try change(&r)
        }
    }

    public func sendReport(request: Xieshang_Intake_V1_SendReportRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_OpinionReport {
        let caller = try staff(context, to: "sending a report")
        let recipients = try request.recipients.enumerated().map { try Check.text($1, "recipients[\($0)]") }
        guard !recipients.isEmpty || request.toPrefecture else {
            throw DomainError.invalid(field: "recipients", message: "name the recipients or send it to the prefecture")
        }
        return try await changeIssued(request.id, version: request.version, caller, eventType: "report.sent") { r in
            r.state = .sent
            for name in recipients where !r.recipients.contains(name) { r.recipients.append(name) }
            if request.toPrefecture { r.sentToPrefecture = true }
        }
    }

    public func recordAdoption(request: Xieshang_Intake_V1_AdoptionRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_OpinionReport {
        let caller = try staffOrLeader(context, to: "recording an adoption")
        let by = try Check.text(request.adoptedBy, "adopted_by")
        let date = try Check.date(request.date, "date")
        let on = date.isEmpty ? today.description : date
        return try await changeIssued(request.id, version: request.version, caller, eventType: "report.adopted") { r in
            r.adopted = true
            r.adoptedBy = by
            r.adoptedOn = on
        }
    }

    public func addInstruction(request: Xieshang_Intake_V1_InstructionRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_OpinionReport {
        let caller = try staffOrLeader(context, to: "recording an instruction")
        guard let given = request.instruction else { throw DomainError.invalid(field: "instruction", message: "required") }
        var i = Xieshang_Intake_V1_Instruction()
        i.leader = try Check.text(given.leader, "instruction.leader")
        i.date = try Check.date(given.date, "instruction.date")
        if i.date.isEmpty { i.date = today.description }
        i.text = try ItemRules.longText(given.text, "instruction.text", max: 2000)
        let instruction = i
        return try await changeIssued(request.id, version: request.version, caller, eventType: "report.instructed") { r in
            r.instructions.append(instruction)
        }
    }

    public func addFollowUp(request: Xieshang_Intake_V1_FollowUpRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_OpinionReport {
        let caller = try staff(context, to: "recording a follow-up")
        guard let given = request.followUp else { throw DomainError.invalid(field: "follow_up", message: "required") }
        var f = Xieshang_Intake_V1_FollowUp()
        try Check.id(given.unitId, "follow_up.unit_id", required: true)
        try await directory.requireUnit(given.unitId, committee: caller.committeeID, field: "follow_up.unit_id")
        f.unitId = given.unitId
        f.date = try Check.date(given.date, "follow_up.date")
        if f.date.isEmpty { f.date = today.description }
        f.text = try ItemRules.longText(given.text, "follow_up.text", max: 2000)
        let followUp = f
        return try await changeIssued(request.id, version: request.version, caller, eventType: "report.followed_up") { r in
            r.followUps.append(followUp)
        }
    }
}

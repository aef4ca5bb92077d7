import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

extension IntakeService: Xieshang_Intake_V1_IntakeServiceProvider {
    // MARK: The public, by ticket

    public func submitPublic(request: Xieshang_Intake_V1_PublicSubmission, context: ServerContext) async throws -> Xieshang_Intake_V1_Ticket {
        let caller = try Caller(context: context)
        let item = try ItemRules.submission(request)
        try await directory.requirePlace(town: item.townId, village: item.villageId, committee: caller.committeeID)
        let actor = Actor(accountID: caller.principal.accountId, name: ItemRules.raiserName(of: item))
        let stored = try await store.submit(item, committee: caller.committeeID, actor: actor)
        return ticket(stored, shown: stored)
    }

    func ticketItems(_ code: String, _ caller: Caller) async throws -> (Xieshang_Intake_V1_Item, Xieshang_Intake_V1_Item) {
        let item = try await store.item(ticket: try ItemRules.normalizeTicket(code), committee: caller.committeeID)
        var shown = item
        // A merged opinion follows the item it joined (one level; merges do not chain).
        if item.state == .merged { shown = try await store.get(Xieshang_Intake_V1_Item.self, id: item.mergedIntoId, committee: caller.committeeID) }
        return (item, shown)
    }

    public func getTicket(request: Xieshang_Intake_V1_TicketRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Ticket {
        let (item, shown) = try await ticketItems(request.ticketCode, try Caller(context: context))
        return ticket(item, shown: shown)
    }

    public func rateTicket(request: Xieshang_Intake_V1_RateTicketRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Ticket {
        let caller = try Caller(context: context)
        try Check.known(request.satisfaction, "satisfaction")
        let comment = try ItemRules.longText(request.comment, "comment", required: false, max: 500)
        let (item, shown) = try await ticketItems(request.ticketCode, caller)
        let (_, due) = try await dueDate(shown.timeLimitDays, committee: caller.committeeID)
        let rater = Participant(roles: [.public], name: ItemRules.raiserName(of: item))
        let rated = try await store.transition(shown.id, version: 0, committee: caller.committeeID, by: rater,
                                               actor: Actor(accountID: 0, name: rater.name)) { _, _ in
            .close(request.satisfaction, comment: comment, reopenDueDate: due)
        }
        return ticket(item, shown: rated)
    }

    // MARK: Items

    public func submitItem(request: Xieshang_Intake_V1_Item, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        try caller.require(.member, .liaisonStaff, to: "submitting an item")
        var item = try ItemRules.submission(request)
        if !caller.has(.liaisonStaff) && !caller.isSystem {
            // A member submits what they bring themselves.
            guard caller.principal.memberId != 0 else { throw DomainError.forbidden("this account belongs to no member") }
            if item.bringingMemberId != 0 && item.bringingMemberId != caller.principal.memberId {
                throw DomainError.invalid(field: "bringing_member_id", message: "a member submits only what they bring")
            }
            item.bringingMemberId = caller.principal.memberId
        }
        let committee = caller.committeeID
        try await directory.requireMember(item.bringingMemberId, committee: committee, field: "bringing_member_id")
        try await directory.requireMember(ItemRules.raiser(of: item).memberId, committee: committee, field: "raiser.member_id")
        try await directory.requirePlace(town: item.townId, village: item.villageId, committee: committee)
        if item.bringingMemberId == 0 && ItemRules.raiser(of: item).memberId == 0 && ItemRules.raiser(of: item).name.isEmpty {
            throw DomainError.invalid(field: "raiser", message: "name the raiser or the bringing member")
        }
        return try await store.submit(item, committee: committee, actor: caller.actor)
    }

    public func getItem(request: Xieshang_Intake_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading items")
        return try await visibleItem(request.id, caller)
    }

    public func listItems(request: Xieshang_Intake_V1_ListItemsRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_ListItemsResponse {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "listing items")
        var q = ItemQuery()
        let query = try ItemRules.longText(request.query, "query", required: false, max: 100)
        q.terms = SearchGrams.terms(of: query)
        for (i, s) in request.states.enumerated() { try Check.known(s, "states[\(i)]") }
        q.states = request.states
        q.category = try Check.text(request.category, "category", required: false, max: 20)
        try Check.id(request.townId, "town_id")
        try Check.id(request.unitId, "unit_id")
        try Check.id(request.memberId, "member_id")
        q.townID = request.townId
        q.unitID = request.unitId
        q.memberID = request.memberId
        try Check.known(request.channel, "channel", required: false)
        q.channel = request.channel
        q.receivedFrom = try Check.date(request.receivedFrom, "received_from")
        q.receivedTo = try Check.date(request.receivedTo, "received_to")
        if request.overdueOnly { q.overdueOn = today.description }
        if !Self.seesAll(caller) {
            // Units see what is routed to them; members what they brought, raised or lead.
            if caller.has(.handlingUnit) && caller.principal.unitId != 0 {
                if q.unitID != 0 && q.unitID != caller.principal.unitId { return Xieshang_Intake_V1_ListItemsResponse() }
                q.unitID = caller.principal.unitId
            } else if caller.has(.member) && caller.principal.memberId != 0 {
                if q.memberID != 0 && q.memberID != caller.principal.memberId { return Xieshang_Intake_V1_ListItemsResponse() }
                q.memberID = caller.principal.memberId
            } else {
                throw DomainError.forbidden("listing items needs a staff, unit or member account")
            }
        }
        let page = try await store.list(committee: caller.committeeID, query: q,
                                                  page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Intake_V1_ListItemsResponse()
        r.items = page.items
        r.nextPageToken = page.nextToken
        r.total = Int32(page.total)
        r.totalCapped = page.totalCapped
        return r
    }

    // MARK: Transitions

    public func registerItem(request: Xieshang_Intake_V1_RegisterRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        let title = try Check.text(request.title, "title", required: false, max: ItemRules.maxTitle)
        let category = try Check.text(request.category, "category", required: false, max: 20)
        let note = try ItemRules.longText(request.note, "note", required: false, max: 500)
        try Check.id(request.townId, "town_id")
        try Check.id(request.villageId, "village_id")
        try await directory.requirePlace(town: request.townId, village: request.villageId, committee: caller.committeeID)
        return try await transition(request.id, version: request.version, caller) { _, _ in
            .register(title: title, category: category, townID: request.townId, villageID: request.villageId, note: note)
        }
    }

    public func mergeItem(request: Xieshang_Intake_V1_MergeRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        return try await store.merge(request.id, version: request.version, into: request.intoId, committee: caller.committeeID,
                                     by: Participant(caller), actor: caller.actor, visible: { Self.canSee($0, caller) })
    }

    public func routeItem(request: Xieshang_Intake_V1_RouteRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        try caller.require(.liaisonStaff, to: "routing an item")
        try Check.known(request.mode, "mode")
        try Check.id(request.unitId, "unit_id", required: true)
        try Check.id(request.handlingMemberId, "handling_member_id")
        let note = try ItemRules.longText(request.note, "note", required: false, max: 500)
        let committee = caller.committeeID
        try await directory.requireUnit(request.unitId, committee: committee, field: "unit_id")
        if request.mode == .directLead {
            guard let m = try await directory.requireMember(request.handlingMemberId, committee: committee, field: "handling_member_id") else {
                throw DomainError.invalid(field: "handling_member_id", message: "直接领办 needs the member who leads it")
            }
            guard m.unitId == request.unitId else {
                throw DomainError.invalid(field: "handling_member_id", message: "member \(m.id) does not work in unit \(request.unitId)")
            }
        }
        let (limit, due) = try await dueDate(request.timeLimitDays, committee: committee)
        return try await transition(request.id, version: request.version, caller) { _, _ in
            .route(mode: request.mode, unitID: request.unitId, memberID: request.handlingMemberId, limitDays: limit, dueDate: due, note: note)
        }
    }

    public func declineItem(request: Xieshang_Intake_V1_DeclineRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        let reason = try ItemRules.longText(request.reason, "reason", max: 1000)
        return try await transition(request.id, version: request.version, caller) { _, _ in .decline(reason: reason) }
    }

    public func escalateItem(request: Xieshang_Intake_V1_EscalateRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        try Check.known(request.kind, "kind")
        try Check.id(request.targetId, "target_id")
        let note = try ItemRules.longText(request.note, "note", required: false, max: 500)
        if request.kind == .opinionReport && request.targetId == 0 {
            throw DomainError.invalid(field: "target_id", message: "name the draft report the item joins")
        }
        let committee = caller.committeeID
        return try await transition(request.id, version: request.version, caller) { item, tx in
            if request.kind == .opinionReport {
                // Both sides in one transaction: the report lists the item, the item links the report.
                let reports = EntityTable<Xieshang_Intake_V1_OpinionReport>()
                guard let report = try reports.find(request.targetId, committee: committee, on: tx.connection) else {
                    throw DomainError.invalid(field: "target_id", message: "no report \(request.targetId) in this committee")
                }
                guard report.state == .draft else { throw DomainError.notAllowed("report \(report.id) is already issued") }
                var next = report
                if !next.itemIds.contains(item.id) { next.itemIds.append(item.id) }
                _ = try reports.replace(report, with: next, in: tx, actor: caller.actor)
            }
            var link = Xieshang_Intake_V1_Link()
            link.kind = request.kind
            link.targetId = request.targetId
            link.atUnixMs = tx.nowMilliseconds
            link.note = note
            return .escalate(link)
        }
    }

    public func linkEscalation(request: Xieshang_Intake_V1_LinkRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        try Check.known(request.kind, "kind")
        try Check.id(request.targetId, "target_id", required: true)
        return try await transition(request.id, version: 0, caller) { _, _ in .link(kind: request.kind, targetID: request.targetId) }
    }

    public func acknowledgeItem(request: Xieshang_Intake_V1_ItemRef, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        let note = try ItemRules.longText(request.note, "note", required: false, max: 500)
        return try await transition(request.id, version: request.version, caller) { _, _ in .acknowledge(note: note) }
    }

    public func requestReroute(request: Xieshang_Intake_V1_RerouteRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        let reason = try ItemRules.longText(request.reason, "reason", max: 1000)
        return try await transition(request.id, version: request.version, caller) { _, _ in .requestReroute(reason: reason) }
    }

    public func replyItem(request: Xieshang_Intake_V1_ReplyRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        let reply = try ItemRules.longText(request.reply, "reply")
        return try await transition(request.id, version: request.version, caller) { _, _ in .reply(reply) }
    }

    public func feedBackItem(request: Xieshang_Intake_V1_FeedBackRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        let content = try ItemRules.longText(request.content, "content")
        let audience = try Check.text(request.audience, "audience", required: false)
        guard request.audienceSize >= 0 else { throw DomainError.invalid(field: "audience_size", message: "must not be negative") }
        let committee = caller.committeeID
        let today = self.today.description
        return try await transition(request.id, version: request.version, caller) { item, tx in
            // The relay back to the public is a downward record of its own (带下去).
            var relay = Xieshang_Intake_V1_Relay()
            relay.committeeId = committee
            relay.memberId = item.bringingMemberId != 0 ? item.bringingMemberId : caller.principal.memberId
            relay.itemId = item.id
            relay.content = content
            relay.audience = audience
            relay.audienceSize = request.audienceSize
            relay.date = today
            relay.townId = item.townId
            relay.channel = item.channel
            _ = try EntityTable<Xieshang_Intake_V1_Relay>().insert(relay, in: tx, actor: caller.actor)
            return .feedBack(content)
        }
    }

    public func closeItem(request: Xieshang_Intake_V1_CloseRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        try Check.known(request.satisfaction, "satisfaction")
        let comment = try ItemRules.longText(request.comment, "comment", required: false, max: 500)
        let item = try await visibleItem(request.id, caller)
        let (_, due) = try await dueDate(item.timeLimitDays, committee: caller.committeeID)
        return try await transition(request.id, version: request.version, caller) { _, _ in
            .close(request.satisfaction, comment: comment, reopenDueDate: due)
        }
    }

    public func chaseItem(request: Xieshang_Intake_V1_ChaseRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_Item {
        let caller = try Caller(context: context)
        try Check.known(request.method, "method")
        var chase = Xieshang_Intake_V1_Chase()
        chase.method = request.method
        chase.whom = try Check.text(request.whom, "whom", required: false)
        chase.note = try ItemRules.longText(request.note, "note", required: false, max: 500)
        chase.by = caller.principal.displayName
        let given = chase
        return try await transition(request.id, version: request.version, caller) { _, tx in
            var c = given
            c.atUnixMs = tx.nowMilliseconds
            return .chase(c)
        }
    }

    public func listChase(request: Xieshang_Intake_V1_ChaseListRequest, context: ServerContext) async throws -> Xieshang_Intake_V1_ChaseListResponse {
        let caller = try Caller(context: context)
        try caller.require(.liaisonStaff, .leader, .committeeAdmin, .handlingUnit, to: "reading the chase list")
        try Check.id(request.unitId, "unit_id")
        guard (0...365).contains(request.withinDays) else {
            throw DomainError.invalid(field: "within_days", message: "must be between 0 and 365")
        }
        let asOfText = try Check.date(request.asOf, "as_of")
        let asOf = asOfText.isEmpty ? today : CivilDate(asOfText)!
        var q = ItemQuery()
        q.unitID = request.unitId
        if !Self.seesAll(caller) { q.unitID = caller.principal.unitId }
        // Working days, as every time limit is counted.
        if request.withinDays == 0 {
            q.overdueOn = asOf.description
        } else {
            q.dueBy = try await directory.addWorkingDays(request.withinDays, to: asOf, committee: caller.committeeID).description
        }
        let page = try await store.list(committee: caller.committeeID, query: q,
                                             page: PageRequest(size: request.pageSize, token: request.pageToken))
        let overdue = try await directory.workingDaysOverdue(page.items.map(\.dueDate), asOf: asOf, committee: caller.committeeID)
        var r = Xieshang_Intake_V1_ChaseListResponse()
        r.entries = zip(page.items, overdue).map { item, days in
            var e = Xieshang_Intake_V1_ChaseEntry()
            e.item = item
            e.daysOverdue = days
            e.chaseCount = Int32(item.chases.count)
            e.lastChasedAtUnixMs = item.chases.last?.atUnixMs ?? 0
            return e
        }
        r.nextPageToken = page.nextToken
        r.total = Int32(page.total)
        r.asOf = asOf.description
        return r
    }

    // MARK: Event log

    public func watch(request: Xieshang_Events_V1_WatchRequest, responses: ResponseWriter<Xieshang_Events_V1_Event>,
                      context: ServerContext) async throws {
        try await feed.watch(request, caller: try Caller(context: context), responses: responses)
    }

    public func history(request: Xieshang_Events_V1_HistoryRequest, context: ServerContext) async throws -> Xieshang_Events_V1_HistoryResponse {
        try await feed.history(request, caller: try Caller(context: context))
    }
}

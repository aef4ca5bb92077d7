import Foundation
import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// Notify's RPC handlers: the inbox of the calling account, a ticket's news for the public,
/// webhooks for the committee admin. Every call is kept to the caller's committee.
public struct NotifyService: Sendable {
    public let notifier: Notifier
    public var store: NotifyStore { notifier.store }
    public let feed: EventFeed
    /// Hosts webhooks may post to besides loopback (XIESHANG_WEBHOOK_HOSTS).
    public let allowedHosts: [String]
    /// How often a watch looks for notifications another replica made.
    public let poll: Double

    public init(notifier: Notifier, allowedHosts: [String], poll: Double = 1) {
        self.notifier = notifier
        self.feed = EventFeed(database: notifier.store.database)
        self.allowedHosts = allowedHosts
        self.poll = poll
    }

    /// The caller, who must have an account (an inbox is an account's).
    static func account(_ context: ServerContext, to action: String) throws -> (Caller, [Address]) {
        let caller = try Caller(context: context)
        guard caller.principal.accountId > 0, !caller.isSystem else {
            throw DomainError.forbidden("\(action) needs a committee account")
        }
        return (caller, Address.inbox(of: caller.principal))
    }

    static func admin(_ context: ServerContext, to action: String) throws -> Caller {
        let caller = try Caller(context: context)
        try caller.require(.committeeAdmin, to: action)
        return caller
    }

    /// A webhook from the request, checked: URL allowed, secret long enough, kinds well formed.
    func webhook(_ r: Xieshang_Notify_V1_Webhook, committee: Int64) throws -> StoredWebhook {
        try Check.id(r.id, "id")
        let url = try Check.text(r.url, "url", max: 2000)
        _ = try WebhookTarget(url: url, allowedHosts: allowedHosts)
        if r.id == 0 || !r.secret.isEmpty {
            guard r.secret.count >= 16 else { throw DomainError.invalid(field: "secret", message: "needs at least 16 characters") }
            guard r.secret.count <= 200 else { throw DomainError.invalid(field: "secret", message: "at most 200 characters") }
        }
        var kinds: [String] = []
        for (i, k) in r.kinds.enumerated() {
            let ok = !k.isEmpty && k.count <= 64 && k.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_") || $0 == "*" }
                && (!k.contains("*") || (k.hasSuffix("*") && k.filter { $0 == "*" }.count == 1))
            guard ok else { throw DomainError.invalid(field: "kinds[\(i)]", message: "'\(k)' is not a notification kind such as item.routed or reminder.*") }
            if !kinds.contains(k) { kinds.append(k) }
        }
        let label = try Check.text(r.label, "label", required: false, max: 200)
        return StoredWebhook(id: r.id, committee: committee, url: url, secret: r.secret, kinds: kinds, disabled: r.disabled,
                             label: label, version: r.version)
    }
}

extension NotifyService: Xieshang_Notify_V1_NotifyServiceProvider {
    public func listNotifications(request: Xieshang_Notify_V1_ListNotificationsRequest, context: ServerContext) async throws -> Xieshang_Notify_V1_ListNotificationsResponse {
        let (caller, addresses) = try Self.account(context, to: "reading notifications")
        let page = try PageRequest(size: request.pageSize, token: request.pageToken)
        let found = try await store.inbox(account: caller.principal.accountId, committee: caller.committeeID, addresses: addresses,
                                          page: page, unreadOnly: request.unreadOnly)
        var r = Xieshang_Notify_V1_ListNotificationsResponse()
        r.notifications = found.notifications
        r.nextPageToken = found.next
        r.unreadCount = Int32(found.unread)
        return r
    }

    public func markRead(request: Xieshang_Notify_V1_MarkReadRequest, context: ServerContext) async throws -> Xieshang_Notify_V1_MarkReadResponse {
        let (caller, addresses) = try Self.account(context, to: "marking notifications read")
        guard request.all || !request.ids.isEmpty else { throw DomainError.invalid(field: "ids", message: "name notifications, or set all") }
        guard request.ids.count <= 1000 else { throw DomainError.invalid(field: "ids", message: "at most 1000 at once") }
        for (i, id) in request.ids.enumerated() where id <= 0 { throw DomainError.invalid(field: "ids[\(i)]", message: "must be positive") }
        let done = try await store.markRead(account: caller.principal.accountId, committee: caller.committeeID, addresses: addresses,
                                            ids: request.ids, all: request.all)
        var r = Xieshang_Notify_V1_MarkReadResponse()
        r.marked = Int32(done.marked)
        r.unreadCount = Int32(done.unread)
        return r
    }

    public func watchNotifications(request: Xieshang_Notify_V1_WatchNotificationsRequest, responses: ResponseWriter<Xieshang_Notify_V1_Notification>,
                                   context: ServerContext) async throws {
        let (caller, addresses) = try Self.account(context, to: "watching notifications")
        guard request.afterId >= 0 else { throw DomainError.invalid(field: "after_id", message: "must not be negative") }
        var after = request.afterId == 0 ? try await store.lastID() : request.afterId
        // Everything up to `seen` has been looked at; a wait returns when something newer is made here,
        // or after `poll` seconds (another replica may have made it).
        var seen = try await store.lastID()
        while !Task.isCancelled {
            let batch = try await store.since(account: caller.principal.accountId, committee: caller.committeeID, addresses: addresses, afterID: after)
            try await responses.send(contentsOf: batch)
            if let last = batch.last { after = last.id }
            if batch.count == 500 { continue }
            seen = max(seen, after)
            await notifier.made.wait(after: seen, timeout: poll)
            seen = max(seen, try await store.lastID())
        }
    }

    public func getTicketNews(request: Xieshang_Notify_V1_TicketNewsRequest, context: ServerContext) async throws -> Xieshang_Notify_V1_TicketNewsResponse {
        let caller = try Caller(context: context)
        let code = request.ticketCode.trimmingCharacters(in: .whitespaces).uppercased()
        guard (6...32).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw DomainError.invalid(field: "ticket_code", message: "is not a ticket code")
        }
        let news = try await store.ticketNews(code, committee: caller.committeeID)
        var r = Xieshang_Notify_V1_TicketNewsResponse()
        r.notifications = news.notifications
        r.unreadCount = Int32(news.unread)
        return r
    }

    public func setWebhook(request: Xieshang_Notify_V1_Webhook, context: ServerContext) async throws -> Xieshang_Notify_V1_Webhook {
        let caller = try Self.admin(context, to: "configuring webhooks")
        if request.committeeId != 0 && request.committeeId != caller.committeeID {
            throw DomainError.invalid(field: "committee_id", message: "a webhook belongs to the caller's own committee")
        }
        return try await store.setWebhook(try webhook(request, committee: caller.committeeID), expectedVersion: request.version, actor: caller.actor)
    }

    public func listWebhooks(request: Xieshang_Notify_V1_ListWebhooksRequest, context: ServerContext) async throws -> Xieshang_Notify_V1_ListWebhooksResponse {
        let caller = try Self.admin(context, to: "listing webhooks")
        var r = Xieshang_Notify_V1_ListWebhooksResponse()
        r.webhooks = try await store.listWebhooks(committee: caller.committeeID)
        return r
    }

    public func deleteWebhook(request: Xieshang_Notify_V1_WebhookRef, context: ServerContext) async throws -> Xieshang_Notify_V1_Webhook {
        let caller = try Self.admin(context, to: "deleting webhooks")
        try Check.id(request.id, "id", required: true)
        return try await store.deleteWebhook(request.id, committee: caller.committeeID, actor: caller.actor)
    }

    public func listDeliveries(request: Xieshang_Notify_V1_ListDeliveriesRequest, context: ServerContext) async throws -> Xieshang_Notify_V1_ListDeliveriesResponse {
        let caller = try Self.admin(context, to: "listing deliveries")
        try Check.id(request.webhookId, "webhook_id")
        try Check.known(request.state, "state", required: false)
        let page = try PageRequest(size: request.pageSize, token: request.pageToken)
        let found = try await store.deliveries(committee: caller.committeeID, webhook: request.webhookId, state: request.state, page: page)
        var r = Xieshang_Notify_V1_ListDeliveriesResponse()
        r.deliveries = found.list
        r.nextPageToken = found.next
        return r
    }

    public func redeliver(request: Xieshang_Notify_V1_RedeliverRequest, context: ServerContext) async throws -> Xieshang_Notify_V1_Delivery {
        let caller = try Self.admin(context, to: "redelivering")
        try Check.id(request.deliveryId, "delivery_id", required: true)
        let d = try await store.redeliver(request.deliveryId, committee: caller.committeeID, now: Clock.nowMilliseconds())
        notifier.deliverer?.poke()
        return d
    }

    public func getStatus(request: Xieshang_Notify_V1_StatusRequest, context: ServerContext) async throws -> Xieshang_Notify_V1_Status {
        let caller = try Caller(context: context)
        try caller.require(.committeeAdmin, .liaisonStaff, .committeeStaff, to: "reading notify's status")
        var s = Xieshang_Notify_V1_Status()
        s.feeds = try await notifier.feeds()
        let counts = try await store.deliveryCounts(committee: caller.committeeID)
        s.pendingDeliveries = Int32(counts[Xieshang_Notify_V1_DeliveryState.pending.rawValue] ?? 0)
        s.deadDeliveries = Int32(counts[Xieshang_Notify_V1_DeliveryState.dead.rawValue] ?? 0)
        s.remindersRunOn = try await store.remindersRunOn()
        s.leading = notifier.isLeading
        return s
    }

    public func runReminders(request: Xieshang_Notify_V1_RunRemindersRequest, context: ServerContext) async throws -> Xieshang_Notify_V1_RunRemindersResponse {
        let caller = try Self.admin(context, to: "running reminders")
        var r = Xieshang_Notify_V1_RunRemindersResponse()
        r.made = Int32(try await notifier.remind(committee: caller.committeeID))
        r.runOn = "\(notifier.today)"
        return r
    }

    public func watch(request: Xieshang_Events_V1_WatchRequest, responses: ResponseWriter<Xieshang_Events_V1_Event>, context: ServerContext) async throws {
        try await feed.watch(request, caller: try Caller(context: context), responses: responses)
    }

    public func history(request: Xieshang_Events_V1_HistoryRequest, context: ServerContext) async throws -> Xieshang_Events_V1_HistoryResponse {
        try await feed.history(request, caller: try Caller(context: context))
    }
}

import Foundation
import NIOConcurrencyHelpers
import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// Sends the outbox: every pending delivery whose time has come is posted (a few at once); a 2xx
/// answer delivers it, anything else schedules the next attempt by ``Backoff`` until the limit,
/// then it is dead. An attempt is recorded only after the answer, so a process killed mid-post
/// sends it again on start: at least once, each copy with the notification's key.
public final class Deliverer: Sendable {
    public let store: NotifyStore
    let client: WebhookClient
    let backoff: Backoff
    let allowedHosts: [String]
    let directory: (any DirectoryLookup)?
    let parallel: Int
    /// Wakes the loop when deliveries are queued (``poke()``): `pokes` counts the pokes, so the loop
    /// waits only for one after the count it read before looking for due deliveries.
    private let wake = EventNotifier()
    private let pokes = NIOLockedValueBox<Int64>(0)
    private let task = BackgroundTask()

    public init(store: NotifyStore, client: WebhookClient, backoff: Backoff, allowedHosts: [String],
                directory: (any DirectoryLookup)?, parallel: Int = 32) {
        self.store = store
        self.client = client
        self.backoff = backoff
        self.allowedHosts = allowedHosts
        self.directory = directory
        self.parallel = parallel
    }

    public func start() {
        task.start { await self.run() }
    }

    public func stop() async {
        await task.stop()
    }

    /// Deliveries were queued (a batch made some, or one is redelivered): look now.
    public func poke() {
        wake.publish(pokes.withLockedValue { p in
            p += 1
            return p
        })
    }

    private func run() async {
        while !Task.isCancelled {
            let seen = pokes.withLockedValue { $0 }
            let now = Clock.nowMilliseconds()
            guard let due = try? await store.due(now: now, limit: parallel * 8), !due.isEmpty else {
                // Nothing due: sleep until the next retry, a new delivery, or a second (other replicas' work).
                let next = (try? await store.nextDue()) ?? nil
                let wait = next.map { max(0.005, min(1, Double($0 - now) / 1000)) } ?? 1
                await wake.wait(after: seen, timeout: wait)
                continue
            }
            // Posted `parallel` at a time; the round's outcomes are recorded together.
            let outcomes = await withTaskGroup(of: Attempt.self) { group -> [Attempt] in
                var out: [Attempt] = []
                var running = 0
                for d in due {
                    if running == parallel, let a = await group.next() {
                        out.append(a)
                        running -= 1
                    }
                    group.addTask { await self.attempt(d) }
                    running += 1
                }
                for await a in group { out.append(a) }
                return out
            }
            try? await store.record(outcomes)
        }
    }

    /// One attempt at `d`, and its outcome (recorded by the caller).
    func attempt(_ d: DueDelivery) async -> Attempt {
        let now = Clock.nowMilliseconds()
        let attempt = d.attempts + 1
        var status = 0
        var failure = ""
        do {
            let target = try WebhookTarget(url: d.webhook.url, allowedHosts: allowedHosts)
            let body = try await payload(d, attempt: attempt)
            let seconds = now / 1000
            let headers = [(WebhookSignature.keyHeader, d.notification.key), (WebhookSignature.timestampHeader, "\(seconds)"),
                           (WebhookSignature.header, WebhookSignature.sign(secret: d.webhook.secret, timestamp: seconds, body: body)),
                           ("X-Xieshang-Delivery", "\(d.id)"), ("X-Xieshang-Attempt", "\(attempt)")]
            status = try await client.post(target, headers: headers, body: body)
            if (200..<300).contains(status) {
                return Attempt(id: d.id, delivered: true, status: status, error: "", retryAt: nil, at: Clock.nowMilliseconds())
            }
            failure = "HTTP \(status)"
        } catch {
            failure = RPCError.from(error).message
        }
        let at = Clock.nowMilliseconds()
        let retry: Int64? = attempt >= backoff.attempts ? nil
            : at + backoff.delay(after: attempt, unit: Double.random(in: 0..<1))
        return Attempt(id: d.id, delivered: false, status: status, error: failure, retryAt: retry, at: at)
    }

    /// The JSON posted: the notification, its recipient (with name and phone from the directory
    /// for members and units, whom an SMS reaches) and the attempt.
    func payload(_ d: DueDelivery, attempt: Int) async throws -> [UInt8] {
        let n = d.notification
        let to = n.recipient ?? Xieshang_Notify_V1_Recipient()
        var recipient: [String: Any] = ["kind": Address.name(of: to.kind)]
        switch to.kind {
        case .ticket: recipient["ticket_code"] = to.ticketCode
        case .staff: recipient["role"] = Int(to.role.rawValue)
        default: recipient["id"] = to.id
        }
        if let directory {
            if to.kind == .member, let m = try? await directory.member(to.id, committee: n.committeeId) {
                recipient["name"] = m.name
                recipient["phone"] = m.phone
            } else if to.kind == .unit, let u = try? await directory.unit(to.id, committee: n.committeeId) {
                recipient["name"] = u.name
                recipient["contacts"] = u.contacts.map { ["name": $0.name, "title": $0.title, "phone": $0.phone] }
            }
        }
        let object: [String: Any] = [
            "key": n.key, "id": n.id, "committee_id": n.committeeId, "kind": n.kind, "title": n.title, "body": n.body,
            "entity": ["kind": n.entityKind, "id": n.entityId], "recipient": recipient, "at_unix_ms": n.atUnixMs,
            "delivery_id": d.id, "attempt": attempt,
        ]
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

}

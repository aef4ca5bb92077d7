import XieshangAPI
import XieshangRPC
import XieshangStore

/// Serves a service's event log as `Watch` (past events after a cursor, then live ones) and
/// `History`. Callers see their own committee's events; system principals see every committee's.
public struct EventFeed: Sendable {
    /// The service's database.
    public let database: Database
    /// Events read per query.
    public var batchSize = 1024

    /// A feed over `database`'s log.
    public init(database: Database) {
        self.database = database
    }

    /// Streams events after `request.afterCursor` until the caller cancels (or, with
    /// `history_only`, until the past is sent). With `heartbeats`, each time it has caught up it
    /// also sends the head alone (an event without a kind).
    public func watch(
        _ request: Xieshang_Events_V1_WatchRequest, caller: Caller,
        responses: ResponseWriter<Xieshang_Events_V1_Event>
    ) async throws {
        try caller.require(.committeeAdmin, .leader, .committeeStaff, .liaisonStaff, to: "watching the event log")
        guard request.afterCursor >= 0 else {
            throw DomainError.invalid(field: "after_cursor", message: "must not be negative")
        }
        let committees: [Int64]? = caller.isSystem ? nil : [caller.committeeID]
        let kinds = request.entityKinds
        let limit = batchSize
        let poll = database.pollInterval
        var cursor = request.afterCursor
        while !Task.isCancelled {
            let from = cursor
            // The head is read first: every event up to it is committed (the log numbers in commit
            // order), so once the events up to it are sent the cursor can jump there even when a
            // filter matched none of them.
            let (head, batch) = try await database.read { conn in
                let head = try EventLog.head(on: conn)
                return (head, try EventLog.read(on: conn, after: from, upTo: head, committees: committees,
                                                kinds: kinds, limit: limit))
            }
            try await responses.send(contentsOf: batch.map(Self.message))
            if batch.count == limit, let last = batch.last {
                cursor = last.sequence
                continue
            }
            cursor = max(cursor, head)
            if request.heartbeats {
                var beat = Xieshang_Events_V1_Event()
                beat.sequence = cursor
                try await responses.send(beat)
            }
            if request.historyOnly { return }
            await database.notifier.wait(after: cursor, timeout: poll)
        }
    }

    /// The events of one entity of the caller's committee, oldest first.
    public func history(_ request: Xieshang_Events_V1_HistoryRequest, caller: Caller) async throws -> Xieshang_Events_V1_HistoryResponse {
        try caller.requireAccount(to: "reading history")
        guard !request.entityKind.isEmpty else { throw DomainError.invalid(field: "entity_kind", message: "required") }
        guard !request.entityId.isEmpty else { throw DomainError.invalid(field: "entity_id", message: "required") }
        let records = try await database.read {
            try EventLog.history(on: $0, kind: request.entityKind, id: request.entityId)
        }
        let visible = records.filter { caller.isSystem || $0.draft.committeeID == caller.committeeID }
        if visible.isEmpty { throw DomainError.notFound(kind: request.entityKind, id: request.entityId) }
        var r = Xieshang_Events_V1_HistoryResponse()
        r.events = visible.map(Self.message)
        return r
    }

    /// A wire event as a draft to append to another log (its sequence is assigned there).
    public static func draft(_ e: Xieshang_Events_V1_Event) -> EventDraft {
        EventDraft(committeeID: e.committeeId, entityKind: e.entityKind, entityID: e.entityId, eventType: e.eventType,
                   actorAccountID: e.actorAccountId, actorName: e.actorName, atMilliseconds: e.atUnixMs,
                   payloadType: e.payloadType, before: e.before, after: e.after)
    }

    /// The wire form of a log entry.
    public static func message(_ r: EventRecord) -> Xieshang_Events_V1_Event {
        var e = Xieshang_Events_V1_Event()
        e.sequence = r.sequence
        e.committeeId = r.draft.committeeID
        e.entityKind = r.draft.entityKind
        e.entityId = r.draft.entityID
        e.eventType = r.draft.eventType
        e.actorAccountId = r.draft.actorAccountID
        e.actorName = r.draft.actorName
        e.atUnixMs = r.draft.atMilliseconds
        e.payloadType = r.draft.payloadType
        e.before = r.draft.before
        e.after = r.draft.after
        return e
    }
}

/// One entry of a service's event log: what changed, in which committee, by whom, when, and the
/// entity before and after (protobuf bytes of `payloadType`; empty when it did not exist).
public struct EventRecord: Sendable, Equatable {
    /// Position in the log: gapless, and committed in this order.
    public var sequence: Int64
    /// The rest of the event.
    public var draft: EventDraft

    /// An event at `sequence`.
    public init(sequence: Int64, draft: EventDraft) {
        self.sequence = sequence
        self.draft = draft
    }
}

/// An event before it has a place in the log.
public struct EventDraft: Sendable, Equatable {
    /// The committee (tenant) the entity belongs to.
    public var committeeID: Int64
    /// What kind of entity changed, e.g. `member`.
    public var entityKind: String
    /// Its id.
    public var entityID: String
    /// What happened, e.g. `member.created`.
    public var eventType: String
    /// The account that made the change (0 for the system itself).
    public var actorAccountID: Int64
    /// That account's display name at the time.
    public var actorName: String
    /// When (milliseconds since 1970, UTC).
    public var atMilliseconds: Int64
    /// Full protobuf name of the message in `before`/`after`.
    public var payloadType: String
    /// The entity before the change; empty for a creation.
    public var before: [UInt8]
    /// The entity after the change; empty for a deletion.
    public var after: [UInt8]

    /// An event with every field given.
    public init(
        committeeID: Int64, entityKind: String, entityID: String, eventType: String,
        actorAccountID: Int64, actorName: String, atMilliseconds: Int64,
        payloadType: String, before: [UInt8], after: [UInt8]
    ) {
        self.committeeID = committeeID
        self.entityKind = entityKind
        self.entityID = entityID
        self.eventType = eventType
        self.actorAccountID = actorAccountID
        self.actorName = actorName
        self.atMilliseconds = atMilliseconds
        self.payloadType = payloadType
        self.before = before
        self.after = after
    }
}

/// A write transaction in progress: run statements on it, and record the events its changes make.
/// The events are appended, numbered, in the same transaction just before it commits.
public final class Transaction {
    /// The connection the transaction runs on.
    public let connection: SQLConnection
    /// When the transaction started (milliseconds since 1970, UTC); events default to it.
    public let nowMilliseconds: Int64
    private(set) var pending: [EventDraft] = []

    init(connection: SQLConnection, nowMilliseconds: Int64) {
        self.connection = connection
        self.nowMilliseconds = nowMilliseconds
    }

    /// Records an event for a change made in this transaction.
    public func emit(_ event: EventDraft) {
        pending.append(event)
    }

    /// Runs a query.
    public func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try connection.query(sql, binds)
    }

    /// Runs a statement; returns the rows changed.
    @discardableResult
    public func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int {
        try connection.execute(sql, binds)
    }
}

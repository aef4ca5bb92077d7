import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// A recorded feed: one source's events in an event log of their own, served as that source's
/// `Watch` (and nothing else). Benchmarks and tests replay a generated year through it exactly as
/// analytics reads a live service.
public struct RecordedFeed: RPCService {
    public let source: Source
    public let database: Database

    public init(source: Source, database: Database) {
        self.source = source
        self.database = database
    }

    /// Prepares the event log.
    public func migrate() async throws {
        try await database.migrate(component: "recorded_\(source.rawValue)", [])
    }

    /// Appends `events` (their sequence numbers are assigned anew, in order).
    public func append(_ events: [Xieshang_Events_V1_Event]) async throws {
        try await database.write { tx in
            for e in events { tx.emit(EventFeed.draft(e)) }
        }
    }

    public var methodHandlers: [MethodHandler] {
        let feed = EventFeed(database: database)
        return [MethodHandler(serverStreaming: source.watch) { request, responses, context in
            try await feed.watch(request, caller: try Caller(context: context), responses: responses)
        }]
    }
}

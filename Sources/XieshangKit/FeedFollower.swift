import NIOConcurrencyHelpers
import XieshangAPI
import XieshangRPC

/// Keeps one service's `Watch` stream open and hands what arrives, in batches and in order, to a
/// consumer that stores its own cursor in the same transaction as what the batch changed. A
/// stream that fails or ends is reopened after a backoff from the stored cursor, so delivery is at
/// least once and application exactly once. Analytics and notify follow their feeds with it.
public final class FeedFollower: Sendable {
    /// What the follower knows of its feed right now.
    public struct Live: Sendable {
        public var head: Int64 = 0
        public var connected = false
        public var lastError = ""

        public init() {}
    }

    public let name: String
    let channel: any ClientTransport
    let method: MethodDescriptor<Xieshang_Events_V1_WatchRequest, Xieshang_Events_V1_Event>
    let kinds: [String]
    let batchSize: Int
    let options: CallOptions
    let cursor: @Sendable () async throws -> Int64
    let apply: @Sendable ([Xieshang_Events_V1_Event], Int64?) async throws -> Void
    private let live = NIOLockedValueBox(Live())
    private let task = BackgroundTask()

    /// `cursor` reads the stored position; `apply(events, head)` stores a batch (events after the
    /// cursor; `head`, when given, is how far the feed is known to be with nothing filtered in between).
    public init(name: String, channel: any ClientTransport,
                method: MethodDescriptor<Xieshang_Events_V1_WatchRequest, Xieshang_Events_V1_Event>,
                kinds: [String], batchSize: Int, options: CallOptions,
                cursor: @escaping @Sendable () async throws -> Int64,
                apply: @escaping @Sendable ([Xieshang_Events_V1_Event], Int64?) async throws -> Void) {
        self.name = name
        self.channel = channel
        self.method = method
        self.kinds = kinds
        self.batchSize = batchSize
        self.options = options
        self.cursor = cursor
        self.apply = apply
    }

    public var state: Live { live.withLockedValue { $0 } }

    public func start() {
        task.start { await self.run() }
    }

    /// Stops following and waits for a batch being applied.
    public func stop() async {
        await task.stop()
        live.withLockedValue { $0.connected = false }
    }

    private func update(_ change: (inout Live) -> Void) { live.withLockedValue { change(&$0) } }

    /// The stream is up and has reached at least `sequence`.
    private func heard(upTo sequence: Int64) {
        update {
            $0.head = max($0.head, sequence)
            $0.connected = true
            $0.lastError = ""
        }
    }

    private func run() async {
        var backoff: UInt64 = 200_000_000
        // One batch is applied while the next is read off the stream; batches are applied in
        // order (each waits for the one before it).
        var inflight: Task<Void, Error>?
        while !Task.isCancelled {
            do {
                var request = Xieshang_Events_V1_WatchRequest()
                request.afterCursor = try await cursor()
                request.entityKinds = kinds
                request.heartbeats = true
                let call = channel.serverStreaming(method, request, options: options)
                var applied = request.afterCursor
                func hand(_ events: [Xieshang_Events_V1_Event], head: Int64? = nil) async throws {
                    try await inflight?.value
                    inflight = Task { [apply] in try await apply(events, head) }
                }
                try await withTaskCancellationHandler {
                    var buffer: [Xieshang_Events_V1_Event] = []
                    buffer.reserveCapacity(batchSize)
                    for try await e in call.responses {
                        if e.entityKind.isEmpty {
                            // Caught up to the head: apply what is buffered and move past filtered events.
                            heard(upTo: e.sequence)
                            if !buffer.isEmpty || e.sequence > applied {
                                try await hand(buffer, head: e.sequence)
                                try await inflight?.value
                                applied = max(applied, e.sequence)
                            }
                            buffer.removeAll(keepingCapacity: true)
                            backoff = 200_000_000
                        } else {
                            buffer.append(e)
                            if buffer.count >= batchSize {
                                heard(upTo: e.sequence)
                                try await hand(buffer)
                                applied = max(applied, e.sequence)
                                buffer.removeAll(keepingCapacity: true)
                            }
                        }
                    }
                    try await hand(buffer)
                    try await inflight?.value
                } onCancel: {
                    call.cancel()
                }
                update { $0.lastError = "the stream ended" }
            } catch {
                // A batch still applying finishes (or fails) before the stream reopens or the follower stops.
                _ = await inflight?.result
                inflight = nil
                if Task.isCancelled { break }
                update { $0.lastError = "\(error)" }
            }
            update { $0.connected = false }
            try? await Task.sleep(nanoseconds: backoff)
            backoff = min(backoff * 2, 5_000_000_000)
        }
    }
}

/// The followers of several feeds, one per key, started and stopped together (analytics' sources,
/// notify's feeds).
public final class FeedFollowers<Key: Hashable & Sendable>: Sendable {
    private let running = NIOLockedValueBox([Key: FeedFollower]())

    public init() {}

    /// Starts `followers` (kept until ``stop()``).
    public func start(_ followers: [Key: FeedFollower]) {
        for f in followers.values { f.start() }
        running.withLockedValue { $0.merge(followers) { _, new in new } }
    }

    /// Stops every follower and waits for them.
    public func stop() async {
        let all = running.withLockedValue { f in
            defer { f.removeAll() }
            return Array(f.values)
        }
        for f in all { await f.stop() }
    }

    /// What each running follower knows of its feed.
    public var states: [Key: FeedFollower.Live] { running.withLockedValue { $0.mapValues(\.state) } }
}

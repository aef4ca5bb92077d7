import NIOConcurrencyHelpers
import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

extension Source {
    /// The source's `Watch` method.
    var watch: MethodDescriptor<Xieshang_Events_V1_WatchRequest, Xieshang_Events_V1_Event> {
        switch self {
        case .directory: Xieshang_Directory_V1_DirectoryService.Method.watch
        case .intake: Xieshang_Intake_V1_IntakeService.Method.watch
        case .proposals: Xieshang_Proposal_V1_ProposalService.Method.watch
        case .consultation: Xieshang_Consultation_V1_ConsultationService.Method.watch
        }
    }
}

/// Keeps one `Watch` stream open per source and applies what arrives in batches (see
/// ``AnalyticsStore/apply(_:events:head:)``). A stream that fails or ends is reopened after a
/// backoff from the stored cursor, so delivery is at least once and application exactly once.
public final class Ingestor: Sendable {
    public let store: AnalyticsStore
    let channels: [Source: any ClientTransport]
    /// Events applied per transaction at most (bigger batches merge more roll-up and count moves
    /// into one write; at about 60,000 events a second a full batch holds the writer ~0.2 s).
    let batchSize: Int
    private let live = NIOLockedValueBox([Source: Live]())
    private let tasks = NIOLockedValueBox([Task<Void, Never>]())
    private let rebuilding = NIOLockedValueBox(false)

    /// What the consumer of one source knows right now.
    struct Live {
        var head: Int64 = 0
        var connected = false
        var lastError = ""
    }

    public init(store: AnalyticsStore, channels: [Source: any ClientTransport], batchSize: Int = 10000) {
        self.store = store
        self.channels = channels
        self.batchSize = batchSize
    }

    /// Starts one consumer per source with a channel.
    public func start() {
        let started = channels.keys.sorted { $0.rawValue < $1.rawValue }.map { source in
            Task { await self.consume(source) }
        }
        tasks.withLockedValue { $0 += started }
    }

    /// Stops every consumer and waits for them.
    public func stop() async {
        let running = tasks.withLockedValue { t in
            defer { t.removeAll() }
            return t
        }
        for t in running { t.cancel() }
        for t in running { await t.value }
        live.withLockedValue { l in for k in l.keys { l[k]?.connected = false } }
    }

    private func update(_ source: Source, _ change: (inout Live) -> Void) {
        live.withLockedValue { change(&$0[source, default: Live()]) }
    }

    /// The stream of `source` is up and has reached at least `sequence`.
    private func heard(_ source: Source, upTo sequence: Int64) {
        update(source) {
            $0.head = max($0.head, sequence)
            $0.connected = true
            $0.lastError = ""
        }
    }

    /// Consumers call as a service, which sees every committee's events (the committee named
    /// is only the one the principal must carry).
    static let options = CallOptions(metadata: Caller.system("analytics", committee: 1))

    private func consume(_ source: Source) async {
        guard let channel = channels[source] else { return }
        var backoff: UInt64 = 200_000_000
        // One batch is applied while the next is read off the stream; batches are applied in
        // order (each waits for the one before it).
        var inflight: Task<Void, Error>?
        while !Task.isCancelled {
            do {
                var request = Xieshang_Events_V1_WatchRequest()
                request.afterCursor = try await store.positions().first { $0.source == source }?.appliedSequence ?? 0
                request.entityKinds = source.entityKinds
                request.heartbeats = true
                let call = channel.serverStreaming(source.watch, request, options: Self.options)
                var applied = request.afterCursor
                func hand(_ events: [Xieshang_Events_V1_Event], head: Int64? = nil) async throws {
                    try await inflight?.value
                    inflight = Task { [store] in try await store.apply(source, events: events, head: head) }
                }
                try await withTaskCancellationHandler {
                    var buffer: [Xieshang_Events_V1_Event] = []
                    buffer.reserveCapacity(batchSize)
                    for try await e in call.responses {
                        if e.entityKind.isEmpty {
                            // Caught up to the head: apply what is buffered and move past filtered events.
                            heard(source, upTo: e.sequence)
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
                                heard(source, upTo: e.sequence)
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
                update(source) { $0.lastError = "the stream ended" }
            } catch {
                // A batch still applying finishes (or fails) before the stream reopens or the consumer stops.
                _ = await inflight?.result
                inflight = nil
                if Task.isCancelled { break }
                update(source) { $0.lastError = "\(error)" }
            }
            update(source) { $0.connected = false }
            try? await Task.sleep(nanoseconds: backoff)
            backoff = min(backoff * 2, 5_000_000_000)
        }
    }

    /// Where each source stands.
    public func freshness(now: Int64 = XieshangStore.Clock.nowMilliseconds()) async throws -> Xieshang_Analytics_V1_Freshness {
        freshness(positions: try await store.positions(), now: now)
    }

    /// Where each source stands, given the applied `positions` (read with an answer's figures).
    public func freshness(positions: [SourcePosition], now: Int64 = XieshangStore.Clock.nowMilliseconds()) -> Xieshang_Analytics_V1_Freshness {
        let live = self.live.withLockedValue { $0 }
        var f = Xieshang_Analytics_V1_Freshness()
        var metrics = ["# TYPE xieshang_analytics_lag_events gauge", "# TYPE xieshang_analytics_lag_seconds gauge",
                       "# TYPE xieshang_analytics_applied_sequence counter"]
        for p in positions {
            let l = live[p.source] ?? Live()
            var s = Xieshang_Analytics_V1_SourceFreshness()
            s.source = p.source.rawValue
            s.appliedSequence = p.appliedSequence
            s.headSequence = max(l.head, p.appliedSequence)
            s.appliedEventAtUnixMs = p.appliedAtMilliseconds
            s.lagEvents = s.headSequence - p.appliedSequence
            s.lagMs = s.lagEvents > 0 && p.appliedAtMilliseconds > 0 ? max(0, now - p.appliedAtMilliseconds) : 0
            s.connected = l.connected
            s.lastError = l.lastError
            f.sources.append(s)
            metrics.append("xieshang_analytics_lag_events{source=\"\(s.source)\"} \(s.lagEvents)")
            metrics.append("xieshang_analytics_lag_seconds{source=\"\(s.source)\"} \(Double(s.lagMs) / 1000)")
            metrics.append("xieshang_analytics_applied_sequence{source=\"\(s.source)\"} \(s.appliedSequence)")
        }
        f.metricsText = metrics.joined(separator: "\n") + "\n"
        return f
    }

    /// Stops the consumers, forgets the projection, restarts them from the beginning and reports
    /// progress every `interval` seconds until each source is back at the head it had before.
    public func rebuild(interval: Double = 0.25, progress: @Sendable (Xieshang_Analytics_V1_RebuildProgress) async throws -> Void) async throws {
        let claimed = rebuilding.withLockedValue { busy in
            defer { busy = true }
            return !busy
        }
        guard claimed else { throw DomainError.notAllowed("a rebuild is already running") }
        defer { rebuilding.withLockedValue { $0 = false } }
        let before = try await freshness()
        let targets = Dictionary(uniqueKeysWithValues: before.sources.map { ($0.source, $0.headSequence) })
        await stop()
        try await store.wipe()
        start()
        while true {
            let now = try await freshness()
            var p = Xieshang_Analytics_V1_RebuildProgress()
            p.sources = now.sources
            p.applied = now.sources.reduce(0) { $0 + $1.appliedSequence }
            p.done = now.sources.allSatisfy { $0.appliedSequence >= targets[$0.source, default: 0] }
            try await progress(p)
            if p.done { return }
            try await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
        }
    }
}

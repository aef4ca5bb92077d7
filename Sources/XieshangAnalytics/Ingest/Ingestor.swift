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

/// Follows one `Watch` stream per source (``FeedFollower``) and applies what arrives in batches
/// (see ``AnalyticsStore/apply(_:events:head:)``): delivery is at least once, application exactly once.
public final class Ingestor: Sendable {
    public let store: AnalyticsStore
    let channels: [Source: any ClientTransport]
    /// Events applied per transaction at most (bigger batches merge more roll-up and count moves
    /// into one write; at about 60,000 events a second a full batch holds the writer ~0.2 s).
    let batchSize: Int
    private let followers = FeedFollowers<Source>()
    private let rebuilding = NIOLockedValueBox(false)
    /// With replicas on one PostgreSQL: only the holder of this lock ingests; every replica reads.
    public let leadership: Leadership?
    private let work = NIOLockedValueBox<LedWork?>(nil)

    public init(store: AnalyticsStore, channels: [Source: any ClientTransport], batchSize: Int = 10000, leadership: Leadership? = nil) {
        self.store = store
        self.channels = channels
        self.batchSize = batchSize
        self.leadership = leadership
    }

    /// Whether this replica ingests (always, without a leadership lock).
    public var ingesting: Bool { leadership?.isLeader ?? true }

    /// Consumers call as a service, which sees every committee's events (the committee named
    /// is only the one the principal must carry).
    static let options = CallOptions(metadata: Caller.system("analytics", committee: 1))

    /// Starts ingesting: at once, or whenever this replica holds the leadership lock.
    public func start() {
        let w = LedWork(leadership: leadership, begin: { [weak self] in self?.follow() }, end: { [weak self] in await self?.unfollow() })
        work.withLockedValue { $0 = w }
        w.start()
    }

    /// Stops ingesting (and gives up the lock).
    public func stop() async {
        await work.withLockedValue { $0 }?.stop()
    }

    /// Starts one follower per source with a channel.
    func follow() {
        followers.start(Dictionary(uniqueKeysWithValues: channels.map { source, channel in
            (source, FeedFollower(name: source.rawValue, channel: channel, method: source.watch, kinds: source.entityKinds,
                                  batchSize: batchSize, options: Self.options,
                                  cursor: { [store] in try await store.positions().first { $0.source == source }?.appliedSequence ?? 0 },
                                  apply: { [store] events, head in try await store.apply(source, events: events, head: head) }))
        }))
    }

    /// Stops every follower and waits for them.
    func unfollow() async {
        await followers.stop()
    }

    /// Where each source stands.
    public func freshness(now: Int64 = XieshangStore.Clock.nowMilliseconds()) async throws -> Xieshang_Analytics_V1_Freshness {
        freshness(positions: try await store.positions(), now: now)
    }

    /// Where each source stands, given the applied `positions` (read with an answer's figures).
    public func freshness(positions: [SourcePosition], now: Int64 = XieshangStore.Clock.nowMilliseconds()) -> Xieshang_Analytics_V1_Freshness {
        let live = followers.states
        var f = Xieshang_Analytics_V1_Freshness()
        var metrics = ["# TYPE xieshang_analytics_lag_events gauge", "# TYPE xieshang_analytics_lag_seconds gauge",
                       "# TYPE xieshang_analytics_applied_sequence counter"]
        for p in positions {
            let l = live[p.source] ?? FeedFollower.Live()
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
        f.ingesting = ingesting
        metrics.append("# TYPE xieshang_analytics_ingesting gauge")
        metrics.append("xieshang_analytics_ingesting \(ingesting ? 1 : 0)")
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
        // The lock stays held: another replica must not ingest from the old cursor meanwhile.
        guard ingesting else { throw DomainError.notAllowed("this analytics replica is not the one ingesting; ask again (another replica answers)") }
        await unfollow()
        try await store.wipe()
        follow()
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

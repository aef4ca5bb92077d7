import NIOConcurrencyHelpers
import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// A feed notify reads.
public enum NotifyFeed: String, CaseIterable, Sendable {
    case intake, proposals, consultation

    /// The entity kinds ``Rules`` reads from it (the rest are filtered out at the source).
    var entityKinds: [String] {
        switch self {
        case .intake: ["item", "report"]
        case .proposals: ["proposal"]
        case .consultation: ["consultation", "meeting"]
        }
    }

    var watch: MethodDescriptor<Xieshang_Events_V1_WatchRequest, Xieshang_Events_V1_Event> {
        switch self {
        case .intake: Xieshang_Intake_V1_IntakeService.Method.watch
        case .proposals: Xieshang_Proposal_V1_ProposalService.Method.watch
        case .consultation: Xieshang_Consultation_V1_ConsultationService.Method.watch
        }
    }
}

/// Turns the feeds into notifications (one ``FeedFollower`` per feed) and works out reminders
/// on start and whenever the day in China changes; wakes inbox watchers and the deliverer when
/// something is made.
public final class Notifier: Sendable {
    public let store: NotifyStore
    let channels: [NotifyFeed: any ClientTransport]
    let directory: any DirectoryLookup
    /// Working days before a due date that reminders start.
    public let soonDays: Int32
    /// Published with the newest notification id after each write that made some.
    public let made = EventNotifier()
    let deliverer: Deliverer?
    let batchSize: Int
    private let followers = FeedFollowers<NotifyFeed>()
    private let daily = BackgroundTask()
    /// With replicas on one PostgreSQL: only the holder of the leadership lock follows the feeds,
    /// reminds and delivers; every replica serves inboxes.
    private let work = NIOLockedValueBox<LedWork?>(nil)
    let leadership: Leadership?
    /// Milliseconds since 1970 (injectable so tests can move "today").
    let clock: @Sendable () -> Int64

    static let options = CallOptions(metadata: Caller.system("notify", committee: 1))

    public init(store: NotifyStore, channels: [NotifyFeed: any ClientTransport], directory: any DirectoryLookup, deliverer: Deliverer?,
                soonDays: Int32 = 3, batchSize: Int = 2000, leadership: Leadership? = nil,
                clock: @escaping @Sendable () -> Int64 = { Clock.nowMilliseconds() }) {
        self.leadership = leadership
        self.store = store
        self.channels = channels
        self.directory = directory
        self.deliverer = deliverer
        self.soonDays = soonDays
        self.batchSize = batchSize
        self.clock = clock
    }

    /// Whether this replica follows the feeds and delivers (always, without a leadership lock).
    public var isLeading: Bool { leadership?.isLeader ?? true }

    /// Starts the work: at once, or whenever this replica holds the leadership lock.
    public func start() {
        let w = LedWork(leadership: leadership, begin: { [weak self] in self?.lead() }, end: { [weak self] in await self?.unlead() })
        work.withLockedValue { $0 = w }
        w.start()
    }

    /// Stops the work (and gives up the lock).
    public func stop() async {
        await work.withLockedValue { $0 }?.stop()
    }

    /// Follows every feed, reminds daily and delivers.
    func lead() {
        followers.start(Dictionary(uniqueKeysWithValues: channels.map { feed, channel in
            (feed, FeedFollower(name: feed.rawValue, channel: channel, method: feed.watch, kinds: feed.entityKinds,
                                batchSize: batchSize, options: Self.options,
                                cursor: { [store] in try await store.cursor(feed.rawValue) },
                                apply: { [weak self] events, head in try await self?.apply(feed, events, head: head) }))
        }))
        daily.start { await self.remindDaily() }
        deliverer?.start()
    }

    func unlead() async {
        await followers.stop()
        await daily.stop()
        await deliverer?.stop()
    }

    func apply(_ feed: NotifyFeed, _ events: [Xieshang_Events_V1_Event], head: Int64?) async throws {
        let result = try await store.apply(feed.rawValue, events: events, head: head)
        announce(result)
    }

    func announce(_ result: Applied) {
        if result.notifications > 0 { made.publish(result.lastID) }
        if result.deliveries > 0 { deliverer?.poke() }
    }

    /// Where each feed stands.
    public func feeds() async throws -> [Xieshang_Notify_V1_FeedStatus] {
        let cursors = try await store.cursors()
        let live = followers.states
        return NotifyFeed.allCases.map { feed in
            var s = Xieshang_Notify_V1_FeedStatus()
            s.source = feed.rawValue
            s.appliedSequence = cursors[feed.rawValue] ?? 0
            let l = live[feed] ?? FeedFollower.Live()
            s.headSequence = max(l.head, s.appliedSequence)
            s.connected = l.connected
            s.lastError = l.lastError
            return s
        }
    }

    var today: CivilDate { CivilDate.china(unixMilliseconds: clock()) }

    /// Reminders on start, then once a day (checked every ten minutes, so a day is not missed
    /// when the process sleeps through midnight).
    private func remindDaily() async {
        while !Task.isCancelled {
            let day = "\(today)"
            if (try? await store.remindersRunOn()) != day { _ = try? await remind() }
            try? await Task.sleep(nanoseconds: 600_000_000_000)
        }
    }

    /// Works out the reminders due today for every open deadline (of `committee`, when given).
    @discardableResult
    public func remind(committee: Int64? = nil) async throws -> Int {
        let day = today
        let open = try await store.deadlines().filter { committee == nil || $0.committee == committee }
        var drafts: [Draft] = []
        for (c, list) in Dictionary(grouping: open, by: \.committee).sorted(by: { $0.key < $1.key }) {
            let late = try await directory.workingDaysOverdue(list.map(\.due), asOf: day, committee: c)
            drafts += Reminders.drafts(list, overdueBy: late, soonDays: soonDays)
        }
        let result = try await store.make(reminders: drafts, runOn: committee == nil ? "\(day)" : nil)
        announce(result)
        return result.notifications
    }
}

import NIOConcurrencyHelpers
import XieshangStore

/// One long-running task a component starts once and stops (cancels and waits for) on shutdown:
/// feed followers, the webhook deliverer, the daily reminders.
public final class BackgroundTask: Sendable {
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    public init() {}

    /// Runs `body` unless it is already running.
    public func start(_ body: @escaping @Sendable () async -> Void) {
        task.withLockedValue { t in
            guard t == nil else { return }
            t = Task { await body() }
        }
    }

    /// Cancels the task and waits for it to finish.
    public func stop() async {
        let running = task.withLockedValue { t in
            defer { t = nil }
            return t
        }
        running?.cancel()
        await running?.value
    }

    /// Returns when the calling task is cancelled.
    public static func untilCancelled() async {
        while !Task.isCancelled { try? await Task.sleep(nanoseconds: 3_600_000_000_000) }
    }
}

/// Work only one replica may do at a time: `begin` when this process takes the leadership lock
/// (at once without one), `end` (awaited) when it loses it or stops.
public final class LedWork: Sendable {
    public let leadership: Leadership?
    let begin: @Sendable () -> Void
    let end: @Sendable () async -> Void
    private let task = BackgroundTask()

    public init(leadership: Leadership?, begin: @escaping @Sendable () -> Void, end: @escaping @Sendable () async -> Void) {
        self.leadership = leadership
        self.begin = begin
        self.end = end
    }

    /// Whether this process does the work now.
    public var isLeading: Bool { leadership?.isLeader ?? true }

    public func start() {
        guard let leadership else { return begin() }
        task.start { [begin, end] in
            await leadership.run {
                begin()
                await BackgroundTask.untilCancelled()
                await end()
            }
        }
    }

    /// Stops the work and gives up the lock.
    public func stop() async {
        await task.stop()
        await end()
    }
}

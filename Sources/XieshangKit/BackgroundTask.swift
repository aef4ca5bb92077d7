import NIOConcurrencyHelpers

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
}

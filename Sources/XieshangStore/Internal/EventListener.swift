import Foundation
import NIOConcurrencyHelpers

/// Wakes this process's Watch streams when another process commits events to the same
/// PostgreSQL schema: every commit that appends events sends `NOTIFY` on the schema's channel
/// with the new head (see ``EventLog/append(_:on:)``), and this listener, on a connection and a
/// thread of its own, publishes it to the database's ``EventNotifier``. Streams still wake on
/// their poll timer, so a listener that is down (reconnecting) only makes them slower.
final class EventListener: @unchecked Sendable {
    /// The channel the events of `schema` are announced on.
    static func channel(schema: String) -> String { "xs_events:\(schema)" }

    private let conninfo: String
    private let schema: String
    private let notifier: EventNotifier
    private let state = NIOLockedValueBox((stopped: false, connected: false))
    private let done = DispatchSemaphore(value: 0)

    init(conninfo: String, schema: String, notifier: EventNotifier) {
        self.conninfo = conninfo
        self.schema = schema
        self.notifier = notifier
        let thread = Thread { [self] in run() }
        thread.name = "xieshang-listen"
        thread.start()
    }

    /// Whether the listener is connected and listening now.
    var connected: Bool { state.withLockedValue { $0.connected } }

    private var stopped: Bool { state.withLockedValue { $0.stopped } }

    private func run() {
        defer { done.signal() }
        while !stopped {
            do {
                let conn = try PostgresConnection(conninfo: conninfo, schema: nil, genericPlans: false)
                try conn.executeScript("LISTEN \(PostgresConnection.quoteIdentifier(Self.channel(schema: schema)))")
                state.withLockedValue { $0.connected = true }
                while !stopped {
                    for payload in try conn.notifications(timeout: 0.5) {
                        if let head = Int64(payload) { notifier.publish(head) }
                    }
                }
            } catch {
                state.withLockedValue { $0.connected = false }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// Stops listening and waits for the thread (at most about half a second).
    func stop() {
        state.withLockedValue { $0.stopped = true }
        done.wait()
    }
}

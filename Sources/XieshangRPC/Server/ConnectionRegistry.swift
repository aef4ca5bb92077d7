import NIOConcurrencyHelpers
import NIOCore

/// One open connection of a server, whatever its protocol.
protocol ServerConnection: AnyObject {
    /// Stops taking new calls; closes once the calls in flight end.
    func beginGracefulShutdown()
    /// Closes at once.
    func forceClose()
}

/// The server's open connections, so shutdown can reach each on its own event loop.
final class ConnectionRegistry: Sendable {
    private struct Entry: @unchecked Sendable {
        let handler: any ServerConnection
        let loop: EventLoop
    }
    private let entries = NIOLockedValueBox([ObjectIdentifier: Entry]())

    func add(_ h: any ServerConnection, loop: EventLoop) {
        entries.withLockedValue { $0[ObjectIdentifier(h)] = Entry(handler: h, loop: loop) }
    }

    func remove(_ h: any ServerConnection) {
        _ = entries.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(h)) }
    }

    var count: Int { entries.withLockedValue { $0.count } }

    /// Runs `body` for each connection on its event loop.
    func forEach(_ body: @escaping @Sendable (any ServerConnection) -> Void) {
        for e in entries.withLockedValue({ Array($0.values) }) {
            let h = LoopConfined(e.handler, eventLoop: e.loop)
            e.loop.execute { body(h.value) }
        }
    }
}

import NIOConcurrencyHelpers
import NIOCore

/// The server's open connections, so shutdown can reach each on its own event loop.
final class ConnectionRegistry: Sendable {
    private struct Entry: @unchecked Sendable {
        let handler: ServerConnectionHandler
        let loop: EventLoop
    }
    private let entries = NIOLockedValueBox([ObjectIdentifier: Entry]())

    func add(_ h: ServerConnectionHandler, loop: EventLoop) {
        entries.withLockedValue { $0[ObjectIdentifier(h)] = Entry(handler: h, loop: loop) }
    }

    func remove(_ h: ServerConnectionHandler) {
        _ = entries.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(h)) }
    }

    var count: Int { entries.withLockedValue { $0.count } }

    /// Runs `body` for each connection on its event loop.
    func forEach(_ body: @escaping @Sendable (ServerConnectionHandler) -> Void) {
        for e in entries.withLockedValue({ Array($0.values) }) {
            let h = LoopConfined(e.handler, eventLoop: e.loop)
            e.loop.execute { body(h.value) }
        }
    }
}

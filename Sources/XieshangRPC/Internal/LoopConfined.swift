import NIOCore

/// A value that is only touched on its event loop; carries it across threads without checks at creation.
struct LoopConfined<Value>: @unchecked Sendable {
    private let stored: Value
    let eventLoop: EventLoop

    init(_ value: Value, eventLoop: EventLoop) {
        stored = value
        self.eventLoop = eventLoop
    }

    /// The value; on its loop only.
    var value: Value {
        eventLoop.assertInEventLoop()
        return stored
    }
}

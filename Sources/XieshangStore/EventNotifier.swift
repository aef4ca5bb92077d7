import NIOConcurrencyHelpers

/// Wakes Watch streams of this process when a transaction commits events; streams also wake on a
/// timer to pick up events other processes committed.
public final class EventNotifier: Sendable {
    private struct State {
        var head: Int64 = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
    }
    private let state = NIOLockedValueBox(State())

    /// A notifier with no events seen.
    public init() {}

    /// The newest sequence published here.
    public var head: Int64 { state.withLockedValue { $0.head } }

    /// Records that events up to `sequence` are committed and wakes every waiter.
    public func publish(_ sequence: Int64) {
        let waiting = state.withLockedValue { s -> [CheckedContinuation<Void, Never>] in
            s.head = max(s.head, sequence)
            let w = Array(s.waiters.values)
            s.waiters.removeAll()
            return w
        }
        for c in waiting { c.resume() }
    }

    /// Returns when an event after `cursor` is published here, after `timeout` seconds, or on cancellation.
    public func wait(after cursor: Int64, timeout: Double) async {
        let id = state.withLockedValue { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = state.withLockedValue { s -> Bool in
                    if s.head > cursor || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if ready {
                    c.resume()
                    return
                }
                Task { [weak self] in
                    try? await Task.sleep(nanoseconds: UInt64(max(0.001, timeout) * 1e9))
                    self?.fire(id)
                }
            }
        } onCancel: {
            fire(id)
        }
    }

    private func fire(_ id: Int) {
        state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
    }
}

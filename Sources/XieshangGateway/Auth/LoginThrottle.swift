import NIOConcurrencyHelpers
import NIOCore

/// Wrong passwords per client address, on top of the directory's lock per username (which a
/// guesser trying many usernames never trips): each wrong password from an address after the
/// first ``freeFailures`` is answered after a delay that doubles, up to ``longestDelay``; after
/// ``lockAfter`` of them the address is refused outright for ``lockSeconds``, doubling with each
/// further lock. A right password from the address, or a quiet ``forgetSeconds``, clears it.
public final class LoginThrottle: Sendable {
    public static let freeFailures = 3
    public static let lockAfter = 10
    public static let longestDelay = 4.0
    public static let lockSeconds = 60.0
    public static let forgetSeconds = 15 * 60.0

    struct Entry {
        var failures = 0
        var locks = 0
        var last = NIODeadline.uptimeNanoseconds(0)
        var lockedUntil = NIODeadline.uptimeNanoseconds(0)
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    public init() {}

    /// Seconds `address` must still wait before it may try a password; nil when it may now.
    public func refusal(_ address: String, now: NIODeadline = .now()) -> Double? {
        guard let e = entries.withLockedValue({ $0[address] }), e.lockedUntil > now else { return nil }
        return Double((e.lockedUntil - now).nanoseconds) / 1e9
    }

    /// Counts a wrong password from `address`; returns the delay to answer it after, and whether
    /// the address is now locked (and for how long).
    public func failed(_ address: String, now: NIODeadline = .now()) -> (delay: Double, lockedFor: Double?) {
        entries.withLockedValue { all in
            var e = all[address] ?? Entry()
            if now - e.last > .seconds(Int64(Self.forgetSeconds)) { e = Entry() }
            e.failures += 1
            e.last = now
            var lockedFor: Double?
            if e.failures >= Self.lockAfter {
                let seconds = Self.lockSeconds * Double(1 << min(e.locks, 6))
                e.lockedUntil = now + .nanoseconds(Int64(seconds * 1e9))
                e.locks += 1
                e.failures = 0
                lockedFor = seconds
            }
            if all.count > 100_000 { all = all.filter { now - $0.value.last < .seconds(Int64(Self.forgetSeconds)) } }
            all[address] = e
            let over = e.failures - Self.freeFailures
            let delay = over > 0 ? min(0.25 * Double(1 << min(over - 1, 10)), Self.longestDelay) : 0
            return (lockedFor == nil ? delay : 0, lockedFor)
        }
    }

    /// A right password from `address`: its count starts again.
    public func succeeded(_ address: String) {
        _ = entries.withLockedValue { $0.removeValue(forKey: address) }
    }
}

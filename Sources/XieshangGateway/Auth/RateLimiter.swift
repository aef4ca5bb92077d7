import NIOConcurrencyHelpers
import NIOCore

/// A token bucket per client address: `perMinute` calls a minute, in bursts of up to that many.
/// The public's calls (no account) go through it.
public final class RateLimiter: Sendable {
    public let perMinute: Int
    private struct Bucket { var tokens: Double; var at: NIODeadline }
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    public init(perMinute: Int) {
        self.perMinute = max(perMinute, 1)
    }

    /// Takes one call from `client`'s bucket; false when it is empty.
    public func admit(_ client: String, now: NIODeadline = .now()) -> Bool {
        let rate = Double(perMinute) / 60e9
        return buckets.withLockedValue { b in
            if b.count > 100_000 {
                // Forget buckets that have refilled: they hold nothing worth keeping.
                b = b.filter { Double((now - $0.value.at).nanoseconds) * rate + $0.value.tokens < Double(perMinute) }
            }
            var bucket = b[client] ?? Bucket(tokens: Double(perMinute), at: now)
            bucket.tokens = min(Double(perMinute), bucket.tokens + Double((now - bucket.at).nanoseconds) * rate)
            bucket.at = now
            let ok = bucket.tokens >= 1
            if ok { bucket.tokens -= 1 }
            b[client] = bucket
            return ok
        }
    }
}

import CSodium

/// The signature a webhook receiver checks: `sha256=` and the lowercase hex HMAC-SHA-256, under
/// the webhook's secret (its UTF-8 bytes, any length, as RFC 2104 keys), of the timestamp
/// header's value, ".", and the body. The timestamp inside the signed bytes lets a receiver
/// refuse an old delivery replayed.
public enum WebhookSignature {
    public static let header = "X-Xieshang-Signature"
    public static let timestampHeader = "X-Xieshang-Timestamp"
    public static let keyHeader = "Idempotency-Key"

    /// HMAC-SHA-256 of `message` under `key`.
    public static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        _ = sodium_init()
        var state = crypto_auth_hmacsha256_state()
        var out = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        crypto_auth_hmacsha256_init(&state, key, key.count)
        crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
        crypto_auth_hmacsha256_final(&state, &out)
        return out
    }

    /// The header value for a delivery of `body` at `timestamp` (seconds since 1970, as sent).
    public static func sign(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        let signed = Array("\(timestamp).".utf8) + body
        return "sha256=" + hex(hmac(key: Array(secret.utf8), message: signed))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// When a failed delivery is tried again: exponential from `base` (doubling per attempt, capped
/// at `cap`), with jitter (a uniform draw between half that and all of it), so deliveries that
/// failed together are not all retried at the same moment when a receiver comes back.
public struct Backoff: Sendable {
    public var base: Int64
    public var cap: Int64
    /// Attempts before a delivery is dead.
    public var attempts: Int

    public init(baseMilliseconds: Int64 = 2_000, capMilliseconds: Int64 = 15 * 60_000, attempts: Int = 10) {
        base = baseMilliseconds
        cap = capMilliseconds
        self.attempts = attempts
    }

    /// The ceiling of the wait after `attempt` failures (1 is the first).
    public func ceiling(after attempt: Int) -> Int64 {
        let shift = min(max(attempt - 1, 0), 40)
        let grown = base.multipliedReportingOverflow(by: Int64(1) << shift)
        return grown.overflow ? cap : min(cap, grown.partialValue)
    }

    /// The wait after `attempt` failures, `unit` a draw in [0, 1): between half the ceiling and
    /// the ceiling (never nothing, so a receiver failing at once is not hammered).
    public func delay(after attempt: Int, unit: Double) -> Int64 {
        let c = ceiling(after: attempt)
        return c / 2 + Int64(Double(c - c / 2) * min(max(unit, 0), 0.999_999))
    }
}

import NIOCore

/// A point in time by which a call must finish (monotonic clock).
public struct Deadline: Hashable, Sendable, Comparable {
    /// Uptime nanoseconds at which the deadline passes.
    public let uptimeNanoseconds: UInt64

    /// A deadline `nanoseconds` from now.
    public static func after(nanoseconds: Int64) -> Deadline {
        let now = NIODeadline.now().uptimeNanoseconds
        let add = UInt64(max(nanoseconds, 0))
        return Deadline(uptimeNanoseconds: now > UInt64.max - add ? UInt64.max : now + add)
    }

    /// A deadline `seconds` from now.
    public static func after(seconds: Double) -> Deadline { after(nanoseconds: Int64(seconds * 1e9)) }

    /// Nanoseconds left, zero when passed.
    public var remainingNanoseconds: Int64 {
        let now = NIODeadline.now().uptimeNanoseconds
        return uptimeNanoseconds > now ? Int64(clamping: uptimeNanoseconds - now) : 0
    }

    /// Whether the deadline has passed.
    public var hasPassed: Bool { remainingNanoseconds == 0 }

    var nio: NIODeadline { .uptimeNanoseconds(uptimeNanoseconds) }

    public static func < (a: Deadline, b: Deadline) -> Bool { a.uptimeNanoseconds < b.uptimeNanoseconds }
}

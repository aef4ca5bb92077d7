/// When wrong passwords lock a username: after ``threshold`` in a row the username is locked for
/// ``base`` seconds, doubling with each further wrong password up to ``longest``; a right password
/// clears the count, and a count untouched for ``forgetAfter`` starts again. Kept by username,
/// not account, so a username that does not exist locks the same way (a lock tells nobody which
/// usernames are real). Pure: the store keeps the state, this says what it becomes.
public struct LoginLock: Sendable, Equatable {
    /// Wrong passwords in a row for one username.
    public var failures: Int64 = 0
    /// When the last one was (ms since 1970).
    public var lastMs: Int64 = 0
    /// Until when logins are refused without checking the password (ms since 1970).
    public var lockedUntilMs: Int64 = 0

    public init(failures: Int64 = 0, lastMs: Int64 = 0, lockedUntilMs: Int64 = 0) {
        self.failures = failures
        self.lastMs = lastMs
        self.lockedUntilMs = lockedUntilMs
    }

    public static let threshold: Int64 = 5
    public static let base: Int64 = 30_000
    public static let longest: Int64 = 15 * 60_000
    public static let forgetAfter: Int64 = 60 * 60_000

    /// Milliseconds left of a lock at `now`; nil when a login may be tried.
    public func remaining(now: Int64) -> Int64? {
        lockedUntilMs > now ? lockedUntilMs - now : nil
    }

    /// The state after a wrong password at `now`.
    public func failed(now: Int64) -> LoginLock {
        var next = self
        if now - lastMs > Self.forgetAfter { next.failures = 0 }
        next.failures += 1
        next.lastMs = now
        if next.failures >= Self.threshold {
            let doublings = min(next.failures - Self.threshold, 20)
            next.lockedUntilMs = now + min(Self.base << doublings, Self.longest)
        }
        return next
    }

    /// What a refused caller reads.
    public static func message(remainingMs: Int64, failures: Int64) -> String {
        "this username is locked for \((remainingMs + 999) / 1000) s after \(failures) wrong passwords in a row; try again later"
    }
}

import Foundation

/// One line on standard error for what an operator must see about credentials (a locked
/// username, an address refused for guessing): `2026-12-08T00:41:07Z security: …`. Until the
/// processes have structured logs this is their only trail of such events.
public enum SecurityLog {
    public static func warning(_ message: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        FileHandle.standardError.write(Data("\(stamp) security: \(message)\n".utf8))
    }
}

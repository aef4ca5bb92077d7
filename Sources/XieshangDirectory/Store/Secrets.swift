import CSodium
#if canImport(Glibc)
import Glibc
#endif
import NIOPosix

/// Password hashing (Argon2id through libsodium's `crypto_pwhash_str`, memory-hard) on its own
/// threads, and API token secrets (random, stored as a BLAKE2b hash).
public final class Secrets: Sendable {
    private let threads: NIOThreadPool
    private let opsLimit: UInt64
    private let memLimit: Int

    /// How hard password hashing is.
    public enum Strength: Sendable {
        /// libsodium's interactive limits (64 MiB, 2 passes): logins.
        case interactive
        /// The minimum (for tests and demo data only).
        case minimal
    }

    /// A hasher using `threads` threads.
    public init(strength: Strength = .interactive, threads: Int = 2) {
        precondition(sodium_init() >= 0, "libsodium failed to initialise")
        switch strength {
        case .interactive:
            opsLimit = UInt64(crypto_pwhash_opslimit_interactive())
            memLimit = crypto_pwhash_memlimit_interactive()
        case .minimal:
            opsLimit = UInt64(crypto_pwhash_opslimit_min())
            memLimit = crypto_pwhash_memlimit_min()
        }
        self.threads = NIOThreadPool(numberOfThreads: threads)
        self.threads.start()
    }

    /// The encoded Argon2id hash of `password` (algorithm, parameters and salt included).
    public func hash(password: String) async throws -> String {
        let ops = opsLimit, mem = memLimit
        return try await threads.runIfActive { try Self.hashNow(password, ops: ops, mem: mem) }
    }

    private static func hashNow(_ password: String, ops: UInt64, mem: Int) throws -> String {
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        let rc = password.withCString { crypto_pwhash_str(&out, $0, UInt64(strlen($0)), ops, mem) }
        guard rc == 0 else { throw SecretsError.outOfMemory }
        return String(cString: out)
    }

    /// Whether `password` matches `hash`. An empty hash (no password set) is checked against a
    /// throwaway hash so that the answer takes as long either way.
    public func verify(password: String, hash: String) async throws -> Bool {
        let dummy = Self.dummy
        return try await threads.runIfActive {
            let h = hash.isEmpty ? dummy : hash
            let ok = password.withCString { crypto_pwhash_str_verify(h, $0, UInt64(strlen($0))) == 0 }
            return ok && !hash.isEmpty
        }
    }

    private static let dummy: String = {
        _ = sodium_init()
        return (try? hashNow("not a password", ops: UInt64(crypto_pwhash_opslimit_interactive()),
                             mem: crypto_pwhash_memlimit_interactive())) ?? ""
    }()

    /// A new API token secret: `xst_` and 43 URL-safe base64 characters (256 random bits).
    public static func newTokenSecret() -> String {
        var raw = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&raw, raw.count)
        var out = [CChar](repeating: 0, count: 64)
        _ = sodium_bin2base64(&out, out.count, raw, raw.count, sodium_base64_VARIANT_URLSAFE_NO_PADDING)
        return "xst_" + String(cString: out)
    }

    /// The stored form of a token secret: BLAKE2b-256, hex. (Secrets are random, so a fast hash is
    /// enough; the point is that a copy of the database yields no usable token.)
    public static func tokenHash(_ secret: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let bytes = Array(secret.utf8)
        _ = crypto_generichash(&digest, digest.count, bytes, UInt64(bytes.count), nil, 0)
        var hex = [CChar](repeating: 0, count: 65)
        _ = sodium_bin2hex(&hex, hex.count, digest, digest.count)
        return String(cString: hex)
    }

    /// Stops the hashing threads.
    public func shutdown() async {
        try? await threads.shutdownGracefully()
    }
}

/// Hashing failed (libsodium could not get the memory).
public enum SecretsError: Error { case outOfMemory }

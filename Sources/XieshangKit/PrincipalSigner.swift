import CSodium
import NIOConcurrencyHelpers
import XieshangAPI
import XieshangRPC

/// Signs and checks forwarded principals. The gateway signs each principal it forwards with
/// HMAC-SHA-256 under a secret it shares with the services; a service refuses a call whose
/// principal is missing or wrongly signed, so nobody who can reach a service's port can claim to
/// be someone by writing the metadata by hand.
public struct PrincipalSigner: Sendable {
    /// The metadata key carrying the signature of the principal entry's bytes.
    public static let signatureKey = "x-xieshang-signature-bin"

    private let key: [UInt8]

    /// A signer for `secret` (at least 16 bytes; the key is its SHA-256).
    public init(secret: String) throws {
        guard secret.utf8.count >= 16 else {
            throw DomainError.invalid(field: "principal secret", message: "needs at least 16 characters")
        }
        _ = sodium_init()
        var k = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        let bytes = Array(secret.utf8)
        crypto_hash_sha256(&k, bytes, UInt64(bytes.count))
        key = k
    }

    /// The signature of `principal` (its serialized bytes).
    public func signature(of principal: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        crypto_auth_hmacsha256(&out, principal, UInt64(principal.count), key)
        return out
    }

    /// Whether `signature` is the signature of `principal` (compared in constant time).
    public func isValid(_ signature: [UInt8], of principal: [UInt8]) -> Bool {
        guard signature.count == Int(crypto_auth_hmacsha256_BYTES) else { return false }
        return crypto_auth_hmacsha256_verify(signature, principal, UInt64(principal.count), key) == 0
    }

    /// Metadata carrying `principal` and its signature.
    public func metadata(for principal: Xieshang_Common_V1_Principal) -> Metadata {
        let bytes = principal.serializedBytes()
        var m = Metadata()
        m.add(Caller.metadataKey, binary: bytes)
        m.add(Self.signatureKey, binary: signature(of: bytes))
        return m
    }

    /// UNAUTHENTICATED when `metadata` carries no principal, or one whose signature is missing or wrong.
    public func check(_ metadata: Metadata) -> RPCError? {
        guard let principal = metadata.binary(Caller.metadataKey) else {
            return RPCError(.unauthenticated, "no principal: call through the gateway")
        }
        guard let signature = metadata.binary(Self.signatureKey) else {
            return RPCError(.unauthenticated, "the principal is not signed: call through the gateway")
        }
        guard isValid(signature, of: principal) else {
            return RPCError(.unauthenticated, "the principal's signature is wrong (is XIESHANG_PRINCIPAL_SECRET the gateway's?)")
        }
        return nil
    }

    /// A server call filter that checks every call except those to `open` services (health, reflection).
    public func callFilter(open: Set<String>) -> @Sendable (String, Metadata) -> RPCError? {
        { path, metadata in
            let service = path.split(separator: "/").first.map(String.init) ?? ""
            return open.contains(service) ? nil : self.check(metadata)
        }
    }

    private static let installed = NIOLockedValueBox<PrincipalSigner?>(nil)

    /// The signer of this process, installed once at start-up from its configuration; client
    /// calls made with ``Caller/metadata(for:)`` and ``Caller/system(_:committee:)`` are signed with it.
    public static var process: PrincipalSigner? {
        get { installed.withLockedValue { $0 } }
        set { installed.withLockedValue { $0 = newValue } }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// A block of addresses (`10.0.0.0/8`, `::1/128`, or one address), for the proxies whose
/// `X-Forwarded-For` a server believes.
public struct IPRange: Sendable, Equatable, CustomStringConvertible {
    /// 16 bytes; IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so one comparison serves both.
    let base: [UInt8]
    let prefix: Int
    public let description: String

    /// Parses `address[/bits]`; nil when it is not one.
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: " \t")
        let parts = t.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let addr = IPRange.bytes(String(parts[0])) else { return nil }
        let v4 = IPRange.isMappedV4(addr) && !parts[0].contains(":")
        let maxBits = v4 ? 32 : 128
        var bits = maxBits
        if parts.count == 2 {
            guard let b = Int(parts[1]), (0...maxBits).contains(b) else { return nil }
            bits = b
        }
        prefix = v4 ? bits + 96 : bits
        base = addr
        description = t
    }

    /// Whether `address` (text, IPv4 or IPv6) lies in this block.
    public func contains(_ address: String) -> Bool {
        guard let a = IPRange.bytes(address) else { return false }
        return contains(bytes: a)
    }

    func contains(bytes a: [UInt8]) -> Bool {
        var left = prefix
        for i in 0..<16 where left > 0 {
            let take = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if a[i] & mask != base[i] & mask { return false }
            left -= take
        }
        return true
    }

    /// Parses a list separated by commas (`XIESHANG_TRUSTED_PROXIES`); throws naming the bad entry.
    public static func parseList(_ text: String) throws -> [IPRange] {
        var out: [IPRange] = []
        for part in text.split(separator: ",") where !String(part).trimmingCharacters(in: " \t").isEmpty {
            guard let r = IPRange(String(part)) else { throw RPCError(.invalidArgument, "'\(part)' is not an address or a CIDR block") }
            out.append(r)
        }
        return out
    }

    /// The 16 bytes of an IPv4 or IPv6 address in text, brackets allowed.
    static func bytes(_ raw: String) -> [UInt8]? {
        var s = raw.trimmingCharacters(in: " \t")
        if s.hasPrefix("["), s.hasSuffix("]") { s = String(s.dropFirst().dropLast()) }
        if let pct = s.firstIndex(of: "%") { s = String(s[..<pct]) }  // zone index
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 {
            return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + withUnsafeBytes(of: &v4) { Array($0) }
        }
        return nil
    }

    static func isMappedV4(_ a: [UInt8]) -> Bool {
        a[0..<10].allSatisfy { $0 == 0 } && a[10] == 0xFF && a[11] == 0xFF
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

/// Who a call comes from: the socket's peer, or — when that peer is a trusted proxy — the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
enum ClientAddress {
    /// The peer in gRPC's spelling (`ipv4:127.0.0.1:50412`, `ipv6:[::1]:50412`).
    static func peer(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress else { return "unknown" }
        switch address {
        case .v6: return "ipv6:[\(ip)]:\(address.port ?? 0)"
        default: return "ipv4:\(ip):\(address.port ?? 0)"
        }
    }

    /// The socket peer's IP (formatted once per connection: it is a string conversion).
    static func ip(_ socket: SocketAddress?) -> String {
        socket?.ipAddress ?? "unknown"
    }

    /// The client's address for a socket peer (see ``resolve(direct:forwardedFor:trusted:)``).
    static func resolve(socket: SocketAddress?, forwardedFor: [String], trusted: [IPRange]) -> String {
        resolve(direct: ip(socket), forwardedFor: forwardedFor, trusted: trusted)
    }

    /// The client's address: the peer's IP `direct`, or from `forwardedFor` (the
    /// `X-Forwarded-For` values, in order) when the peer is in `trusted`.
    static func resolve(direct: String, forwardedFor: [String], trusted: [IPRange]) -> String {
        guard !trusted.isEmpty, !forwardedFor.isEmpty, isTrusted(direct, trusted) else { return direct }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { String($0).trimmingCharacters(in: " \t") }
        // Right to left: each trusted proxy appended the address it saw; the first one no trusted
        // proxy vouches for is the client (a client can put anything to the left of it).
        for hop in hops.reversed() {
            guard IPRange.bytes(hop) != nil else { return direct }
            if !isTrusted(hop, trusted) { return hop }
        }
        return hops.first ?? direct
    }

    private static func isTrusted(_ address: String, _ trusted: [IPRange]) -> Bool {
        guard let b = IPRange.bytes(address) else { return false }
        return trusted.contains { $0.contains(bytes: b) }
    }
}

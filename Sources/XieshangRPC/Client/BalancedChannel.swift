#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore

/// A pooled client for a service with any number of replicas: every `host:port` it is given is
/// resolved to all of its addresses (a DNS name with one record per replica, as container
/// orchestrators publish them), each address gets its own ``RPCChannel``, and calls go round
/// robin over the addresses that are reachable. An address whose connect fails is skipped until
/// its reconnect delay ends, so a dead replica costs one refused connect, not every call; when all
/// are down a call fails with UNAVAILABLE within its deadline; a replica that comes back is used
/// again without anyone doing anything. Names are resolved again every ``refreshInterval``.
public final class BalancedChannel: ClientTransport {
    /// The `host:port` targets as given.
    public let targets: [(host: String, port: Int)]
    /// Settings of each address's channel.
    public let configuration: ChannelConfiguration
    /// Seconds between resolutions of the targets' names.
    public let refreshInterval: Double

    private struct State {
        var channels: [String: RPCChannel] = [:]
        var order: [String] = []
        var next = 0
        var resolvedAt: NIODeadline = .distantPast
        var refreshing = false
        var closed = false
    }
    private let state = NIOLockedValueBox(State())

    /// A channel over `targets`; names are resolved on first use.
    public init(targets: [(host: String, port: Int)], configuration: ChannelConfiguration = .init(), refreshInterval: Double = 5) {
        precondition(!targets.isEmpty, "a balanced channel needs a target")
        self.targets = targets
        self.configuration = configuration
        self.refreshInterval = refreshInterval
    }

    /// Parses `host:port[,host:port…]`; nil when any part is not `host:port` with a valid port.
    public static func parseTargets(_ spec: String) -> [(host: String, port: Int)]? {
        var out: [(host: String, port: Int)] = []
        for part in spec.split(separator: ",").map({ $0.filter { $0 != " " } }) where !part.isEmpty {
            guard let colon = part.lastIndex(of: ":"), colon != part.startIndex,
                  let port = Int(part[part.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            var host = String(part[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            out.append((host, port))
        }
        return out.isEmpty ? nil : out
    }

    /// The addresses calls currently go to, as `ip:port`.
    public var addresses: [String] { state.withLockedValue { $0.order } }

    /// Closes every address's channel.
    public func close() async {
        let channels = state.withLockedValue { s -> [RPCChannel] in
            s.closed = true
            defer { s.channels = [:]; s.order = [] }
            return Array(s.channels.values)
        }
        for c in channels { await c.close() }
    }

    // MARK: picking

    private func refreshIfStale() {
        let (due, first) = state.withLockedValue { s -> (Bool, Bool) in
            guard !s.closed, !s.refreshing, s.resolvedAt + .milliseconds(Int64(refreshInterval * 1000)) <= .now() else { return (false, false) }
            s.refreshing = true
            return (true, s.order.isEmpty)
        }
        guard due else { return }
        if first {
            apply(resolveAll())
        } else {
            // Later resolutions happen off the caller's path; calls go on with what is known.
            Task.detached { [self] in self.apply(self.resolveAll()) }
        }
    }

    private func apply(_ resolved: [(key: String, host: String, port: Int)]) {
        let dropped: [RPCChannel] = state.withLockedValue { s in
            s.refreshing = false
            s.resolvedAt = .now()
            guard !s.closed else { return [] }
            var keep: [String: RPCChannel] = [:]
            for r in resolved {
                keep[r.key] = s.channels[r.key] ?? RPCChannel(host: r.host, port: r.port, configuration: configuration)
            }
            let gone = s.channels.filter { keep[$0.key] == nil }.map(\.value)
            s.channels = keep
            s.order = resolved.map(\.key)
            return gone
        }
        for c in dropped { Task { await c.close() } }
    }

    /// Every target's addresses; a name that does not resolve is kept as it is (its channel
    /// reports the failure when called).
    private func resolveAll() -> [(key: String, host: String, port: Int)] {
        var out: [(key: String, host: String, port: Int)] = []
        var seen = Set<String>()
        for t in targets {
            let ips = Self.resolve(t.host)
            for ip in ips.isEmpty ? [t.host] : ips {
                let key = ip.contains(":") ? "[\(ip)]:\(t.port)" : "\(ip):\(t.port)"
                if seen.insert(key).inserted { out.append((key, ip, t.port)) }
            }
        }
        return out
    }

    /// The numeric addresses `host` resolves to, in the resolver's order.
    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var out: [String] = []
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(ai.pointee.ai_addr, ai.pointee.ai_addrlen, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 {
                let s = String(cString: buf)
                if !out.contains(s) { out.append(s) }
            }
            p = ai.pointee.ai_next
        }
        return out
    }

    /// The next reachable address not in `skip`, round robin; when none is reachable, the one
    /// whose reconnect delay ends first (its call then fails fast with UNAVAILABLE).
    private func pick(skipping skip: Set<String>) -> (String, RPCChannel)? {
        refreshIfStale()
        return state.withLockedValue { s in
            let candidates = s.order.filter { !skip.contains($0) }
            guard !candidates.isEmpty else { return nil }
            for i in 0..<candidates.count {
                let key = candidates[(s.next + i) % candidates.count]
                if let c = s.channels[key], c.isReachable {
                    s.next = (s.next + i + 1) % max(candidates.count, 1)
                    return (key, c)
                }
            }
            let soonest = candidates.min { (s.channels[$0]?.retryAt ?? .distantPast) < (s.channels[$1]?.retryAt ?? .distantPast) }!
            return (soonest, s.channels[soonest]!)
        }
    }

    /// Runs `body` on a connection of a reachable replica: addresses whose connect fails are
    /// skipped (nothing was sent to them, so trying the next one is safe for any call);
    /// UNAVAILABLE when none connects.
    private func withReplica<T>(deadline: Deadline?, _ body: (RPCChannel, ClientConnection) async throws -> T) async throws -> T {
        var tried = Set<String>()
        var lastError = RPCError(.unavailable, "no address for \(targetsDescription)")
        while let (key, channel) = pick(skipping: tried) {
            let conn: ClientConnection
            do {
                conn = try await channel.acquire(deadline: deadline)
            } catch let e as RPCError where e.code == .unavailable {
                tried.insert(key)
                lastError = e
                continue
            }
            defer { channel.release(conn) }
            return try await body(channel, conn)
        }
        throw RPCError(.unavailable, "\(targetsDescription): no replica reachable (\(lastError.message))")
    }

    private var targetsDescription: String { targets.map { "\($0.host):\($0.port)" }.joined(separator: ",") }

    // MARK: calls

    public func unary<Req, Resp>(_ method: MethodDescriptor<Req, Resp>, _ request: Req, options: CallOptions = .init()) async throws -> ClientResponse<Resp> {
        try await withReplica(deadline: options.effectiveDeadline) { try await $0.unary(method, request, options: options, on: $1) }
    }

    public func serverStreaming<Req, Resp>(_ method: MethodDescriptor<Req, Resp>, _ request: Req, options: CallOptions = .init()) -> ClientCall<Req, Resp> {
        streamingChannel().serverStreaming(method, request, options: options)
    }

    public func makeCall<Req, Resp>(_ method: MethodDescriptor<Req, Resp>, options: CallOptions = .init()) -> ClientCall<Req, Resp> {
        streamingChannel().makeCall(method, options: options)
    }

    /// Streams start synchronously, so they take the next reachable address without a trial connect.
    private func streamingChannel() -> RPCChannel {
        if let (_, c) = pick(skipping: []) { return c }
        // Closed: a channel that fails every call.
        let c = RPCChannel(host: targets[0].host, port: targets[0].port, configuration: configuration)
        Task { await c.close() }
        return c
    }
}

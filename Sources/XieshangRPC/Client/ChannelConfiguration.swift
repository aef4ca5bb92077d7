import NIOPosix

/// Settings of an ``RPCChannel``.
public struct ChannelConfiguration: Sendable {
    /// Largest response message accepted (bytes).
    public var maxReceiveMessageSize: Int = 4 << 20
    /// Connections kept per address; calls go to the least busy one.
    public var connectionsPerAddress: Int = 1
    /// Seconds to wait for a TCP connection.
    public var connectTimeout: Double = 5
    /// First reconnect delay after a failure (seconds); grows by 1.6 up to ``maxBackoff``.
    public var initialBackoff: Double = 0.2
    /// Longest reconnect delay (seconds).
    public var maxBackoff: Double = 30
    /// Seconds between keepalive pings; nil turns them off.
    public var keepaliveInterval: Double? = nil
    /// Seconds to wait for a ping acknowledgement.
    public var keepaliveTimeout: Double = 20
    /// Ping even when no call is open.
    public var keepaliveWithoutCalls: Bool = false
    /// TLS for the connections (ALPN `h2`); nil is plaintext with prior knowledge.
    public var tls: ClientTLS? = nil
    /// Event-loop threads for this channel's connections.
    public var threads: Int = 1
    /// Event loops to run the connections on instead of the channel's own (``threads`` is then
    /// unused; the channel does not shut them down). A call made on one of these loops goes on a
    /// connection of that same loop, made when first needed: a proxy whose server shares the
    /// loops (the gateway) forwards without a thread hop each way.
    public var sharedLoops: MultiThreadedEventLoopGroup? = nil

    /// The defaults.
    public init() {}
}

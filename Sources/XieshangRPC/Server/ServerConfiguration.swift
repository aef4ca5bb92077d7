/// Settings of an ``RPCServer``; defaults follow gRPC's.
public struct ServerConfiguration: Sendable {
    /// Address to bind.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free one.
    public var port: Int = 0
    /// Largest request message accepted (bytes); larger ones end the call with RESOURCE_EXHAUSTED.
    public var maxReceiveMessageSize: Int = 4 << 20
    /// Request bytes one connection may hold for its handlers (partial messages and messages not yet
    /// read); a stream that pushes past it ends with RESOURCE_EXHAUSTED.
    public var maxConnectionBuffer: Int = 64 << 20
    /// Largest header block accepted (bytes).
    public var maxHeaderListSize: Int = 16 << 10
    /// Concurrent streams a client may open per connection.
    public var maxConcurrentStreams: Int = 1000
    /// Seconds between keepalive pings on an idle connection; nil turns pings off.
    public var keepaliveInterval: Double? = 7200
    /// Seconds to wait for a ping's acknowledgement before closing the connection.
    public var keepaliveTimeout: Double = 20
    /// Seconds in-flight calls get to finish after a graceful shutdown starts.
    public var drainLimit: Double = 10
    /// Event-loop threads; nil = one per core.
    public var threads: Int? = nil
    /// Run handlers on the connection's event loop (fastest; handlers must not block).
    /// When false they run on Swift's global executor.
    public var handlersOnEventLoop: Bool = true
    /// Checked before a call reaches its handler, with the call's path and request metadata: a
    /// returned error ends the call with that status (e.g. a principal whose signature is wrong).
    public var callFilter: (@Sendable (_ path: String, _ metadata: Metadata) -> RPCError?)? = nil

    /// gRPC-Web and Connect (over HTTP/2, and HTTP/1.1 on the same port), CORS and JSON; nil
    /// serves native gRPC over HTTP/2 only (what services behind the gateway need).
    public var web: WebConfiguration? = nil
    /// TLS on the port (ALPN `h2`, and `http/1.1` with ``web``); nil is plaintext.
    public var tls: ServerTLS? = nil
    /// Proxies whose `X-Forwarded-For` names the client (``ServerContext/clientAddress``); empty
    /// believes no one.
    public var trustedProxies: [IPRange] = []

    /// The defaults.
    public init() {}
}

import NIOConcurrencyHelpers

/// What a handler knows about its call, and where it sets response metadata.
public final class ServerContext: Sendable {
    /// The `:path`, `/service/method`.
    public let path: String
    /// Request metadata (custom headers, `-bin` decoded).
    public let metadata: Metadata
    /// When the caller stops waiting (from `grpc-timeout`); passed on by client calls made inside the handler.
    public let deadline: Deadline?
    /// The peer's address, e.g. `ipv4:127.0.0.1:50412`.
    public let peer: String
    /// The client's IP address: the peer's, or the one a trusted proxy forwarded
    /// (``ServerConfiguration/trustedProxies``). What rate limits and audit lines should use.
    public let clientAddress: String
    private let response = NIOLockedValueBox((initial: Metadata(), trailing: Metadata()))

    /// The context of the server call the current task serves, if any.
    @TaskLocal public static var current: ServerContext?

    init(path: String, metadata: Metadata, deadline: Deadline?, peer: String, clientAddress: String) {
        self.path = path
        self.metadata = metadata
        self.deadline = deadline
        self.peer = peer
        self.clientAddress = clientAddress
    }

    /// Metadata sent with the response headers; set it before the first response message.
    public var initialMetadata: Metadata {
        get { response.withLockedValue { $0.initial } }
        set { response.withLockedValue { $0.initial = newValue } }
    }

    /// Metadata sent with the status at the end of the call.
    public var trailingMetadata: Metadata {
        get { response.withLockedValue { $0.trailing } }
        set { response.withLockedValue { $0.trailing = newValue } }
    }
}

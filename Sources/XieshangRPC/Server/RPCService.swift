/// A service a server can host: the routes it answers (generated providers supply them).
public protocol RPCService: Sendable {
    /// One handler per method.
    var methodHandlers: [MethodHandler] { get }
}

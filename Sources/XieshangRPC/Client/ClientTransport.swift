/// What generated client stubs call through: one channel to one address (``RPCChannel``) or a
/// balanced set of them (``BalancedChannel``).
public protocol ClientTransport: Sendable {
    /// A unary call, with the response's metadata.
    func unary<Req, Resp>(_ method: MethodDescriptor<Req, Resp>, _ request: Req, options: CallOptions) async throws -> ClientResponse<Resp>
    /// A server-streaming call: the request is sent at once; read responses from the call.
    func serverStreaming<Req, Resp>(_ method: MethodDescriptor<Req, Resp>, _ request: Req, options: CallOptions) -> ClientCall<Req, Resp>
    /// A client- or bidirectional-streaming call.
    func makeCall<Req, Resp>(_ method: MethodDescriptor<Req, Resp>, options: CallOptions) -> ClientCall<Req, Resp>
}

extension RPCChannel: ClientTransport {}

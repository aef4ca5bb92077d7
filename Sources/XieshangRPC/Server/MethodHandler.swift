/// One route of a server: a method path and how to run a call to it.
public struct MethodHandler: Sendable {
    /// The `:path` served.
    public let path: String
    let kind: MethodKind
    let run: @Sendable (ServerCall) async -> Void

    /// A unary method.
    public init<Req, Resp>(
        unary d: MethodDescriptor<Req, Resp>,
        _ body: @escaping @Sendable (Req, ServerContext) async throws -> Resp
    ) {
        path = d.path
        kind = .unary
        run = { call in
            do {
                let req = try call.takeSingleRequest(Req.self)
                let resp = try await body(req, call.context)
                call.finish(message: MessageFramer.frame(resp), error: nil)
            } catch {
                call.finish(message: nil, error: RPCError.from(error))
            }
        }
    }

    /// A server-streaming method.
    public init<Req, Resp>(
        serverStreaming d: MethodDescriptor<Req, Resp>,
        _ body: @escaping @Sendable (Req, ResponseWriter<Resp>, ServerContext) async throws -> Void
    ) {
        path = d.path
        kind = .serverStreaming
        run = { call in
            do {
                let req = try call.takeSingleRequest(Req.self)
                try await body(req, ResponseWriter(call: call), call.context)
                call.finish(message: nil, error: nil)
            } catch {
                call.finish(message: nil, error: RPCError.from(error))
            }
        }
    }

    /// A client-streaming method.
    public init<Req, Resp>(
        clientStreaming d: MethodDescriptor<Req, Resp>,
        _ body: @escaping @Sendable (RequestStream<Req>, ServerContext) async throws -> Resp
    ) {
        path = d.path
        kind = .clientStreaming
        run = { call in
            do {
                let resp = try await body(RequestStream(call: call), call.context)
                call.finish(message: MessageFramer.frame(resp), error: nil)
            } catch {
                call.finish(message: nil, error: RPCError.from(error))
            }
        }
    }

    /// A bidirectional-streaming method.
    public init<Req, Resp>(
        bidirectionalStreaming d: MethodDescriptor<Req, Resp>,
        _ body: @escaping @Sendable (RequestStream<Req>, ResponseWriter<Resp>, ServerContext) async throws -> Void
    ) {
        path = d.path
        kind = .bidirectionalStreaming
        run = { call in
            do {
                try await body(RequestStream(call: call), ResponseWriter(call: call), call.context)
                call.finish(message: nil, error: nil)
            } catch {
                call.finish(message: nil, error: RPCError.from(error))
            }
        }
    }

    /// Whether the method takes exactly one request (unary or server-streaming).
    var takesSingleRequest: Bool { kind == .unary || kind == .serverStreaming }
}

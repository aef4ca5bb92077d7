import XieshangAPI
import XieshangRPC

/// Serves every method of the services behind the gateway under its own path, passing the
/// request and response bytes through undecoded: one set of typed stubs (generated from protos/)
/// serves integrators whether they call the gateway or, inside the system, a service.
public struct Forwarder: RPCService {
    /// Service name → the pooled client its calls go to.
    public let routes: [String: any ClientTransport]
    public let gate: Gate
    public let pool: DescriptorPool

    public init(routes: [String: any ClientTransport], gate: Gate, pool: DescriptorPool = .shared) {
        self.routes = routes
        self.gate = gate
        self.pool = pool
    }

    public var methodHandlers: [MethodHandler] {
        var out: [MethodHandler] = []
        for (service, transport) in routes.sorted(by: { $0.key < $1.key }) {
            for m in pool.services[service] ?? [] {
                out.append(handler(m, transport))
            }
        }
        return out
    }

    private func handler(_ m: DescriptorPool.Method, _ transport: any ClientTransport) -> MethodHandler {
        let d = MethodDescriptor<RawMessage, RawMessage>(service: m.service, method: m.name, kind: m.kind)
        let gate = self.gate
        switch m.kind {
        case .unary:
            return MethodHandler(unary: d) { request, context in
                let (_, options) = try await gate.admit(context)
                let r = try await transport.unary(d, request, options: options)
                context.initialMetadata = r.initialMetadata
                context.trailingMetadata = r.trailingMetadata
                return r.message
            }
        case .serverStreaming:
            return MethodHandler(serverStreaming: d) { request, writer, context in
                let (_, options) = try await gate.admit(context)
                let call = transport.serverStreaming(d, request, options: options)
                try await Self.pipe(call, to: writer, context: context)
            }
        case .clientStreaming, .bidirectionalStreaming:
            return MethodHandler(bidirectionalStreaming: d) { requests, writer, context in
                let (_, options) = try await gate.admit(context)
                let call = transport.makeCall(d, options: options)
                let upstream = Task {
                    for try await r in requests { try await call.send(r) }
                    try await call.closeSend()
                }
                defer { upstream.cancel() }
                try await Self.pipe(call, to: writer, context: context)
            }
        }
    }

    /// Sends each response of `call` on; the call's status becomes this call's.
    private static func pipe(_ call: ClientCall<RawMessage, RawMessage>, to writer: ResponseWriter<RawMessage>, context: ServerContext) async throws {
        var first = true
        for try await r in call.responses {
            if first {
                context.initialMetadata = (try? await call.initialMetadata) ?? Metadata()
                first = false
            }
            try await writer.send(r)
        }
        context.trailingMetadata = await call.trailingMetadata
    }
}

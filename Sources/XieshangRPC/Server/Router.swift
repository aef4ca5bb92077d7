/// Method paths to handlers, fixed when the server starts.
struct Router: Sendable {
    private let handlers: [String: MethodHandler]
    private let services: Set<String>

    init(services: [RPCService]) {
        var h: [String: MethodHandler] = [:]
        var names = Set<String>()
        for s in services {
            for m in s.methodHandlers {
                h[m.path] = m
                if let name = m.path.split(separator: "/").first { names.insert(String(name)) }
            }
        }
        handlers = h
        self.services = names
    }

    func hasService(_ name: String) -> Bool { services.contains(name) }

    /// The handler of `path` for a call in `dialect`; UNIMPLEMENTED when the method, or its whole
    /// service, is not served, or when a streaming method is called as Connect unary.
    func handler(for path: String, dialect: WebDialect) -> Result<MethodHandler, RPCError> {
        guard let h = handlers[path] else {
            let parts = path.split(separator: "/")
            return .failure(RPCError(.unimplemented, parts.count == 2 && hasService(String(parts[0]))
                ? "method \(parts[1]) is not implemented by \(parts[0])"
                : "service \(parts.first.map(String.init) ?? path) is not implemented"))
        }
        if case .connectUnary = dialect, h.kind != .unary {
            return .failure(RPCError(.unimplemented, "\(path) is a streaming method: call it with application/connect+json or gRPC-Web"))
        }
        return .success(h)
    }

    /// Every served service name.
    var serviceNames: [String] { services.sorted() }
}

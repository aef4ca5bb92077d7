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

    func handler(for path: String) -> MethodHandler? { handlers[path] }
    func hasService(_ name: String) -> Bool { services.contains(name) }

    /// Why `path` has no handler: its method, or its whole service, is not served.
    func missing(_ path: String) -> String {
        let parts = path.split(separator: "/")
        return parts.count == 2 && hasService(String(parts[0]))
            ? "method \(parts[1]) is not implemented by \(parts[0])"
            : "service \(parts.first.map(String.init) ?? path) is not implemented"
    }

    /// Every served service name.
    var serviceNames: [String] { services.sorted() }
}

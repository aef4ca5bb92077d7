import XieshangRPC

/// The answers of server reflection, independent of the protocol's two packages (v1 and
/// v1alpha share one shape): files by name or by a symbol they define, and the services served.
public struct ReflectionIndex: Sendable {
    /// What a reflection request gets back.
    public enum Answer: Equatable, Sendable {
        /// Serialized FileDescriptorProtos: the file asked for first, then its imports.
        case files([[UInt8]])
        case services([String])
        case extensionNumbers(type: String, numbers: [Int32])
        case error(StatusCode, String)
    }

    /// What a reflection request asks.
    public enum Question: Sendable {
        case fileByName(String)
        case fileContainingSymbol(String)
        case fileContainingExtension(type: String, number: Int32)
        case extensionNumbers(ofType: String)
        case listServices
        case none
    }

    public let pool: DescriptorPool
    /// The services this server answers, sorted.
    public let services: [String]

    public init(pool: DescriptorPool = .shared, services: [String]) {
        self.pool = pool
        self.services = services.sorted()
    }

    public func answer(_ q: Question) -> Answer {
        switch q {
        case .listServices:
            return .services(services)
        case .fileByName(let name):
            guard pool.files[name] != nil else { return .error(.notFound, "file \(name) not found") }
            return .files(pool.fileWithDependencies(name).map(\.descriptor))
        case .fileContainingSymbol(let raw):
            let symbol = raw.hasPrefix(".") ? String(raw.dropFirst()) : raw
            guard let file = pool.symbols[symbol] else { return .error(.notFound, "symbol \(symbol) not found") }
            return .files(pool.fileWithDependencies(file).map(\.descriptor))
        case .fileContainingExtension(let type, let number):
            // protos/ declares no extensions.
            return .error(.notFound, "extension \(number) of \(type) not found")
        case .extensionNumbers(let type):
            guard pool.messages[type] != nil else { return .error(.notFound, "type \(type) not found") }
            return .extensionNumbers(type: type, numbers: [])
        case .none:
            return .error(.invalidArgument, "the request names no question")
        }
    }
}

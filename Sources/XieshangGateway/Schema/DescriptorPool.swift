import XieshangAPI
import XieshangRPC

/// The schema of every .proto under protos/, read from the generated ``ProtoDescriptorSet``:
/// services and their methods, messages and their fields, enums, and which file defines each
/// symbol. Server reflection answers from it; the gateway routes every service method by it;
/// `xieshang call` converts JSON with it.
public struct DescriptorPool: Sendable {
    /// A method of a service.
    public struct Method: Sendable {
        public let service: String
        public let name: String
        public let input: String
        public let output: String
        public let clientStreaming: Bool
        public let serverStreaming: Bool
        /// `/package.Service/Method`.
        public var path: String { "/\(service)/\(name)" }
        /// The call shape.
        public var kind: MethodKind {
            switch (clientStreaming, serverStreaming) {
            case (false, false): return .unary
            case (false, true): return .serverStreaming
            case (true, false): return .clientStreaming
            case (true, true): return .bidirectionalStreaming
            }
        }
    }

    /// A field of a message.
    public struct Field: Sendable {
        public let name: String
        public let jsonName: String
        public let number: Int
        public let repeated: Bool
        /// FieldDescriptorProto.Type: 1 double … 18 sint64.
        public let type: Int
        /// Fully qualified, without the leading dot, for messages and enums.
        public let typeName: String
    }

    /// A message: its fields, and whether it is a map's entry.
    public struct Message: Sendable {
        public let fields: [Field]
        public let isMapEntry: Bool
    }

    /// A .proto file.
    public struct File: Sendable {
        public let name: String
        public let descriptor: [UInt8]
        public let dependencies: [String]
    }

    public private(set) var files: [String: File] = [:]
    /// Symbol (service, method, message, enum, fully qualified) → its file's name.
    public private(set) var symbols: [String: String] = [:]
    /// Service name → its methods, in declaration order.
    public private(set) var services: [String: [Method]] = [:]
    public private(set) var messages: [String: Message] = [:]
    /// Enum name → its values (name, number).
    public private(set) var enums: [String: [(name: String, number: Int32)]] = [:]

    /// The pool of this build's protos.
    public static let shared: DescriptorPool = {
        do {
            return try DescriptorPool(files: ProtoDescriptorSet.files.map { ($0.name, $0.base64) })
        } catch {
            fatalError("the generated descriptor set does not parse: \(error)")
        }
    }()

    /// A pool of base64-encoded FileDescriptorProtos.
    public init(files: [(name: String, base64: String)]) throws {
        for (name, b64) in files {
            guard let bytes = Base64.decode(Array(b64.utf8)) else { throw WireReader.Malformed(description: "\(name): not base64") }
            try add(file: bytes)
        }
    }

    private mutating func add(file bytes: [UInt8]) throws {
        var r = WireReader(bytes)
        var name = "", package = "", deps: [String] = []
        var messageBlobs: [ArraySlice<UInt8>] = [], enumBlobs: [ArraySlice<UInt8>] = [], serviceBlobs: [ArraySlice<UInt8>] = []
        while let (n, v) = try r.next() {
            switch n {
            case 1: name = v.string
            case 2: package = v.string
            case 3: deps.append(v.string)
            case 4: messageBlobs.append(v.slice)
            case 5: enumBlobs.append(v.slice)
            case 6: serviceBlobs.append(v.slice)
            default: break
            }
        }
        files[name] = File(name: name, descriptor: bytes, dependencies: deps)
        let prefix = package.isEmpty ? "" : package + "."
        for m in messageBlobs { try addMessage(m, scope: prefix, file: name) }
        for e in enumBlobs { try addEnum(e, scope: prefix, file: name) }
        for s in serviceBlobs { try addService(s, scope: prefix, file: name) }
    }

    private mutating func addMessage(_ blob: ArraySlice<UInt8>, scope: String, file: String) throws {
        var r = WireReader(blob)
        var name = "", fields: [Field] = [], nested: [ArraySlice<UInt8>] = [], nestedEnums: [ArraySlice<UInt8>] = []
        var mapEntry = false
        while let (n, v) = try r.next() {
            switch n {
            case 1: name = v.string
            case 2: fields.append(try Self.field(v.slice))
            case 3: nested.append(v.slice)
            case 4: nestedEnums.append(v.slice)
            case 7:
                var o = WireReader(v.slice)
                while let (on, ov) = try o.next() {
                    if on == 7 { mapEntry = ov.bool }
                }
            default: break
            }
        }
        let full = scope + name
        symbols[full] = file
        messages[full] = Message(fields: fields, isMapEntry: mapEntry)
        for m in nested { try addMessage(m, scope: full + ".", file: file) }
        for e in nestedEnums { try addEnum(e, scope: full + ".", file: file) }
    }

    private static func field(_ blob: ArraySlice<UInt8>) throws -> Field {
        var r = WireReader(blob)
        var name = "", json = "", number = 0, label = 1, type = 0, typeName = ""
        while let (n, v) = try r.next() {
            switch n {
            case 1: name = v.string
            case 3: number = v.int
            case 4: label = v.int
            case 5: type = v.int
            case 6: typeName = v.string
            case 10: json = v.string
            default: break
            }
        }
        if typeName.hasPrefix(".") { typeName.removeFirst() }
        return Field(name: name, jsonName: json.isEmpty ? lowerCamel(name) : json, number: number,
                     repeated: label == 3, type: type, typeName: typeName)
    }

    private static func lowerCamel(_ s: String) -> String {
        var out = "", upper = false
        for c in s {
            if c == "_" { upper = true; continue }
            out += upper ? c.uppercased() : String(c)
            upper = false
        }
        return out
    }

    private mutating func addEnum(_ blob: ArraySlice<UInt8>, scope: String, file: String) throws {
        var r = WireReader(blob)
        var name = "", values: [(name: String, number: Int32)] = []
        while let (n, v) = try r.next() {
            switch n {
            case 1: name = v.string
            case 2:
                var vr = WireReader(v.slice)
                var vn = "", num: Int32 = 0
                while let (fn, fv) = try vr.next() {
                    if fn == 1 { vn = fv.string }
                    if fn == 2, case .varint(let x) = fv { num = Int32(truncatingIfNeeded: x) }
                }
                values.append((vn, num))
            default: break
            }
        }
        symbols[scope + name] = file
        enums[scope + name] = values
    }

    private mutating func addService(_ blob: ArraySlice<UInt8>, scope: String, file: String) throws {
        var r = WireReader(blob)
        var name = "", methodBlobs: [ArraySlice<UInt8>] = []
        while let (n, v) = try r.next() {
            if n == 1 { name = v.string }
            if n == 2 { methodBlobs.append(v.slice) }
        }
        let full = scope + name
        symbols[full] = file
        var methods: [Method] = []
        for b in methodBlobs {
            var m = WireReader(b)
            var mn = "", input = "", output = "", cs = false, ss = false
            while let (n, v) = try m.next() {
                switch n {
                case 1: mn = v.string
                case 2: input = String(v.string.drop { $0 == "." })
                case 3: output = String(v.string.drop { $0 == "." })
                case 5: cs = v.bool
                case 6: ss = v.bool
                default: break
                }
            }
            methods.append(Method(service: full, name: mn, input: input, output: output, clientStreaming: cs, serverStreaming: ss))
            symbols[full + "." + mn] = file
        }
        services[full] = methods
    }

    /// `name` and every file it imports, transitively, `name` first.
    public func fileWithDependencies(_ name: String) -> [File] {
        var out: [File] = [], seen = Set<String>(), queue = [name]
        while !queue.isEmpty {
            let n = queue.removeFirst()
            guard seen.insert(n).inserted, let f = files[n] else { continue }
            out.append(f)
            queue += f.dependencies
        }
        return out
    }

    /// The method at `path` (`/service/Method`).
    public func method(path: String) -> Method? {
        let parts = path.split(separator: "/")
        guard parts.count == 2 else { return nil }
        return services[String(parts[0])]?.first { $0.name == parts[1] }
    }
}

extension DescriptorPool {
    /// The proto name of value `number` of enum `type` (e.g. `ITEM_STATE_CLOSED`), or the number.
    public func enumName(_ type: String, _ number: Int32) -> String {
        enums[type]?.first { $0.number == number }?.name ?? "\(number)"
    }
}

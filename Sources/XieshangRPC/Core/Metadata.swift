/// gRPC metadata: ordered key/value pairs; keys ending in `-bin` carry bytes (base64 on the wire).
public struct Metadata: Hashable, Sendable, Sequence {
    /// One value: text for ordinary keys, bytes for `-bin` keys.
    public enum Value: Hashable, Sendable {
        case string(String)
        case binary([UInt8])
    }

    /// The pairs in order; keys are lower case.
    public private(set) var entries: [(key: String, value: Value)] = []

    /// Empty metadata.
    public init() {}

    /// Metadata with text pairs, in order.
    public init(_ pairs: [(String, String)]) {
        for (k, v) in pairs { add(k, v) }
    }

    /// Adds a text value.
    public mutating func add(_ key: String, _ value: String) {
        entries.append((key.lowercased(), .string(value)))
    }

    /// Adds a binary value; the key should end in `-bin`.
    public mutating func add(_ key: String, binary value: [UInt8]) {
        entries.append((key.lowercased(), .binary(value)))
    }

    /// The first text value for `key`.
    public subscript(key: String) -> String? {
        let k = key.lowercased()
        for e in entries where e.key == k { if case .string(let s) = e.value { return s } }
        return nil
    }

    /// The first binary value for `key`.
    public func binary(_ key: String) -> [UInt8]? {
        let k = key.lowercased()
        for e in entries where e.key == k { if case .binary(let b) = e.value { return b } }
        return nil
    }

    /// Whether no pairs are present.
    public var isEmpty: Bool { entries.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> { entries.makeIterator() }

    public static func == (a: Metadata, b: Metadata) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into h: inout Hasher) {
        for e in entries { h.combine(e.key); h.combine(e.value) }
    }

    /// Decodes a header received on the wire into metadata (base64 for `-bin`).
    mutating func addWire(name: String, value: [UInt8]) {
        if name.hasSuffix("-bin") {
            if let b = Base64.decode(value) { entries.append((name, .binary(b))) }
        } else {
            entries.append((name, .string(String(decoding: value, as: UTF8.self))))
        }
    }

    /// Drops the pairs whose key matches (transport headers that are not the call's).
    mutating func removeAll(where drop: (String) -> Bool) {
        entries.removeAll { drop($0.key) }
    }

    /// Headers that must never be taken from user metadata.
    static func isReserved(_ key: String) -> Bool {
        key.hasPrefix(":") || key == "content-type" || key == "te" || key == "grpc-status" || key == "grpc-message"
            || key == "grpc-timeout" || key == "grpc-encoding" || key == "grpc-accept-encoding" || key == "user-agent"
            || key == "content-length" || key == "connection" || key == "host" || key == "transfer-encoding"
    }

    /// The pairs as wire headers.
    func wireHeaders() -> [(String, [UInt8])] {
        entries.compactMap { e in
            if Metadata.isReserved(e.key) { return nil }
            switch e.value {
            case .string(let s): return (e.key, Array(s.utf8))
            case .binary(let b): return (e.key, Base64.encode(b))
            }
        }
    }
}

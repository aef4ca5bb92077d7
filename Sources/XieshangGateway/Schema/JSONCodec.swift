import Foundation

/// Converts between JSON (proto3's JSON mapping: lowerCamel or original field names, enums by
/// name, 64-bit integers as strings, bytes as base64) and protobuf wire bytes, by the schema in a
/// ``DescriptorPool``. What `xieshang call` uses, so an operator types JSON for any method.
public struct JSONCodec: Sendable {
    /// A value that does not fit its field, named by its path (e.g. `items[2].state`).
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path.isEmpty ? "message" : path): \(reason)" }
    }

    public let pool: DescriptorPool

    public init(pool: DescriptorPool = .shared) { self.pool = pool }

    // MARK: JSON → wire

    /// The wire bytes of `json` (text of one object) as message `type`.
    public func encode(json: String, as type: String) throws -> [UInt8] {
        let text = json.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return [] }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw Failure(path: "", reason: "not JSON: \(error.localizedDescription)")
        }
        return try encode(object, as: type, path: "")
    }

    func encode(_ value: Any, as type: String, path: String) throws -> [UInt8] {
        guard let message = pool.messages[type] else { throw Failure(path: path, reason: "unknown message type \(type)") }
        guard let object = value as? [String: Any] else { throw Failure(path: path, reason: "expected an object for \(type)") }
        var w = WireWriter()
        for key in object.keys.sorted() {
            guard let field = message.fields.first(where: { $0.jsonName == key || $0.name == key }) else {
                throw Failure(path: path, reason: "\(type) has no field '\(key)'")
            }
            let v = object[key]!
            if v is NSNull { continue }
            let fieldPath = path.isEmpty ? key : "\(path).\(key)"
            if field.repeated {
                if let entry = pool.messages[field.typeName], entry.isMapEntry {
                    guard let map = v as? [String: Any] else { throw Failure(path: fieldPath, reason: "expected an object (a map)") }
                    for k in map.keys.sorted() {
                        var e = WireWriter()
                        try scalar(k, entry.fields[0], path: "\(fieldPath)[\(k)]", into: &e, fromKey: true)
                        try element(map[k]!, entry.fields[1], path: "\(fieldPath)[\(k)]", into: &e)
                        w.lengthDelimited(field.number, e.bytes)
                    }
                    continue
                }
                guard let list = v as? [Any] else { throw Failure(path: fieldPath, reason: "expected an array") }
                for (i, item) in list.enumerated() { try element(item, field, path: "\(fieldPath)[\(i)]", into: &w) }
            } else {
                try element(v, field, path: fieldPath, into: &w)
            }
        }
        return w.bytes
    }

    private func element(_ v: Any, _ f: DescriptorPool.Field, path: String, into w: inout WireWriter) throws {
        if f.type == 11 {
            w.lengthDelimited(f.number, try encode(v, as: f.typeName, path: path))
        } else {
            try scalar(v, f, path: path, into: &w, fromKey: false)
        }
    }

    private func scalar(_ v: Any, _ f: DescriptorPool.Field, path: String, into w: inout WireWriter, fromKey: Bool) throws {
        func integer() throws -> Int64 {
            if let s = v as? String, let n = Int64(s) { return n }
            if let n = v as? NSNumber, !Self.isBoolean(v), n.doubleValue == n.doubleValue.rounded() { return n.int64Value }
            throw Failure(path: path, reason: "expected an integer")
        }
        func unsigned() throws -> UInt64 {
            if let s = v as? String, let n = UInt64(s) { return n }
            if let n = v as? NSNumber, !Self.isBoolean(v), n.doubleValue >= 0, n.doubleValue == n.doubleValue.rounded() { return n.uint64Value }
            throw Failure(path: path, reason: "expected an unsigned integer")
        }
        func real() throws -> Double {
            if let s = v as? String, let d = Double(s) { return d }
            if let n = v as? NSNumber, !Self.isBoolean(v) { return n.doubleValue }
            throw Failure(path: path, reason: "expected a number")
        }
        switch f.type {
        case 3, 5: // int64, int32
            let n = try integer()
            if f.type == 5 && Int64(Int32(truncatingIfNeeded: n)) != n { throw Failure(path: path, reason: "\(n) does not fit int32") }
            w.key(f.number, 0); w.varint(UInt64(bitPattern: n))
        case 4, 13: // uint64, uint32
            let n = try unsigned()
            if f.type == 13 && n > UInt64(UInt32.max) { throw Failure(path: path, reason: "\(n) does not fit uint32") }
            w.key(f.number, 0); w.varint(n)
        case 17, 18: // sint32, sint64
            let n = try integer()
            w.key(f.number, 0); w.varint(UInt64(bitPattern: (n << 1) ^ (n >> 63)))
        case 8: // bool
            let b: Bool
            if Self.isBoolean(v), let x = v as? Bool { b = x } else if fromKey, let s = v as? String, let x = Bool(s) { b = x } else {
                throw Failure(path: path, reason: "expected true or false")
            }
            w.key(f.number, 0); w.varint(b ? 1 : 0)
        case 14: // enum
            let values = pool.enums[f.typeName] ?? []
            let number: Int32
            if let s = v as? String {
                guard let hit = values.first(where: { $0.name == s }) else {
                    throw Failure(path: path, reason: "'\(s)' is not a value of \(f.typeName) (\(values.map(\.name).joined(separator: ", ")))")
                }
                number = hit.number
            } else {
                number = Int32(truncatingIfNeeded: try integer())
            }
            w.key(f.number, 0); w.varint(UInt64(bitPattern: Int64(number)))
        case 9: // string
            guard let s = v as? String else { throw Failure(path: path, reason: "expected a string") }
            w.lengthDelimited(f.number, Array(s.utf8))
        case 12: // bytes
            guard let s = v as? String, let b = Data(base64Encoded: s) else { throw Failure(path: path, reason: "expected base64") }
            w.lengthDelimited(f.number, Array(b))
        case 1: w.key(f.number, 1); w.fixed64(try real().bitPattern)
        case 2: w.key(f.number, 5); w.fixed32(Float(try real()).bitPattern)
        case 6: w.key(f.number, 1); w.fixed64(try unsigned())
        case 16: w.key(f.number, 1); w.fixed64(UInt64(bitPattern: try integer()))
        case 7: w.key(f.number, 5); w.fixed32(UInt32(truncatingIfNeeded: try unsigned()))
        case 15: w.key(f.number, 5); w.fixed32(UInt32(bitPattern: Int32(truncatingIfNeeded: try integer())))
        default: throw Failure(path: path, reason: "field type \(f.type) is not supported")
        }
    }

    /// Whether a parsed JSON value is `true` or `false`. `v is Bool` will not do: Foundation bridges
    /// the numbers 0 and 1 to Bool too, which refused `{"pageSize": 1}` as "expected an integer".
    static func isBoolean(_ v: Any) -> Bool {
        guard let n = v as? NSNumber else { return false }
        return String(cString: n.objCType) == "c" || type(of: v) == Bool.self
    }

    // MARK: wire → JSON

    /// `bytes` of message `type` as pretty JSON text, keys sorted (fields at their defaults are
    /// left out): what `xieshang call` prints.
    public func decode(_ bytes: [UInt8], as type: String) throws -> String {
        let object = try decodeObject(bytes[...], as: type)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// `bytes` of message `type` as compact JSON bytes, for the wire (Connect's JSON).
    public func compactJSON(_ bytes: [UInt8], as type: String) throws -> [UInt8] {
        try JSONText.bytes(try decodeObject(bytes[...], as: type))
    }

    func decodeObject(_ bytes: ArraySlice<UInt8>, as type: String) throws -> [String: Any] {
        guard let message = pool.messages[type] else { throw Failure(path: "", reason: "unknown message type \(type)") }
        var out: [String: Any] = [:]
        var r = WireReader(bytes)
        while let (number, value) = try r.next() {
            guard let f = message.fields.first(where: { $0.number == number }) else { continue }
            if f.repeated, let entry = pool.messages[f.typeName], entry.isMapEntry {
                let e = try decodeObject(value.slice, as: f.typeName)
                var map = out[f.jsonName] as? [String: Any] ?? [:]
                let k = e[entry.fields[0].jsonName].map { "\($0)" } ?? ""
                map[k] = e[entry.fields[1].jsonName] ?? Self.zero(entry.fields[1])
                out[f.jsonName] = map
                continue
            }
            var items: [Any] = []
            if case .bytes(let b) = value, f.repeated, ![9, 11, 12].contains(f.type) {
                var packed = WireReader(b)
                while !packed.atEnd {
                    let v: WireReader.Value
                    switch f.type {
                    case 1, 6, 16: v = .fixed64(UInt64(littleEndianBytes: try packed.takeBytes(8)))
                    case 2, 7, 15: v = .fixed32(UInt32(truncatingIfNeeded: UInt64(littleEndianBytes: try packed.takeBytes(4))))
                    default: v = .varint(try packed.varint())
                    }
                    items.append(try scalarJSON(v, f))
                }
            } else if f.type == 11 {
                items.append(try decodeObject(value.slice, as: f.typeName))
            } else {
                items.append(try scalarJSON(value, f))
            }
            if f.repeated {
                out[f.jsonName] = (out[f.jsonName] as? [Any] ?? []) + items
            } else if let last = items.last {
                out[f.jsonName] = last
            }
        }
        return out
    }

    private static func zero(_ f: DescriptorPool.Field) -> Any {
        switch f.type {
        case 9, 12, 3, 4, 6, 16, 18: return ""
        case 8: return false
        case 11: return [String: Any]()
        default: return 0
        }
    }

    private func scalarJSON(_ v: WireReader.Value, _ f: DescriptorPool.Field) throws -> Any {
        switch (f.type, v) {
        case (3, .varint(let x)), (16, .fixed64(let x)): return String(Int64(bitPattern: x))
        case (4, .varint(let x)), (6, .fixed64(let x)): return String(x)
        case (5, .varint(let x)): return Int(Int32(truncatingIfNeeded: x))
        case (13, .varint(let x)): return Int(UInt32(truncatingIfNeeded: x))
        case (17, .varint(let x)): return Int(Int32(truncatingIfNeeded: Int64(bitPattern: (x >> 1) ^ (0 &- (x & 1)))))
        case (18, .varint(let x)): return String(Int64(bitPattern: (x >> 1) ^ (0 &- (x & 1))))
        case (8, .varint(let x)): return x != 0
        case (14, .varint(let x)): return pool.enumName(f.typeName, Int32(truncatingIfNeeded: x))
        case (9, .bytes(let b)): return String(decoding: b, as: UTF8.self)
        case (12, .bytes(let b)): return Data(b).base64EncodedString()
        case (1, .fixed64(let x)): return Double(bitPattern: x)
        case (2, .fixed32(let x)): return Double(Float(bitPattern: x))
        case (7, .fixed32(let x)): return Int(x)
        case (15, .fixed32(let x)): return Int(Int32(bitPattern: x))
        default: throw Failure(path: f.name, reason: "wire value does not match field type \(f.type)")
        }
    }
}

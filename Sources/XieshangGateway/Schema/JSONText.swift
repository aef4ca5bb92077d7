/// Compact JSON text of the values ``JSONCodec`` decodes messages into (`[String: Any]`, `[Any]`,
/// `String`, `Bool`, `Int`, `Double`), written straight into bytes. Foundation's
/// `JSONSerialization` bridges every dictionary to `NSDictionary` first: it was a third of the
/// gateway's CPU on a Connect JSON call.
enum JSONText {
    struct Unsupported: Error, CustomStringConvertible {
        let type: String
        var description: String { "no JSON for a value of type \(type)" }
    }

    static func bytes(_ value: Any) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try write(value, into: &out)
        return out
    }

    static func write(_ value: Any, into out: inout [UInt8]) throws {
        switch value {
        case let s as String:
            string(s, into: &out)
        case let b as Bool:
            out += b ? Array("true".utf8) : Array("false".utf8)
        case let n as Int:
            out += Array(String(n).utf8)
        case let d as Double:
            // proto3's JSON spells the non-finite values as strings.
            if d.isNaN { string("NaN", into: &out) } else if d.isInfinite { string(d < 0 ? "-Infinity" : "Infinity", into: &out) } else {
                out += Array("\(d)".utf8)
            }
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            var first = true
            for (k, v) in object {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                string(k, into: &out)
                out.append(UInt8(ascii: ":"))
                try write(v, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let list as [Any]:
            out.append(UInt8(ascii: "["))
            for (i, v) in list.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try write(v, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        default:
            throw Unsupported(type: "\(type(of: value))")
        }
    }

    /// A string literal: quotes, backslashes and control characters escaped; the rest (Chinese
    /// included) as UTF-8.
    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

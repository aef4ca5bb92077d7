/// Reads protobuf wire format field by field: enough to walk descriptors and schema-less messages.
struct WireReader {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    private let data: ArraySlice<UInt8>
    private var at: Int

    init(_ data: ArraySlice<UInt8>) {
        self.data = data
        self.at = data.startIndex
    }

    init(_ data: [UInt8]) { self.init(data[...]) }

    /// The next field's number and value; nil at the end.
    mutating func next() throws -> (Int, Value)? {
        guard at < data.endIndex else { return nil }
        let key = try varint()
        let number = Int(key >> 3)
        guard number > 0 else { throw Malformed(description: "field number 0") }
        switch key & 7 {
        case 0: return (number, .varint(try varint()))
        case 1: return (number, .fixed64(UInt64(littleEndianBytes: try take(8))))
        case 2:
            let n = try varint()
            guard n <= UInt64(data.endIndex - at) else { throw Malformed(description: "length \(n) runs past the end") }
            return (number, .bytes(try take(Int(n))))
        case 5: return (number, .fixed32(UInt32(truncatingIfNeeded: UInt64(littleEndianBytes: try take(4)))))
        case let t: throw Malformed(description: "wire type \(t) is not supported")
        }
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while at < data.endIndex {
            let b = data[at]
            at += 1
            result |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift >= 64 { break }
        }
        throw Malformed(description: "truncated varint")
    }

    /// Whether every byte has been read.
    var atEnd: Bool { at >= data.endIndex }

    mutating func takeBytes(_ n: Int) throws -> ArraySlice<UInt8> { try take(n) }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard data.endIndex - at >= n else { throw Malformed(description: "truncated field") }
        defer { at += n }
        return data[at..<(at + n)]
    }
}

extension UInt64 {
    init(littleEndianBytes b: ArraySlice<UInt8>) {
        var v: UInt64 = 0
        for (i, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(i)) }
        self = v
    }
}

extension WireReader.Value {
    var string: String { if case .bytes(let b) = self { return String(decoding: b, as: UTF8.self) } else { return "" } }
    var int: Int { if case .varint(let v) = self { return Int(truncatingIfNeeded: v) } else { return 0 } }
    var bool: Bool { int != 0 }
    var slice: ArraySlice<UInt8> { if case .bytes(let b) = self { return b } else { return [] } }
}

/// Writes protobuf wire format.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func key(_ number: Int, _ wireType: UInt64) { varint(UInt64(number) << 3 | wireType) }

    mutating func lengthDelimited(_ number: Int, _ payload: [UInt8]) {
        key(number, 2)
        varint(UInt64(payload.count))
        bytes += payload
    }

    mutating func fixed64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
    mutating func fixed32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
}

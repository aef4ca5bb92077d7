/// Splits a gRPC body into messages: each is a 1-byte compressed flag, a 4-byte big-endian
/// length, then the bytes. Refuses a length over the limit before buffering it.
struct MessageDeframer {
    enum Next: Equatable {
        case message([UInt8])
        case needMore
        case tooLarge(Int)
        case compressed
    }

    let maxMessageSize: Int
    private var buffer: [UInt8] = []
    private var start = 0

    init(maxMessageSize: Int) { self.maxMessageSize = maxMessageSize }

    /// Bytes received and not yet returned as a message.
    var pendingBytes: Int { buffer.count - start }

    /// Drops everything buffered (the call failed).
    mutating func reset() {
        buffer = []
        start = 0
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    mutating func next() -> Next {
        guard pendingBytes >= 5 else { return .needMore }
        let flag = buffer[start]
        let len = Int(buffer[start + 1]) << 24 | Int(buffer[start + 2]) << 16 | Int(buffer[start + 3]) << 8 | Int(buffer[start + 4])
        if len > maxMessageSize { return .tooLarge(len) }
        if flag != 0 { return .compressed }
        guard pendingBytes >= 5 + len else { return .needMore }
        let msg = Array(buffer[(start + 5)..<(start + 5 + len)])
        start += 5 + len
        return .message(msg)
    }
}

/// Frames one message with the 5-byte gRPC prefix.
enum MessageFramer {
    static func frame(_ body: UnsafeRawBufferPointer) -> [UInt8] {
        let n = body.count
        return [UInt8](unsafeUninitializedCapacity: n + 5) { out, count in
            out[0] = 0
            out[1] = UInt8(truncatingIfNeeded: n >> 24)
            out[2] = UInt8(truncatingIfNeeded: n >> 16)
            out[3] = UInt8(truncatingIfNeeded: n >> 8)
            out[4] = UInt8(truncatingIfNeeded: n)
            if n > 0 { UnsafeMutableRawBufferPointer(start: out.baseAddress! + 5, count: n).copyMemory(from: body) }
            count = n + 5
        }
    }

    static func frame<M: ProtoMessage>(_ m: M) -> [UInt8] {
        m.withSerializedBytes { frame($0) }
    }
}

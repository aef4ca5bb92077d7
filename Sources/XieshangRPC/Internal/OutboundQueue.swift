/// Framed messages waiting for HTTP/2 flow control to let them out.
struct OutboundQueue {
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var offset = 0
    private(set) var bytes = 0

    var isEmpty: Bool { bytes == 0 }

    mutating func append(_ chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        chunks.append(chunk)
        bytes += chunk.count
    }

    mutating func removeAll() {
        chunks.removeAll()
        head = 0
        offset = 0
        bytes = 0
    }

    /// Copies up to `buffer.count` bytes out.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        while written < buffer.count && head < chunks.count {
            let c = chunks[head]
            let n = min(c.count - offset, buffer.count - written)
            c.withUnsafeBytes { src in
                UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + n)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + n)]))
            }
            written += n
            offset += n
            if offset == c.count {
                head += 1
                offset = 0
            }
        }
        bytes -= written
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 32 {
            chunks.removeFirst(head)
            head = 0
        }
        return written
    }
}

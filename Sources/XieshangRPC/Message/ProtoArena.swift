import CProtobufC

/// Scratch memory for building protoc-c structs from Swift values: one bump allocator,
/// freed at once after packing, so encoding does no per-field malloc/free.
public final class ProtoArena {
    private var chunks: [UnsafeMutableRawPointer] = []
    private var cursor: UnsafeMutableRawPointer?
    private var remaining = 0
    private static let chunkSize = 4096

    /// An empty arena.
    public init() {}

    /// Frees everything the arena handed out.
    public func release() {
        for c in chunks { c.deallocate() }
        chunks.removeAll()
        cursor = nil
        remaining = 0
    }

    deinit { release() }

    /// Zeroed memory for `count` values of `T`.
    public func allocate<T>(_: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        let bytes = MemoryLayout<T>.stride * max(count, 1)
        let raw = allocateRaw(bytes, alignment: MemoryLayout<T>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// Uninitialised bytes.
    public func allocateBytes(_ count: Int) -> UnsafeMutablePointer<UInt8> {
        allocateRaw(count, alignment: 1).bindMemory(to: UInt8.self, capacity: count)
    }

    private func allocateRaw(_ bytes: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if let c = cursor {
            let pad = (alignment - Int(bitPattern: c) % alignment) % alignment
            if pad + bytes <= remaining {
                let p = c + pad
                cursor = p + bytes
                remaining -= pad + bytes
                return p
            }
        }
        if bytes > Self.chunkSize / 2 {
            let big = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: max(alignment, 16))
            chunks.append(big)
            return big
        }
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        chunks.append(chunk)
        cursor = chunk + bytes
        remaining = Self.chunkSize - bytes
        return chunk
    }

    /// A NUL-terminated copy of `s` (protobuf-c strings are C strings).
    public func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
        var s = s
        return s.withUTF8 { utf8 in
            let p = allocateBytes(utf8.count + 1)
            if let base = utf8.baseAddress { p.initialize(from: base, count: utf8.count) }
            p[utf8.count] = 0
            return UnsafeMutableRawPointer(p).bindMemory(to: CChar.self, capacity: utf8.count + 1)
        }
    }

    /// A copy of `bytes` as protobuf-c binary data.
    public func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let p = allocateBytes(bytes.count)
        bytes.withUnsafeBufferPointer { p.initialize(from: $0.baseAddress!, count: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    /// A C struct filled from `m`.
    public func message<M: ProtoCMessage>(_ m: M) -> UnsafeMutablePointer<M.CStruct> {
        let c = allocate(M.CStruct.self)
        M.cInit(c)
        m.cFill(c, self)
        return c
    }

    /// A C array with the same element layout as the Swift array (numeric fields).
    public func copy<T>(_ xs: [T]) -> UnsafeMutablePointer<T> {
        let p = allocate(T.self, count: xs.count)
        xs.withUnsafeBufferPointer { p.initialize(from: $0.baseAddress!, count: xs.count) }
        return p
    }

    /// A C array of converted elements.
    public func buffer<S, T>(_ xs: [S], _ convert: (S) -> T) -> UnsafeMutablePointer<T> {
        let p = allocate(T.self, count: xs.count)
        for (i, x) in xs.enumerated() { (p + i).initialize(to: convert(x)) }
        return p
    }

    /// A C array of pointers to map-entry structs, each set by `fill`.
    public func mapEntries<K, V, E>(
        _ map: [K: V], _ fill: (K, V, UnsafeMutablePointer<E>) -> Void
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<E>?> {
        let p = allocate(UnsafeMutablePointer<E>?.self, count: map.count)
        var i = 0
        for (k, v) in map {
            let e = allocate(E.self)
            fill(k, v, e)
            p[i] = e
            i += 1
        }
        return p
    }
}

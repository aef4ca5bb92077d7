import CProtobufC

/// Reading protoc-c structs back into Swift values (used by generated code).
public enum ProtoC {
    /// The protoc-c descriptor a message's `__init` installs.
    public static func descriptor<M: ProtoCMessage>(of: M.Type) -> UnsafePointer<ProtobufCMessageDescriptor> {
        let p = UnsafeMutablePointer<M.CStruct>.allocate(capacity: 1)
        defer { p.deallocate() }
        M.cInit(p)
        return UnsafeRawPointer(p).assumingMemoryBound(to: ProtobufCMessage.self).pointee.descriptor
    }

    /// A string field; protobuf-c does not check UTF-8, so this does.
    @inlinable
    public static func string(_ p: UnsafeMutablePointer<CChar>?, field: String) throws -> String {
        guard let p else { return "" }
        guard let s = String(validatingCString: p) else { throw ProtoDecodingError.invalidUTF8(field: field) }
        return s
    }

    /// A bytes field.
    @inlinable
    public static func bytes(_ b: ProtobufCBinaryData) -> [UInt8] {
        guard b.len > 0, let data = b.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: b.len))
    }

    /// A nested message.
    @inlinable
    public static func message<M: ProtoCMessage>(
        _ p: UnsafeMutablePointer<M.CStruct>?, as: M.Type, field: String
    ) throws -> M {
        guard let p else { throw ProtoDecodingError.missing(field: field) }
        return try M(c: p)
    }

    /// A repeated field.
    @inlinable
    public static func array<C, T>(
        _ p: UnsafeMutablePointer<C>?, _ count: Int, _ convert: (C) throws -> T
    ) rethrows -> [T] {
        guard let p, count > 0 else { return [] }
        var out: [T] = []
        out.reserveCapacity(count)
        for i in 0..<count { out.append(try convert(p[i])) }
        return out
    }

    /// A map field, from protoc-c's array of entry pointers.
    @inlinable
    public static func map<E, K: Hashable, V>(
        _ p: UnsafeMutablePointer<UnsafeMutablePointer<E>?>?, _ count: Int,
        _ convert: (UnsafeMutablePointer<E>) throws -> (K, V)
    ) throws -> [K: V] {
        guard let p, count > 0 else { return [:] }
        var out: [K: V] = [:]
        out.reserveCapacity(count)
        for i in 0..<count {
            guard let e = p[i] else { throw ProtoDecodingError.missing(field: "map entry") }
            let (k, v) = try convert(e)
            out[k] = v
        }
        return out
    }
}

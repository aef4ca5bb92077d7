import CProtobufC

/// protobuf-c keeps strings as C strings, so a string holding U+0000 comes out cut at it: a name
/// `王\0伟` would be stored as `王`. Every decoder walks the wire bytes it was given (already
/// unpacked once, so well formed) with the message's descriptor and refuses such a string,
/// naming the field (`member.name`), before anything reads it.
enum NULScan {
    static func check(_ bytes: UnsafeRawBufferPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) throws {
        guard !bytes.isEmpty, bytes.contains(0) else { return }  // no zero byte at all: nothing to find
        try walk(bytes, descriptor, path: "", depth: 0)
    }

    private static func walk(_ b: UnsafeRawBufferPointer, _ d: UnsafePointer<ProtobufCMessageDescriptor>, path: String, depth: Int) throws {
        guard depth < 64 else { return }
        var i = 0
        while i < b.count {
            guard let key = varint(b, &i) else { return }
            let number = UInt32(truncatingIfNeeded: key >> 3)
            switch key & 7 {
            case 0: guard varint(b, &i) != nil else { return }
            case 1: i += 8
            case 5: i += 4
            case 2:
                guard let n = varint(b, &i), n <= UInt64(b.count - i) else { return }
                let start = i
                i += Int(n)
                guard let f = protobuf_c_message_descriptor_get_field(d, number) else { continue }
                let body = UnsafeRawBufferPointer(rebasing: b[start..<i])
                switch f.pointee.type {
                case PROTOBUF_C_TYPE_STRING:
                    if body.contains(0) { throw ProtoDecodingError.nulCharacter(field: name(path, f)) }
                case PROTOBUF_C_TYPE_MESSAGE:
                    if let sub = f.pointee.descriptor, body.contains(0) {
                        try walk(body, sub.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), path: name(path, f), depth: depth + 1)
                    }
                default:
                    break
                }
            default:
                return  // groups are not in proto3; protobuf-c has already refused anything worse
            }
        }
    }

    private static func name(_ path: String, _ f: UnsafePointer<ProtobufCFieldDescriptor>) -> String {
        let n = String(cString: f.pointee.name)
        return path.isEmpty ? n : "\(path).\(n)"
    }

    private static func varint(_ b: UnsafeRawBufferPointer, _ i: inout Int) -> UInt64? {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while i < b.count && shift < 64 {
            let c = b[i]
            i += 1
            v |= UInt64(c & 0x7F) << shift
            if c < 0x80 { return v }
            shift += 7
        }
        return nil
    }
}

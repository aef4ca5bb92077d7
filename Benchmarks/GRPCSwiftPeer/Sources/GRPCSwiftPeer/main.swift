// grpc.testing.TestService/UnaryCall on grpc-swift-2 with a minimal hand-written protobuf codec
// (no swift-protobuf), so its figures are an upper bound for a grpc-swift-2 + swift-protobuf server.
import GRPCCore
import GRPCNIOTransportHTTP2

struct BytesDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

struct BytesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
}

/// Reads SimpleRequest.response_size (field 2), skipping every other field.
func responseSize(_ b: [UInt8]) throws -> Int {
    var i = 0
    func varint() throws -> UInt64 {
        var r: UInt64 = 0
        var shift: UInt64 = 0
        while i < b.count {
            let c = b[i]
            i += 1
            r |= UInt64(c & 0x7F) << shift
            if c & 0x80 == 0 { return r }
            shift += 7
        }
        throw RPCError(code: .internalError, message: "truncated varint")
    }
    var size = 0
    while i < b.count {
        let key = try varint()
        switch key & 7 {
        case 0:
            let v = try varint()
            if key >> 3 == 2 { size = Int(v) }
        case 2: i += Int(try varint())
        case 1: i += 8
        case 5: i += 4
        default: throw RPCError(code: .internalError, message: "bad wire type")
        }
    }
    return size
}

func lengthDelimited(_ field: UInt8, _ body: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [field << 3 | 2]
    var n = body.count
    while n >= 0x80 {
        out.append(UInt8(n & 0x7F) | 0x80)
        n >>= 7
    }
    out.append(UInt8(n))
    return out + body
}

struct TestService: RegistrableRPCService {
    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: MethodDescriptor(fullyQualifiedService: "grpc.testing.TestService", method: "UnaryCall"),
            deserializer: BytesDeserializer(),
            serializer: BytesSerializer()
        ) { request, _ in
            var size = 0
            for try await m in request.messages { size = try responseSize(m) }
            let payload = lengthDelimited(2, [UInt8](repeating: 0, count: size))
            return StreamingServerResponse(single: ServerResponse(message: lengthDelimited(1, payload)))
        }
    }
}

let port = Int(CommandLine.arguments.dropFirst().first ?? "50053") ?? 50053
let server = GRPCServer(
    transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext),
    services: [TestService()]
)
print("listening on \(port)")
try await server.serve()

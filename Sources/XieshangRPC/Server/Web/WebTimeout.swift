/// A call's deadline from `grpc-timeout` (gRPC, gRPC-Web) or `connect-timeout-ms` (Connect).
enum WebTimeout {
    static func deadline(grpc: [UInt8]?, connect: [UInt8]?) -> Result<Deadline?, RPCError> {
        if let t = grpc {
            guard let ns = GRPCTimeout.parse(t) else { return .failure(RPCError(.internal, "malformed grpc-timeout")) }
            return .success(.after(nanoseconds: ns))
        }
        if let t = connect {
            // At most 10 digits, milliseconds (the Connect protocol).
            guard !t.isEmpty, t.count <= 10, t.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let ms = Int64(String(decoding: t, as: UTF8.self))
            else { return .failure(RPCError(.invalidArgument, "connect-timeout-ms is not a number of milliseconds")) }
            return .success(.after(nanoseconds: ms * 1_000_000))
        }
        return .success(nil)
    }
}

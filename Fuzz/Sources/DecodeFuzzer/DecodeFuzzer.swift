import XieshangAPI
@_spi(Fuzzing) import XieshangRPC

/// libFuzzer entry: arbitrary bytes as a gRPC request body, every message decoded as two types.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    FuzzEntry.deframeAndDecode(bytes) { m in
        _ = try? Xieshang_Testing_V1_AllKinds(serializedBytes: m)
        _ = try? Grpc_Testing_SimpleRequest(serializedBytes: m)
    }
    return 0
}

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

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// SwiftPM names an executable's entry `<target>_main`; hand it to libFuzzer's driver.
@_cdecl("DecodeFuzzer_main")
public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzzOne)
}

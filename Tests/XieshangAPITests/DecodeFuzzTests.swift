import XCTest
import XieshangAPI
import XieshangKit
@_spi(Fuzzing) import XieshangRPC

/// A fixed-seed corpus through the same entry point as the libFuzzer target in Fuzz/: mutated
/// frames and messages must never crash, and valid ones must still decode.
final class DecodeFuzzTests: XCTestCase {
    func framed(_ m: [UInt8]) -> [UInt8] {
        [0, UInt8(m.count >> 24 & 255), UInt8(m.count >> 16 & 255), UInt8(m.count >> 8 & 255), UInt8(m.count & 255)] + m
    }

    /// Decodes as AllKinds, or else as SimpleRequest (whose field 3 has another wire type).
    func decodeEither(_ m: [UInt8]) throws {
        if (try? Xieshang_Testing_V1_AllKinds(serializedBytes: m)) == nil {
            _ = try Grpc_Testing_SimpleRequest(serializedBytes: m)
        }
    }

    func testMutatedInputNeverCrashesAndValidInputDecodes() {
        var rng = SplitMix64(seed: 2026)
        var seed = AllKindsFixture.canonical
        seed.fBytes = []
        let base = seed.serializedBytes()
        var simple = Grpc_Testing_SimpleRequest()
        simple.responseSize = 314
        simple.payload = Grpc_Testing_Payload()
        simple.payload?.body = [1, 2, 3]
        let seeds = [base, simple.serializedBytes(), []]
        var decodedValid = 0
        var decodedMutated = 0
        for round in 0..<3000 {
            let original = seeds[round % seeds.count]
            var stream = framed(original) + framed(original)
            decodedValid += FuzzEntry.deframeAndDecode(stream, decode: decodeEither)
            let flips = 1 + Int(rng.next() % 8)
            for _ in 0..<flips where !stream.isEmpty {
                let at = Int(rng.next() % UInt64(stream.count))
                switch rng.next() % 4 {
                case 0: stream[at] ^= UInt8(truncatingIfNeeded: rng.next())
                case 1: stream.remove(at: at)
                case 2: stream.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                default: stream[at] = 0xFF
                }
            }
            decodedMutated += FuzzEntry.deframeAndDecode(stream, decode: decodeEither)
        }
        // Every valid stream yields both of its messages; some mutated ones still decode, most do not.
        XCTAssertEqual(decodedValid, 6000)
        XCTAssertGreaterThan(decodedMutated, 0)
        XCTAssertLessThan(decodedMutated, 6000)
    }
}

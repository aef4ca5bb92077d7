import XCTest
@testable import XieshangRPC

final class WireFormatTests: XCTestCase {
    func testPercentEncodingRoundTripsUnicode() {
        let s = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n 100%"
        let enc = PercentEncoding.encode(s)
        XCTAssertTrue(enc.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
        XCTAssertEqual(String(decoding: enc, as: UTF8.self).prefix(9), "%09%0Ates")
        XCTAssertEqual(PercentEncoding.decode(enc), s)
        XCTAssertEqual(PercentEncoding.decode(Array("bad %ZZ escape %4".utf8)), "bad %ZZ escape %4")
    }

    func testTimeoutParsingAndFormatting() {
        XCTAssertEqual(GRPCTimeout.parse(Array("1S".utf8)), 1_000_000_000)
        XCTAssertEqual(GRPCTimeout.parse(Array("250m".utf8)), 250_000_000)
        XCTAssertEqual(GRPCTimeout.parse(Array("2H".utf8)), 7_200_000_000_000)
        XCTAssertNil(GRPCTimeout.parse(Array("123456789S".utf8)))
        XCTAssertNil(GRPCTimeout.parse(Array("10x".utf8)))
        XCTAssertNil(GRPCTimeout.parse(Array("S".utf8)))
        XCTAssertEqual(GRPCTimeout.format(nanoseconds: 1_000), "1000n")
        XCTAssertEqual(GRPCTimeout.format(nanoseconds: 5_000_000_000), "5000000u")
        XCTAssertEqual(GRPCTimeout.format(nanoseconds: 3_600_000_000_000_000), "3600000S")
        for ns: Int64 in [1, 999, 123_456_789, 86_400_000_000_000] {
            XCTAssertGreaterThanOrEqual(GRPCTimeout.parse(Array(GRPCTimeout.format(nanoseconds: ns).utf8))!, ns)
        }
    }

    func testBase64AcceptsPaddedAndUnpadded() {
        XCTAssertEqual(Base64.encode([0xAB, 0xAB, 0xAB]), Array("q6ur".utf8))
        XCTAssertEqual(Base64.encode([0xFF]), Array("/w".utf8))
        XCTAssertEqual(Base64.decode(Array("/w==".utf8)), [0xFF])
        XCTAssertEqual(Base64.decode(Array("/w".utf8)), [0xFF])
        XCTAssertNil(Base64.decode(Array("!!".utf8)))
        let all = (0..<256).map(UInt8.init)
        XCTAssertEqual(Base64.decode(Base64.encode(all)), all)
    }

    func testDeframerSplitsAcrossChunksAndRefusesOversize() {
        var d = MessageDeframer(maxMessageSize: 10)
        let framed = MessageFramer.frame(UnsafeRawBufferPointer(start: nil, count: 0)) + [0, 0, 0, 0, 3, 7, 8]
        for b in framed.prefix(6) { [b].withUnsafeBytes { d.append($0) } }
        XCTAssertEqual(d.next(), .message([]))
        XCTAssertEqual(d.next(), .needMore)
        framed.dropFirst(6).withUnsafeBytes { d.append($0) }
        XCTAssertEqual(d.next(), .needMore)
        [UInt8(9)].withUnsafeBytes { d.append($0) }
        XCTAssertEqual(d.next(), .message([7, 8, 9]))
        ([0, 0, 0, 0, 11] as [UInt8]).withUnsafeBytes { d.append($0) }
        XCTAssertEqual(d.next(), .tooLarge(11))
        var c = MessageDeframer(maxMessageSize: 10)
        ([1, 0, 0, 0, 1, 5] as [UInt8]).withUnsafeBytes { c.append($0) }
        XCTAssertEqual(c.next(), .compressed)
    }

    func testMetadataKeepsOrderAndBinaryValues() {
        var m = Metadata()
        m.add("X-Trace", "a")
        m.add("x-trace", "b")
        m.add("blob-bin", binary: [0, 1, 2])
        XCTAssertEqual(m["x-trace"], "a")
        XCTAssertEqual(m.binary("blob-bin"), [0, 1, 2])
        let wire = m.wireHeaders()
        XCTAssertEqual(wire.map(\.0), ["x-trace", "x-trace", "blob-bin"])
        XCTAssertEqual(wire[2].1, Array("AAEC".utf8))
        var back = Metadata()
        for (k, v) in wire { back.addWire(name: k, value: v) }
        XCTAssertEqual(back, m)
    }
}

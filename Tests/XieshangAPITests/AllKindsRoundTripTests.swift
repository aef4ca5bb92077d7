import XCTest
import XieshangAPI
import XieshangRPC

final class AllKindsRoundTripTests: XCTestCase {
    typealias AllKinds = Xieshang_Testing_V1_AllKinds

    func testCanonicalValueRoundTrips() throws {
        let m = AllKindsFixture.canonical
        let bytes = m.serializedBytes()
        XCTAssertGreaterThan(bytes.count, 500)
        XCTAssertEqual(try AllKinds(serializedBytes: bytes), m)
    }

    func testDefaultsEncodeToNothing() throws {
        XCTAssertEqual(AllKinds().serializedBytes(), [])
        XCTAssertEqual(try AllKinds(serializedBytes: [UInt8]()), AllKinds())
    }

    func testEachScalarFieldOnItsOwn() throws {
        var cases: [(String, AllKinds)] = []
        func add(_ name: String, _ set: (inout AllKinds) -> Void) {
            var m = AllKinds()
            set(&m)
            cases.append((name, m))
        }
        add("double") { $0.fDouble = 3.25 }
        add("float") { $0.fFloat = -0.5 }
        add("int32") { $0.fInt32 = -7 }
        add("int64") { $0.fInt64 = 1 << 40 }
        add("uint32") { $0.fUint32 = 3_000_000_000 }
        add("uint64") { $0.fUint64 = 1 << 63 }
        add("sint32") { $0.fSint32 = -300 }
        add("sint64") { $0.fSint64 = -(1 << 50) }
        add("fixed32") { $0.fFixed32 = 0xDEADBEEF }
        add("fixed64") { $0.fFixed64 = 0xDEADBEEFCAFE }
        add("sfixed32") { $0.fSfixed32 = -12 }
        add("sfixed64") { $0.fSfixed64 = -(1 << 33) }
        add("bool") { $0.fBool = true }
        add("string") { $0.fString = "社情民意" }
        add("bytes") { $0.fBytes = [0, 0, 0] }
        add("enum") { $0.fEnum = .green }
        add("message") { $0.fMessage = AllKindsFixture.inner() }
        for (name, m) in cases {
            let bytes = m.serializedBytes()
            XCTAssertFalse(bytes.isEmpty, "\(name) encoded to nothing")
            XCTAssertEqual(try AllKinds(serializedBytes: bytes), m, name)
        }
    }

    func testPresenceFieldsKeepZeroApartFromUnset() throws {
        var m = AllKinds()
        m.maybeCount = 0
        m.maybeNote = ""
        let back = try AllKinds(serializedBytes: m.serializedBytes())
        XCTAssertEqual(back.maybeCount, 0)
        XCTAssertEqual(back.maybeNote, "")
        let unset = try AllKinds(serializedBytes: AllKinds().serializedBytes())
        XCTAssertNil(unset.maybeCount)
        XCTAssertNil(unset.maybeNote)
    }

    func testEveryOneofCase() throws {
        let cases: [AllKinds.OneOf_Choice] = [
            .cText("院坝协商"), .cText(""), .cNumber(0), .cNumber(-5), .cInner(AllKindsFixture.inner()),
            .cBlob([]), .cBlob([1, 2]), .cColour(.unspecified), .cColour(.UNRECOGNIZED(99)),
        ]
        for c in cases {
            var m = AllKinds()
            m.choice = c
            XCTAssertEqual(try AllKinds(serializedBytes: m.serializedBytes()).choice, c, "\(c)")
        }
    }

    func testUnknownEnumValuesSurvive() throws {
        var m = AllKinds()
        m.fEnum = .UNRECOGNIZED(12345)
        m.rEnum = [.UNRECOGNIZED(-9), .red]
        let back = try AllKinds(serializedBytes: m.serializedBytes())
        XCTAssertEqual(back.fEnum, .UNRECOGNIZED(12345))
        XCTAssertEqual(back.rEnum, [.UNRECOGNIZED(-9), .red])
    }

    func testInvalidUTF8IsADecodingErrorNamingTheField() {
        // field 14 (f_string), length 2, bytes C3 28: not UTF-8.
        let bytes: [UInt8] = [0x72, 0x02, 0xC3, 0x28]
        XCTAssertThrowsError(try AllKinds(serializedBytes: bytes)) { e in
            XCTAssertEqual(e as? ProtoDecodingError, .invalidUTF8(field: "f_string"))
        }
    }

    func testANULInsideAStringIsAnErrorNamingTheField() throws {
        // protobuf-c would hand back "ab" for "ab\0cd": every decoder refuses it instead.
        var m = AllKinds()
        m.fString = "abcd"
        var bytes = m.serializedBytes()
        let at = bytes.firstIndex(of: UInt8(ascii: "c"))!
        bytes[at] = 0
        XCTAssertThrowsError(try AllKinds(serializedBytes: bytes)) { e in
            XCTAssertEqual(e as? ProtoDecodingError, .nulCharacter(field: "f_string"))
            XCTAssertEqual(RPCError.from(e).code, .invalidArgument)
        }
        // Nested, in a repeated field, in a map key: named by their path.
        for (text, make) in [("f_message.name", { (s: String) -> AllKinds in var k = AllKinds(); var i = Xieshang_Testing_V1_Inner(); i.name = s; k.fMessage = i; return k }),
                             ("r_string", { (s: String) -> AllKinds in var k = AllKinds(); k.rString = ["fine", s]; return k }),
                             ("m_string_int32.key", { (s: String) -> AllKinds in var k = AllKinds(); k.mStringInt32 = [s: 1]; return k })] {
            var b = make("xy").serializedBytes()
            b[b.lastIndex(of: UInt8(ascii: "y"))!] = 0
            XCTAssertThrowsError(try AllKinds(serializedBytes: b), text) { e in
                guard case .nulCharacter(let field)? = e as? ProtoDecodingError else { return XCTFail("\(text): \(e)") }
                XCTAssertTrue(field.hasPrefix(text), "\(field) names \(text)")
            }
        }
        // Zero bytes elsewhere (numbers, bytes fields) are fine.
        var ok = AllKinds()
        ok.fInt32 = 0
        ok.fBytes = [0, 0, 1]
        ok.fString = "中文"
        XCTAssertEqual(try AllKinds(serializedBytes: ok.serializedBytes()), ok)
    }

    func testTruncatedBytesAreMalformed() {
        let bytes = Array(AllKindsFixture.canonical.serializedBytes().dropLast(3))
        XCTAssertThrowsError(try AllKinds(serializedBytes: bytes)) { e in
            XCTAssertEqual(e as? ProtoDecodingError, .malformed(message: "xieshang.testing.v1.AllKinds"))
        }
    }

    func testLargeRepeatedAndBytes() throws {
        var m = AllKinds()
        m.fBytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0) }
        m.rInt64 = (0..<50_000).map { Int64($0) * -7 }
        m.rString = (0..<2_000).map { "委员\($0)" }
        XCTAssertEqual(try AllKinds(serializedBytes: m.serializedBytes()), m)
    }
}

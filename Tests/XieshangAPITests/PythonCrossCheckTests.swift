import Foundation
import XCTest
import XieshangAPI
import XieshangRPC

/// Bytes written by Python protobuf decode to the same Swift value, and the reverse.
final class PythonCrossCheckTests: XCTestCase {
    typealias AllKinds = Xieshang_Testing_V1_AllKinds

    var fixtureScript: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Python/kinds_fixture.py")
    }

    func python(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", fixtureScript.path] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func tempFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("allkinds-\(UUID().uuidString).bin")
    }

    func testPythonBytesDecodeToTheCanonicalSwiftValue() throws {
        let path = tempFile()
        defer { try? FileManager.default.removeItem(at: path) }
        let r = try python(["write", path.path])
        XCTAssertEqual(r.status, 0, r.output)
        let bytes = [UInt8](try Data(contentsOf: path))
        let decoded = try AllKinds(serializedBytes: bytes)
        let expected = AllKindsFixture.canonical
        XCTAssertEqual(decoded, expected)
        XCTAssertEqual(decoded.maybeCount, 0)
        XCTAssertNil(decoded.maybeNote)
    }

    func testSwiftBytesDecodeToTheCanonicalPythonValue() throws {
        let path = tempFile()
        defer { try? FileManager.default.removeItem(at: path) }
        try Data(AllKindsFixture.canonical.serializedBytes()).write(to: path)
        let r = try python(["check", path.path])
        XCTAssertEqual(r.status, 0, r.output)
    }

    func testPythonRejectsAChangedValue() throws {
        // The check is real: a value that differs in one field must fail it.
        var m = AllKindsFixture.canonical
        m.rString[0] = "协商 "
        let path = tempFile()
        defer { try? FileManager.default.removeItem(at: path) }
        try Data(m.serializedBytes()).write(to: path)
        XCTAssertNotEqual(try python(["check", path.path]).status, 0)
    }
}

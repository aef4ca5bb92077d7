import XCTest
import XieshangRPC

/// Fails unless `body` throws an RPCError with `code` (and, when given, a message containing `mentioning`).
public func assertStatus(_ code: StatusCode, mentioning: String? = nil, _ what: String, file: StaticString = #filePath, line: UInt = #line,
                  _ body: () async throws -> Void) async {
    do {
        try await body()
        XCTFail("\(what): expected \(code), the call succeeded", file: file, line: line)
    } catch let e as RPCError {
        XCTAssertEqual(e.code, code, "\(what): \(e)", file: file, line: line)
        if let m = mentioning { XCTAssertTrue(e.message.contains(m), "\(what): '\(e.message)' does not mention '\(m)'", file: file, line: line) }
    } catch {
        XCTFail("\(what): \(error)", file: file, line: line)
    }
}

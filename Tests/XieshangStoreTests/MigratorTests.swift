import Foundation
import XCTest
@testable import XieshangStore

/// Upgrading an existing schema is reported migration by migration; creating one is silent.
final class MigratorTests: XCTestCase {
    func testUpgradesAreReported() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xieshang-store-tests")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let conn = try SQLiteConnection(path: dir.appendingPathComponent("migrator_\(UInt32.random(in: 0...UInt32.max)).sqlite3").path, readOnly: false)
        var lines: [String] = []
        var migrator = Migrator(connection: conn)
        migrator.log = { lines.append($0) }
        let v1 = Migration(version: 1, name: "one", script: "CREATE TABLE a (x BIGINT);")
        let v2 = Migration(version: 2, name: "two", script: "CREATE TABLE b (x BIGINT);")
        try migrator.run([("t", [v1])])
        XCTAssertEqual(lines, [], "a new schema is created silently")
        try migrator.run([("t", [v1, v2])])
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines.first, "t: migrating the schema to version 2 (two)…")
        XCTAssertTrue(lines.last?.hasPrefix("t: version 2 applied in ") ?? false, lines.last ?? "")
        try migrator.run([("t", [v1, v2])])
        XCTAssertEqual(lines.count, 2, "nothing to do, nothing said")
    }
}

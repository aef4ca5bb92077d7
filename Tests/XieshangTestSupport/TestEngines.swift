import Foundation
import XCTest
import XieshangStore

/// The engines every store test runs on: a fresh SQLite file, and a fresh schema on the PostgreSQL
/// server named by `XIESHANG_TEST_POSTGRES_URL` (the test script starts one; with
/// `XIESHANG_REQUIRE_POSTGRES=1` a missing server fails the test instead of skipping that engine).
public enum TestEngines {
    public static var postgresURL: String? {
        let url = ProcessInfo.processInfo.environment["XIESHANG_TEST_POSTGRES_URL"] ?? ""
        return url.isEmpty ? nil : url
    }

    public static var postgresRequired: Bool {
        ProcessInfo.processInfo.environment["XIESHANG_REQUIRE_POSTGRES"] == "1"
    }

    /// A configuration per engine, each isolated from every other test.
    public static func configurations(_ name: String) throws -> [DatabaseConfiguration] {
        let tag = "\(name)_\(UInt32.random(in: 0...UInt32.max))"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xieshang-store-tests")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var out = [DatabaseConfiguration(engine: .sqlite(path: dir.appendingPathComponent("\(tag).sqlite3").path))]
        if let url = postgresURL {
            out.append(DatabaseConfiguration(engine: .postgres(conninfo: url, schema: "t_\(tag)".lowercased())))
        } else if postgresRequired {
            XCTFail("XIESHANG_TEST_POSTGRES_URL is not set but XIESHANG_REQUIRE_POSTGRES=1")
        }
        return out
    }

    /// Runs `body` once per engine with a harness `make` builds over that engine's configuration,
    /// closing it afterwards (also when `body` fails, which is reported with the engine's name).
    public static func each<H>(
        _ name: String, make: (DatabaseConfiguration) async throws -> H, close: (H) async -> Void,
        _ body: (H) async throws -> Void
    ) async throws {
        for config in try configurations(name) {
            let h = try await make(config)
            do { try await body(h) } catch {
                await close(h)
                throw EngineFailure(dialect: config.dialect, error: error)
            }
            await close(h)
        }
    }

    /// Runs `body` once per engine with a migrated database, closing it afterwards.
    public static func each(
        _ name: String, component: String = "test", migrations: [Migration] = [],
        _ body: (Database) async throws -> Void
    ) async throws {
        for config in try configurations(name) {
            let db = try Database(configuration: config)
            do {
                try await db.migrate(component: component, migrations)
                try await body(db)
            } catch {
                await db.close()
                throw EngineFailure(dialect: config.dialect, error: error)
            }
            await db.close()
        }
    }
}

/// A failure tagged with the engine it happened on.
public struct EngineFailure: Error, CustomStringConvertible {
    public let dialect: SQLDialect
    public let error: Error
    public init(dialect: SQLDialect, error: Error) {
        self.dialect = dialect
        self.error = error
    }
    public var description: String { "[\(dialect)] \(error)" }
}

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

/// What PostgreSQL reports of a table's maintenance, for tests of statistics refreshes.
public enum PostgresMaintenance {
    /// How often `table` (in the connection's schema) was vacuumed or analysed.
    public static func count(of table: String, in db: Database) async throws -> Int64 {
        try await db.read { conn in
            try conn.query("SELECT vacuum_count + analyze_count AS n FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ?",
                           [.text(table)]).first?.int("n") ?? 0
        }
    }

    /// ``count(of:in:)`` once it is above zero, waiting up to `seconds`: the statistics collector
    /// reports with a delay (and a refresh may run in the background). Zero when it never was.
    public static func awaitCount(of table: String, in db: Database, seconds: Double = 10) async throws -> Int64 {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let n = try await count(of: table, in: db)
            if n > 0 || Date() > deadline { return n }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
    }

    /// The row count the planner assumes for `table` (-1 before any analysis).
    public static func plannedRows(of table: String, in db: Database) async throws -> Int64 {
        try await db.read { try $0.query("SELECT reltuples::bigint AS n FROM pg_class WHERE oid = ?::regclass", [.text(table)]).first?.int("n") ?? -1 }
    }
}

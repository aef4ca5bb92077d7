import XCTest
import XieshangStore
import XieshangTestSupport

final class DatabaseTests: XCTestCase {
    static let table = [Migration(version: 1, name: "things", script: """
        CREATE TABLE things (
            id {{ID}},
            committee_id BIGINT NOT NULL,
            name TEXT NOT NULL,
            score REAL,
            data {{BLOB}},
            UNIQUE (committee_id, name)
        );
        """)]

    func testValuesRoundTripOnBothEngines() async throws {
        let names = ["张三", "欧阳娜娜", "𠮷野家 🎉", "O'Brien \"q\" ?", ""]
        let blob: [UInt8] = [0, 1, 2, 0xff, 0, 0x5c, 0x78]
        try await TestEngines.each("values", migrations: Self.table) { db in
            for (i, name) in names.enumerated() {
                try await db.write { tx in
                    try tx.execute("INSERT INTO things (committee_id, name, score, data) VALUES (?, ?, ?, ?)",
                                   [.integer(Int64.max - Int64(i)), .text(name), .real(-0.125 * Double(i)),
                                    i == 0 ? .null : .blob(i == 1 ? [] : blob)])
                }
            }
            let rows = try await db.read { try $0.query("SELECT * FROM things ORDER BY id", []) }
            XCTAssertEqual(rows.map { $0.text("name") }, names)
            XCTAssertEqual(rows.map { $0.int("committee_id") }, (0..<5).map { Int64.max - Int64($0) })
            XCTAssertEqual(rows[3]["score"], .real(-0.375))
            XCTAssertEqual(rows[0]["data"], .null)
            XCTAssertEqual(rows[2].blob("data"), blob)
            // Question marks inside literals are not placeholders.
            let q = try await db.read { try $0.query("SELECT name FROM things WHERE name LIKE '%?%' AND name <> ?", [.text("x")]) }
            XCTAssertEqual(q.map { $0.text("name") }, ["O'Brien \"q\" ?"])
            // Chinese text matches by substring.
            let like = try await db.read { try $0.query("SELECT name FROM things WHERE name LIKE ?", [.text("%娜%")]) }
            XCTAssertEqual(like.map { $0.text("name") }, ["欧阳娜娜"])
            let n = try await db.read { try $0.query("SELECT COUNT(*) AS n FROM things", []) }
            XCTAssertEqual(n.first?.int("n"), 5)
        }
    }

    func testUniqueViolationIsReportedAndRolledBack() async throws {
        try await TestEngines.each("unique", migrations: Self.table) { db in
            try await db.write { tx in
                try tx.execute("INSERT INTO things (committee_id, name) VALUES (?, ?)", [.integer(1), .text("甲")])
            }
            do {
                try await db.write { tx in
                    try tx.execute("INSERT INTO things (committee_id, name) VALUES (?, ?)", [.integer(1), .text("乙")])
                    try tx.execute("INSERT INTO things (committee_id, name) VALUES (?, ?)", [.integer(1), .text("甲")])
                }
                XCTFail("duplicate accepted on \(db.dialect)")
            } catch let e as StoreError {
                guard case .uniqueViolation = e else { return XCTFail("\(db.dialect): \(e)") }
            }
            let names = try await db.read { try $0.query("SELECT name FROM things ORDER BY name", []).map { $0.text("name") } }
            XCTAssertEqual(names, ["甲"], "the transaction's first insert must be rolled back too")
            // Another committee may use the same name.
            try await db.write { tx in
                try tx.execute("INSERT INTO things (committee_id, name) VALUES (?, ?)", [.integer(2), .text("甲")])
            }
        }
    }

    func testThrowingBodyRollsBackRowsAndEvents() async throws {
        struct Refused: Error {}
        try await TestEngines.each("rollback", migrations: Self.table) { db in
            do {
                try await db.write { tx in
                    try tx.execute("INSERT INTO things (committee_id, name) VALUES (?, ?)", [.integer(1), .text("x")])
                    tx.emit(.sample(committee: 1, id: "1"))
                    throw Refused()
                }
            } catch is Refused {}
            let count = try await db.read { try $0.query("SELECT COUNT(*) AS n FROM things", [])[0].int("n") }
            XCTAssertEqual(count, 0)
            let events = try await db.read { try EventLog.read(on: $0, after: 0, committees: nil, kinds: [], limit: 10) }
            XCTAssertEqual(events, [])
            let head = try await db.read { try EventLog.head(on: $0) }
            XCTAssertEqual(head, 0, "a rolled-back transaction must not consume sequence numbers")
        }
    }

    func testMigrationsRunOnceAndRefuseANewerSchema() async throws {
        for config in try TestEngines.configurations("migrate") {
            let v2 = Self.table + [Migration(version: 2, name: "index", script: "CREATE INDEX things_name ON things (name);")]
            var db = try Database(configuration: config)
            try await db.migrate(component: "test", v2)
            try await db.migrate(component: "test", v2)  // idempotent
            let versions = try await db.read {
                try $0.query("SELECT component, version FROM schema_migrations ORDER BY component, version", [])
                    .map { "\($0.text("component"))/\($0.int("version"))" }
            }
            XCTAssertEqual(versions, ["eventlog/1", "test/1", "test/2"], "\(config.dialect)")
            await db.close()
            db = try Database(configuration: config)
            do {
                try await db.migrate(component: "test", Self.table)
                XCTFail("an older build migrated a newer schema on \(config.dialect)")
            } catch let e as StoreError {
                XCTAssertTrue(e.description.contains("newer"), "\(e)")
            }
            await db.close()
        }
    }

    /// Migration spellings: a key's carried columns are PostgreSQL's `INCLUDE`, nothing on SQLite;
    /// a table with one is created and used on both engines.
    func testIncludeSpelling() async throws {
        let script = "CREATE TABLE t (a BIGINT NOT NULL, b BIGINT NOT NULL, PRIMARY KEY (a){{INCLUDE(b)}}) {{WITHOUT_ROWID}};"
        XCTAssertEqual(SQLDialect.postgres.expand(script), "CREATE TABLE t (a BIGINT NOT NULL, b BIGINT NOT NULL, PRIMARY KEY (a) INCLUDE (b)) ;")
        XCTAssertEqual(SQLDialect.sqlite.expand(script), "CREATE TABLE t (a BIGINT NOT NULL, b BIGINT NOT NULL, PRIMARY KEY (a)) WITHOUT ROWID;")
        XCTAssertEqual(SQLDialect.sqlite.expand("x {{INCLUDE(b)}} y {{INCLUDE(c, d)}} z"), "x  y  z")
        try await TestEngines.each("include", migrations: [Migration(version: 1, name: "t", script: script)]) { db in
            try await db.write { try $0.execute("INSERT INTO t (a, b) VALUES (1, 2)", []) }
            let b = try await db.read { try $0.query("SELECT b FROM t WHERE a = 1", []).first?.int("b") }
            XCTAssertEqual(b, 2)
        }
    }

    /// `genericPlans` sets PostgreSQL's plan cache mode on every connection of the pool; without
    /// it the server's default stays.
    func testGenericPlansOnPostgres() async throws {
        for var config in try TestEngines.configurations("plans") where config.dialect == .postgres {
            for generic in [true, false] {
                config.genericPlans = generic
                let db = try Database(configuration: config)
                let modes = try await withThrowingTaskGroup(of: String.self) { group in
                    // Two reads at once: both connections of the pool answer.
                    for _ in 0..<2 {
                        group.addTask { try await db.read { c in
                            _ = try c.query("SELECT pg_sleep(0.05)", [])
                            return try c.query("SHOW plan_cache_mode", []).first?.text("plan_cache_mode") ?? ""
                        } }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                await db.close()
                XCTAssertEqual(modes, Array(repeating: generic ? "force_generic_plan" : "auto", count: 2))
            }
        }
    }

    /// Two processes on one PostgreSQL schema (two Database objects here): a commit of events
    /// through one reaches the other's notifier by LISTEN/NOTIFY, not by its poll (which only
    /// times a wait out and publishes nothing), and another schema hears nothing.
    func testCommitsWakeTheOtherProcessesOnPostgres() async throws {
        for config in try TestEngines.configurations("listen") where config.dialect == .postgres {
            guard case .postgres(let conninfo, let schema) = config.engine else { continue }
            let writer = try Database(configuration: config), reader = try Database(configuration: config)
            let other = try Database(configuration: DatabaseConfiguration(engine: .postgres(conninfo: conninfo, schema: schema + "_other")))
            try await writer.migrate(component: "test", [])
            try await other.migrate(component: "test", [])
            // The listeners connect on their own threads.
            for _ in 0..<100 where !(reader.listening && other.listening) { try await Task.sleep(nanoseconds: 50_000_000) }
            XCTAssertTrue(reader.listening)
            XCTAssertEqual(reader.pollInterval, 1)
            let before = reader.notifier.head
            try await writer.write { tx in tx.emit(.sample(committee: 1, id: "1")) }
            let head = try await writer.read { try EventLog.head(on: $0) }
            await reader.notifier.wait(after: before, timeout: 10)
            XCTAssertEqual(reader.notifier.head, head)
            XCTAssertEqual(other.notifier.head, 0)
            for db in [writer, reader, other] { await db.close() }
        }
    }

    /// SQLite's writer runs in WAL mode with full syncs and checkpoints every 4,096 pages.
    func testSQLiteWriterSettings() async throws {
        for config in try TestEngines.configurations("writer") where config.dialect == .sqlite {
            let db = try Database(configuration: config)
            let settings = try await db.write { tx in
                try ["journal_mode", "synchronous", "wal_autocheckpoint"].map { try tx.query("PRAGMA \($0)", []).first?[0] }
            }
            await db.close()
            XCTAssertEqual(settings.map { $0?.string ?? $0?.int64.map(String.init) }, ["wal", "2", "4096"])
        }
    }

    func testConfigurationURLs() throws {
        XCTAssertEqual(try DatabaseConfiguration.parse(url: "", service: "directory", dataDirectory: "./data/").engine,
                       .sqlite(path: "./data/directory.sqlite3"))
        XCTAssertEqual(try DatabaseConfiguration.parse(url: "sqlite:/tmp/x.db", service: "d", dataDirectory: "").engine,
                       .sqlite(path: "/tmp/x.db"))
        XCTAssertEqual(try DatabaseConfiguration.parse(url: "postgres://u@h:5/db", service: "intake", dataDirectory: "").engine,
                       .postgres(conninfo: "postgres://u@h:5/db", schema: "intake"))
        XCTAssertThrowsError(try DatabaseConfiguration.parse(url: "mysql://x", service: "d", dataDirectory: ""))
    }

    func testUnreachablePostgresIsAConnectionError() throws {
        let config = DatabaseConfiguration(engine: .postgres(conninfo: "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", schema: "x"))
        XCTAssertThrowsError(try Database(configuration: config)) { error in
            guard case StoreError.connection = error else { return XCTFail("\(error)") }
        }
    }
}

extension EventDraft {
    static func sample(committee: Int64, id: String, type: String = "thing.created") -> EventDraft {
        EventDraft(committeeID: committee, entityKind: "thing", entityID: id, eventType: type, actorAccountID: 7,
                   actorName: "王芳", atMilliseconds: 1_700_000_000_000, payloadType: "test.Thing",
                   before: [], after: Array("名字 \(id)".utf8))
    }
}

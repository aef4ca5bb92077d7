import Foundation

/// Brings a database's schema up to date: one row per applied migration in `schema_migrations`.
/// PostgreSQL takes an advisory lock so that processes starting together migrate one at a time.
/// Upgrading an existing schema says so on standard error, migration by migration (some rebuild
/// large tables before the service opens its port).
struct Migrator {
    let connection: SQLConnection
    var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    func run(_ components: [(String, [Migration])]) throws {
        let conn = connection
        if conn.dialect == .postgres { try conn.executeScript("SELECT pg_advisory_lock(7263541)") }
        defer { if conn.dialect == .postgres { try? conn.executeScript("SELECT pg_advisory_unlock(7263541)") } }
        try conn.executeScript("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                component TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL,
                applied_at_ms BIGINT NOT NULL, PRIMARY KEY (component, version))
            """)
        for (component, migrations) in components {
            let applied = Set(try conn.query("SELECT version FROM schema_migrations WHERE component = ?",
                                             [.text(component)]).map { Int($0.int("version")) })
            let known = Set(migrations.map(\.version))
            if let newer = applied.subtracting(known).max(), newer > (known.max() ?? 0) {
                throw StoreError.configuration(message:
                    "\(component) schema is at version \(newer), newer than this build knows (\(known.max() ?? 0))")
            }
            for m in migrations.sorted(by: { $0.version < $1.version }) where !applied.contains(m.version) {
                // A new schema is created silently; an existing one is being upgraded.
                let started = Date()
                if !applied.isEmpty { log("\(component): migrating the schema to version \(m.version) (\(m.name))…") }
                try conn.executeScript(conn.dialect == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN")
                do {
                    try conn.executeScript(conn.dialect.expand(m.script))
                    try conn.execute("INSERT INTO schema_migrations (component, version, name, applied_at_ms) VALUES (?, ?, ?, ?)",
                                     [.text(component), .integer(Int64(m.version)), .text(m.name),
                                      .integer(Clock.nowMilliseconds())])
                    try conn.executeScript("COMMIT")
                    if !applied.isEmpty {
                        log("\(component): version \(m.version) applied in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
                    }
                } catch {
                    try? conn.executeScript("ROLLBACK")
                    throw error
                }
            }
        }
    }
}

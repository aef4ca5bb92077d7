import XieshangAPI
import XieshangKit
import XieshangStore

/// The directory's persistence: every read and write of its tables, always within one committee.
/// Handlers call it and never see SQL or know which engine is underneath.
public struct DirectoryStore: EntityStore {
    /// The database (SQLite file or PostgreSQL schema).
    public let database: Database

    /// A store over `database`; call ``migrate()`` before use.
    public init(database: Database) {
        self.database = database
    }

    /// Brings the tables up to date.
    public func migrate() async throws {
        try await database.migrate(component: "directory", DirectoryMigrations.all)
    }

    // MARK: Generic records

    /// Stores a new record of `committee` after `check` (reference checks) passes in the same transaction.
    public func create<E: StoredEntity & Validatable>(
        _ record: E, committee: Int64, actor: Actor,
        check: @escaping @Sendable (E, SQLConnection) throws -> Void = { _, _ in }
    ) async throws -> E {
        var r = try record.validated()
        r.committeeId = committee
        let ready = r
        return try await database.write { tx in
            try check(ready, tx.connection)
            return try EntityTable<E>().insert(ready, in: tx, actor: actor)
        }
    }

    /// Replaces a record of `committee` at the version the caller read.
    public func update<E: StoredEntity & Validatable>(
        _ record: E, committee: Int64, actor: Actor,
        check: @escaping @Sendable (E, E, SQLConnection) throws -> Void = { _, _, _ in }
    ) async throws -> E {
        guard record.id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        guard record.version > 0 else { throw DomainError.invalid(field: "version", message: "required: the version you read") }
        var r = try record.validated()
        r.committeeId = committee
        let ready = r
        return try await database.write { tx in
            let current = try EntityTable<E>().get(ready.id, committee: committee, on: tx.connection)
            try check(current, ready, tx.connection)
            return try EntityTable<E>().update(ready, in: tx, actor: actor)
        }
    }

    // MARK: Committees

    /// Creates a committee (its own tenant).
    public func createCommittee(_ committee: Xieshang_Directory_V1_Committee, actor: Actor) async throws -> Xieshang_Directory_V1_Committee {
        let c = try committee.validated()
        return try await database.write { tx in
            if c.parentId != 0 {
                guard let parent = try EntityTable<Xieshang_Directory_V1_Committee>().find(c.parentId, committee: c.parentId, on: tx.connection),
                      parent.level == .prefecture else {
                    throw DomainError.invalid(field: "parent_id", message: "no prefecture committee \(c.parentId)")
                }
            }
            let stored = try EntityTable<Xieshang_Directory_V1_Committee>().insert(c, in: tx, actor: actor)
            try tx.execute("UPDATE committees SET committee_id = id WHERE id = ?", [.integer(stored.id)])
            return stored
        }
    }

    /// A committee and, for a prefecture, its counties.
    public func committees(visibleTo committee: Int64, page: PageRequest, query: String) async throws -> Page<Xieshang_Directory_V1_Committee> {
        var filter = SQLFilter()
        filter.add("(id = ? OR parent_id = ?)", .integer(committee), .integer(committee))
        filter.contains(["name", "code"], query)
        let scoped = filter
        return try await database.read { try EntityTable<Xieshang_Directory_V1_Committee>().page(where: scoped, page: page, on: $0) }
    }

    /// Whether `child` is `committee` itself or one of its counties.
    public func committee(_ committee: Int64, oversees child: Int64) async throws -> Bool {
        if committee == child { return true }
        return try await database.read {
            try !$0.query("SELECT 1 AS x FROM committees WHERE id = ? AND parent_id = ?", [.integer(child), .integer(committee)]).isEmpty
        }
    }
}

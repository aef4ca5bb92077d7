import XieshangStore

/// A service's store: the reads every service makes of its ``StoredEntity`` tables, always within
/// one committee. Stores add their own writes and queries.
public protocol EntityStore: Sendable {
    /// The database (SQLite file or PostgreSQL schema).
    var database: Database { get }
}

extension EntityStore {
    /// A record of `committee`; NOT_FOUND otherwise.
    public func get<E: StoredEntity>(_ type: E.Type, id: Int64, committee: Int64) async throws -> E {
        try await database.read { try EntityTable<E>().get(id, committee: committee, on: $0) }
    }

    /// A page of `committee`'s records matching `filter`.
    public func list<E: StoredEntity>(_ type: E.Type, committee: Int64, filter: SQLFilter, page: PageRequest) async throws -> Page<E> {
        try await database.read { try EntityTable<E>().list(committee: committee, where: filter, page: page, on: $0) }
    }

    /// Every record of `committee` matching `filter`.
    public func all<E: StoredEntity>(_ type: E.Type, committee: Int64, filter: SQLFilter = SQLFilter()) async throws -> [E] {
        try await database.read { try EntityTable<E>().all(committee: committee, where: filter, on: $0) }
    }
}

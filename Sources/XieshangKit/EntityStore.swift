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

    /// Stores a new record of `committee`.
    public func create<E: StoredEntity>(_ record: E, committee: Int64, actor: Actor) async throws -> E {
        try await database.write { tx in
            var r = record
            r.committeeId = committee
            return try EntityTable<E>().insert(r, in: tx, actor: actor)
        }
    }

    /// Reads record `id`, checks `version` (unless 0), lets `change` edit it and stores it.
    public func change<E: StoredEntity>(_ type: E.Type, _ id: Int64, version: Int64, committee: Int64, actor: Actor, eventType: String,
                                        _ change: @escaping @Sendable (inout E, Transaction) throws -> Void) async throws -> E {
        guard id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        return try await database.write { tx in
            try EntityTable<E>().change(id, version: version, committee: committee, in: tx, actor: actor) { current in
                var next = current
                try change(&next, tx)
                return (next, eventType)
            }.after
        }
    }
}

import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// The directory's RPC handlers: authorisation and request shapes here, persistence in
/// ``DirectoryStore``, rules in the Domain folder.
public struct DirectoryService: Sendable {
    /// Persistence.
    public let store: DirectoryStore
    /// Password hashing and token secrets.
    public let secrets: Secrets
    /// The event log as Watch/History.
    public let feed: EventFeed

    /// A service over a migrated store.
    public init(store: DirectoryStore, secrets: Secrets) {
        self.store = store
        self.secrets = secrets
        self.feed = EventFeed(database: store.database)
    }

    func admin(_ context: ServerContext, to action: String = "changing the directory") throws -> Caller {
        let caller = try Caller(context: context)
        try caller.require(.committeeAdmin, to: action)
        return caller
    }

    func reader(_ context: ServerContext) throws -> Caller {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading the directory")
        return caller
    }

    /// Filters shared by the reference lists: name contains `query`, archived ones only on request.
    func baseFilter(query: String, includeArchived: Bool, archivedColumn: String = "archived", nameColumns: [String] = ["name"]) -> SQLFilter {
        var f = SQLFilter()
        if !includeArchived { f.add("\(archivedColumn) = 0") }
        f.contains(nameColumns, query)
        return f
    }

    func page<E: StoredEntity>(_ type: E.Type, _ caller: Caller, _ request: Xieshang_Directory_V1_ListRequest) async throws -> Page<E> {
        try await store.list(E.self, committee: caller.committeeID,
                             filter: baseFilter(query: request.query, includeArchived: request.includeArchived),
                             page: PageRequest(size: request.pageSize, token: request.pageToken))
    }

    func csvResponse(_ bytes: [UInt8], rows: Int) -> Xieshang_Directory_V1_CsvFile {
        var f = Xieshang_Directory_V1_CsvFile()
        f.csv = bytes
        f.rows = Int32(rows)
        return f
    }

    func importResponse(_ o: ImportOutcome) -> Xieshang_Directory_V1_ImportResponse {
        var r = Xieshang_Directory_V1_ImportResponse()
        r.created = Int32(o.created)
        r.updated = Int32(o.updated)
        r.errors = o.errors.map {
            var e = Xieshang_Directory_V1_RowError()
            e.row = Int32($0.row)
            e.column = $0.column
            e.message = $0.message
            return e
        }
        return r
    }

    static func date(_ text: String, field: String) throws -> CivilDate {
        guard let d = CivilDate(text) else { throw DomainError.invalid(field: field, message: "'\(text)' is not a YYYY-MM-DD date") }
        return d
    }
}

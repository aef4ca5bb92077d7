import XieshangRPC
import XieshangStore

/// A record kept in its own table: id, committee, version, a few columns for filters and unique
/// keys, and the whole message as protobuf bytes in `body`.
public protocol StoredEntity: ProtoMessage {
    /// The entity kind in events and errors, e.g. `member`.
    static var entityKind: String { get }
    /// The table.
    static var table: String { get }
    /// Its id (assigned on insert).
    var id: Int64 { get set }
    /// Its committee (tenant).
    var committeeId: Int64 { get set }
    /// Bumped by every update; updates must name the version they saw.
    var version: Int64 { get set }
    /// The columns kept beside the body, always in the same order.
    var indexColumns: [(String, SQLValue)] { get }
}

/// Who makes a change, as recorded in events.
public struct Actor: Sendable, Equatable {
    /// The account (0: the system).
    public var accountID: Int64
    /// Display name at the time.
    public var name: String

    /// An actor.
    public init(accountID: Int64, name: String) {
        self.accountID = accountID
        self.name = name
    }

    /// The system itself (migrations, seeding).
    public static let system = Actor(accountID: 0, name: "system")
}

extension Caller {
    /// The caller as the actor of a change.
    public var actor: Actor { Actor(accountID: principal.accountId, name: principal.displayName) }
}

/// `WHERE` clauses with their parameters, joined with AND.
public struct SQLFilter: Sendable {
    /// The clauses.
    public private(set) var clauses: [String] = []
    /// Their parameters in order.
    public private(set) var binds: [SQLValue] = []

    /// No conditions.
    public init() {}

    /// Adds a clause with `?` placeholders and their values.
    public mutating func add(_ clause: String, _ values: SQLValue...) {
        clauses.append(clause)
        binds += values
    }

    /// Adds every clause of `other`.
    public mutating func add(_ other: SQLFilter) {
        clauses += other.clauses
        binds += other.binds
    }

    /// Adds `column = value` when `value` is not zero (proto3's "not set").
    public mutating func equal(_ column: String, _ value: Int64) {
        if value != 0 { add("\(column) = ?", .integer(value)) }
    }

    /// Adds `column IN (values…)` when `values` is not empty.
    public mutating func any(_ column: String, _ values: [SQLValue]) {
        guard !values.isEmpty else { return }
        clauses.append("\(column) IN (" + values.map { _ in "?" }.joined(separator: ", ") + ")")
        binds += values
    }

    /// Adds a case-sensitive substring match over `columns` when `text` is not empty.
    public mutating func contains(_ columns: [String], _ text: String) {
        guard !text.isEmpty else { return }
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        clauses.append("(" + columns.map { "\($0) LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")")
        binds += columns.map { _ in .text("%\(escaped)%") }
    }

    /// Adds a match of `id` in a key-list column (see ``keyList(_:)``) when `id` is not zero.
    public mutating func hasKey(_ column: String, _ id: Int64) {
        if id != 0 { add("\(column) LIKE ?", .text("%,\(id),%")) }
    }

    /// A column value listing ids as `,3,17,` (sorted, zeros dropped), so ``hasKey(_:_:)`` finds one.
    public static func keyList(_ ids: [Int64]) -> String {
        let set = Set(ids.filter { $0 != 0 })
        return set.isEmpty ? "" : "," + set.sorted().map(String.init).joined(separator: ",") + ","
    }

    /// The clauses as ` AND …` to follow a WHERE condition (empty when none).
    public var sql: String { clauses.isEmpty ? "" : " AND " + clauses.joined(separator: " AND ") }
}

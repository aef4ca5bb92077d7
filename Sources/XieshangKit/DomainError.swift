import XieshangRPC
import XieshangStore

/// What a service refuses, in domain terms. Mapped to gRPC status codes here and nowhere else.
public enum DomainError: Error, Equatable, Sendable, RPCErrorConvertible {
    /// A field's value is not acceptable (INVALID_ARGUMENT, naming the field).
    case invalid(field: String, message: String)
    /// No such record in the caller's committee (NOT_FOUND; another committee's records too).
    case notFound(kind: String, id: String)
    /// A record with the same key exists (ALREADY_EXISTS, naming the field).
    case duplicate(kind: String, field: String, value: String)
    /// The record changed since the caller read it (ABORTED).
    case staleVersion(kind: String, id: String, expected: Int64, actual: Int64)
    /// The state does not allow it (FAILED_PRECONDITION).
    case notAllowed(String)
    /// No principal, or one that does not check out (UNAUTHENTICATED).
    case unauthenticated(String)
    /// The caller's roles do not allow it (PERMISSION_DENIED).
    case forbidden(String)

    public var rpcError: RPCError {
        switch self {
        case .invalid(let field, let message): return RPCError(.invalidArgument, "\(field): \(message)")
        case .notFound(let kind, let id): return RPCError(.notFound, "\(kind) \(id) not found")
        case .duplicate(let kind, let field, let value):
            return RPCError(.alreadyExists, "\(field): a \(kind) with \(field) '\(value)' already exists")
        case .staleVersion(let kind, let id, let expected, let actual):
            return RPCError(.aborted, "version: \(kind) \(id) is at version \(actual), not \(expected); read it again")
        case .notAllowed(let m): return RPCError(.failedPrecondition, m)
        case .unauthenticated(let m): return RPCError(.unauthenticated, m)
        case .forbidden(let m): return RPCError(.permissionDenied, m)
        }
    }
}

extension StoreError: RPCErrorConvertible {
    public var rpcError: RPCError {
        switch self {
        case .uniqueViolation(let constraint, _):
            return RPCError(.alreadyExists, "\(Self.field(ofConstraint: constraint)): already exists")
        case .constraintViolation(let m): return RPCError(.failedPrecondition, m)
        case .conflict: return RPCError(.aborted, "the change conflicted with another; try again")
        case .connection, .closed: return RPCError(.unavailable, "the database is unavailable")
        case .configuration(let m): return RPCError(.internal, m)
        case .engine: return RPCError(.internal, "database error")
        }
    }

    /// The field a unique constraint is about: `members_code_unique` (PostgreSQL, our index names)
    /// and `members.committee_id, members.code` (SQLite) both give `code`.
    public static func field(ofConstraint constraint: String) -> String {
        if constraint.contains(".") {
            let last = constraint.split(separator: ",").last.map(String.init) ?? constraint
            return last.split(separator: ".").last.map(String.init) ?? constraint
        }
        var name = constraint
        if name.hasSuffix("_unique") { name.removeLast("_unique".count) }
        if let i = name.firstIndex(of: "_") { name = String(name[name.index(after: i)...]) }
        return name
    }
}

/// Failures of the storage layer, by what a caller can do about them.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A unique constraint rejected the write; `constraint` names it (or its columns, on SQLite).
    case uniqueViolation(constraint: String, message: String)
    /// A foreign key or check constraint rejected the write.
    case constraintViolation(message: String)
    /// The write lost a race with another transaction (serialization failure, deadlock, busy); retryable.
    case conflict(message: String)
    /// The database could not be reached or the connection broke.
    case connection(message: String)
    /// The database configuration is unusable.
    case configuration(message: String)
    /// Anything else the engine reported.
    case engine(code: String, message: String)
    /// The store is shut down.
    case closed

    public var description: String {
        switch self {
        case .uniqueViolation(let c, let m): return "unique constraint \(c) violated: \(m)"
        case .constraintViolation(let m): return "constraint violated: \(m)"
        case .conflict(let m): return "transaction conflict: \(m)"
        case .connection(let m): return "database connection failed: \(m)"
        case .configuration(let m): return "database configuration: \(m)"
        case .engine(let c, let m): return "database error \(c): \(m)"
        case .closed: return "the store is closed"
        }
    }

    /// Whether running the transaction again may succeed.
    public var isRetryable: Bool {
        if case .conflict = self { return true }
        return false
    }
}

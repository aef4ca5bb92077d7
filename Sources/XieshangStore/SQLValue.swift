/// One value bound to or read from SQL, in the types both engines share.
public enum SQLValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The value as an integer (integers, whole reals, numeric text); nil otherwise.
    public var int64: Int64? {
        switch self {
        case .integer(let v): return v
        case .real(let d): return d.rounded() == d ? Int64(exactly: d) : nil
        case .text(let s): return Int64(s)
        default: return nil
        }
    }

    /// The value as text, if it is text.
    public var string: String? {
        if case .text(let s) = self { return s }
        return nil
    }

    /// The value as bytes (blobs, or the UTF-8 of text).
    public var bytes: [UInt8]? {
        switch self {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return nil
        }
    }
}

/// Swift values that bind as SQL parameters.
public protocol SQLBindable {
    /// The SQL value.
    var sqlValue: SQLValue { get }
}

extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Int32: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Array: SQLBindable where Element == UInt8 { public var sqlValue: SQLValue { .blob(self) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

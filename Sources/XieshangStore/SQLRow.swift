/// One result row: values by position, looked up by column name.
public struct SQLRow: Sendable {
    /// Column names, lower case as the engines report them.
    public let columns: [String]
    /// Values in column order.
    public let values: [SQLValue]

    /// A row of `values` named by `columns`.
    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of `column`, or `.null` when there is no such column.
    public subscript(column: String) -> SQLValue {
        guard let i = columns.firstIndex(of: column) else { return .null }
        return values[i]
    }

    /// The value at `index`.
    public subscript(index: Int) -> SQLValue { values[index] }

    /// An integer column; 0 for NULL.
    public func int(_ column: String) -> Int64 { self[column].int64 ?? 0 }

    /// A text column; "" for NULL.
    public func text(_ column: String) -> String { self[column].string ?? "" }

    /// A blob column; empty for NULL.
    public func blob(_ column: String) -> [UInt8] { self[column].bytes ?? [] }
}

/// One open connection; used by one thread at a time (the pool guarantees it).
public protocol SQLConnection: AnyObject {
    /// Which engine this is.
    var dialect: SQLDialect { get }

    /// Runs a statement with `?` placeholders and returns its rows (empty for statements without any).
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow]

    /// Runs a statement with `?` placeholders and returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int

    /// Runs several `;`-separated statements without parameters (migrations, transaction control).
    func executeScript(_ sql: String) throws

    /// Whether the connection is still usable; a broken one is dropped from the pool.
    var isHealthy: Bool { get }
}

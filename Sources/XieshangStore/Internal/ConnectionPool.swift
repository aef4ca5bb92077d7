import Foundation

/// Connections of one kind, opened on demand up to a limit and reused; a caller that finds them all
/// busy waits (callers are thread-pool threads, so waiting blocks only that thread).
final class ConnectionPool: @unchecked Sendable {
    private let factory: () throws -> SQLConnection
    private let limit: Int
    private let condition = NSCondition()
    private var idle: [SQLConnection] = []
    private var open = 0
    private var closed = false

    init(limit: Int, factory: @escaping () throws -> SQLConnection) {
        self.limit = max(1, limit)
        self.factory = factory
    }

    /// Runs `body` with a connection; a connection that broke is closed instead of returned.
    func withConnection<T>(_ body: (SQLConnection) throws -> T) throws -> T {
        let conn = try acquire()
        defer { release(conn) }
        return try body(conn)
    }

    private func acquire() throws -> SQLConnection {
        condition.lock()
        while true {
            if closed {
                condition.unlock()
                throw StoreError.closed
            }
            if let c = idle.popLast() {
                condition.unlock()
                return c
            }
            if open < limit {
                open += 1
                condition.unlock()
                do { return try factory() } catch {
                    condition.lock()
                    open -= 1
                    condition.signal()
                    condition.unlock()
                    throw error
                }
            }
            condition.wait()
        }
    }

    private func release(_ conn: SQLConnection) {
        condition.lock()
        if conn.isHealthy && !closed { idle.append(conn) } else { open -= 1 }
        condition.signal()
        condition.unlock()
    }

    /// Closes idle connections and refuses new acquisitions.
    func close() {
        condition.lock()
        closed = true
        open -= idle.count
        idle.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

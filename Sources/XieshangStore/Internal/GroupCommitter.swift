import NIOConcurrencyHelpers
import NIOPosix

/// Group commit for SQLite's single writer: write transactions that arrive while one is committing
/// are run together in the next transaction, each inside its own SAVEPOINT. A body that throws
/// rolls back to its savepoint and fails alone; the others commit with one fsync between them.
/// Each caller is answered only after the COMMIT that made its change durable, and events are
/// numbered in the order the bodies ran, which is commit order.
final class GroupCommitter: @unchecked Sendable {
    struct Job {
        /// Whether its commit must reach the disk before it is answered (see ``Database/write(durable:_:)``).
        let durable: Bool
        let run: (Transaction) throws -> Void
        let done: (Error?) -> Void
    }

    private let pool: ConnectionPool
    private let threads: NIOThreadPool
    private let notifier: EventNotifier
    private let maxBatch: Int
    private let state = NIOLockedValueBox<(queue: [Job], draining: Bool)>(([], false))
    /// The writer's `synchronous` setting as last set (groups run one at a time, in `drain`). A
    /// writer opened anew starts at FULL, so a stale value can only sync more, never less.
    private var synced: Bool?

    init(pool: ConnectionPool, threads: NIOThreadPool, notifier: EventNotifier, maxBatch: Int = 256) {
        self.pool = pool
        self.threads = threads
        self.notifier = notifier
        self.maxBatch = maxBatch
    }

    /// Runs `body` in the next group; returns its value once the group has committed.
    func write<T: Sendable>(durable: Bool = true, _ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let result = NIOLockedValueBox<T?>(nil)
            submit(Job(durable: durable, run: { tx in
                let value = try body(tx)
                result.withLockedValue { $0 = value }
            }, done: { error in
                if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: result.withLockedValue { $0! }) }
            }))
        }
    }

    private func submit(_ job: Job) {
        let start = state.withLockedValue { s -> Bool in
            s.queue.append(job)
            if s.draining { return false }
            s.draining = true
            return true
        }
        if start { threads.submit { _ in self.drain() } }
    }

    private func drain() {
        while true {
            let batch = state.withLockedValue { s -> [Job] in
                if s.queue.isEmpty {
                    s.draining = false
                    return []
                }
                let n = min(maxBatch, s.queue.count)
                let b = Array(s.queue.prefix(n))
                s.queue.removeFirst(n)
                return b
            }
            if batch.isEmpty { return }
            run(batch)
        }
    }

    private func run(_ batch: [Job]) {
        var outcomes: [Error?] = []
        var head: Int64?
        do {
            try pool.withConnection { conn in
                // A group is synced when any of its jobs must be (WAL: a group that is not stays
                // atomic and is lost only with the machine, never with the process).
                let durable = batch.contains(where: \.durable)
                if synced != durable {
                    try conn.executeScript(durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
                    synced = durable
                }
                try conn.executeScript("BEGIN IMMEDIATE")
                do {
                    for job in batch {
                        try conn.executeScript("SAVEPOINT job")
                        let tx = Transaction(connection: conn, nowMilliseconds: Clock.nowMilliseconds())
                        do {
                            try job.run(tx)
                            if !tx.pending.isEmpty { head = try EventLog.append(tx.pending, on: conn) }
                            try conn.executeScript("RELEASE job")
                            outcomes.append(nil)
                        } catch {
                            try conn.executeScript("ROLLBACK TO job; RELEASE job")
                            outcomes.append(error)
                        }
                    }
                    try conn.executeScript("COMMIT")
                } catch {
                    if conn.isHealthy { try? conn.executeScript("ROLLBACK") }
                    throw error
                }
            }
        } catch {
            for job in batch { job.done(error) }
            return
        }
        if let head { notifier.publish(head) }
        for (job, outcome) in zip(batch, outcomes) { job.done(outcome) }
    }
}

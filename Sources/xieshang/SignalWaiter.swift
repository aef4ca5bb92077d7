#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Waits for SIGINT or SIGTERM (Ctrl-C, container stop) so servers can shut down gracefully.
enum SignalWaiter {
    static func waitForTermination() async throws {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let box = Once(c)
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                s.setEventHandler { box.fire() }
                s.resume()
                sources.append(s)
            }
            box.keep(sources)
        }
    }

    private final class Once: @unchecked Sendable {
        private var c: CheckedContinuation<Void, Never>?
        private var sources: [DispatchSourceSignal] = []
        private let lock = DispatchQueue(label: "signal")
        init(_ c: CheckedContinuation<Void, Never>) { self.c = c }
        func keep(_ s: [DispatchSourceSignal]) { lock.sync { sources = s } }
        func fire() {
            lock.sync {
                c?.resume()
                c = nil
            }
        }
    }
}

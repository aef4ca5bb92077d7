import ArgumentParser
import Foundation
import XieshangKit

@main
struct XieshangBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xieshang-bench",
        abstract: "Load generators for the benchmarks (scripts/bench.sh runs them and writes BENCHMARKS.md).",
        subcommands: [GatewayBench.self, DirectoryBench.self, IntakeBench.self, IntakeLoad.self, ProposalBench.self, ConsultationBench.self, AnalyticsBench.self])
}

/// `concurrency` callers each calling `body` back to back for one second of warm-up and then
/// `seconds` measured; latencies of the measured calls.
struct ClosedLoop {
    var latencies: [UInt64]
    var errors: Int
    var seconds: Double
    var concurrency: Int

    static func run(concurrency: Int, seconds: Double,
                    _ body: @escaping @Sendable (_ worker: Int, _ n: Int) async throws -> Void) async throws -> ClosedLoop {
        let warmEnd = Date().addingTimeInterval(1)
        let end = warmEnd.addingTimeInterval(seconds)
        let (lat, errors) = try await withThrowingTaskGroup(of: ([UInt64], Int).self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var latencies: [UInt64] = []
                    latencies.reserveCapacity(100_000)
                    var errors = 0
                    var n = 0
                    while true {
                        let now = Date()
                        if now >= end { break }
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        do { try await body(worker, n) } catch {
                            // The first failure of each worker is said on standard error: a count alone does not say why.
                            if errors == 0 { FileHandle.standardError.write(Data("worker \(worker): \(error)\n".utf8)) }
                            errors += 1
                        }
                        n += 1
                        if now >= warmEnd { latencies.append(DispatchTime.now().uptimeNanoseconds - t0) }
                    }
                    return (latencies, errors)
                }
            }
            var all: [UInt64] = []
            var errors = 0
            for try await (l, e) in group {
                all += l
                errors += e
            }
            return (all.sorted(), errors)
        }
        return ClosedLoop(latencies: lat, errors: errors, seconds: seconds, concurrency: concurrency)
    }

    func percentile(_ p: Double) -> Double {
        latencies.isEmpty ? 0 : Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1e6
    }

    /// Requests, rate and latency percentiles.
    var figures: [String: Any] {
        let mean = latencies.isEmpty ? 0 : Double(latencies.reduce(0, +)) / Double(latencies.count) / 1e6
        return [
            "concurrency": concurrency, "seconds": seconds, "requests": latencies.count,
            "rps": Double(latencies.count) / seconds, "mean_ms": mean, "p50_ms": percentile(0.5), "p90_ms": percentile(0.9),
            "p99_ms": percentile(0.99), "max_ms": percentile(1.0), "errors": errors,
        ]
    }

    /// One JSON line: the figures plus `extra`.
    func print(_ extra: [String: Any]) throws {
        var out = figures
        out.merge(extra) { _, new in new }
        let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}

/// The services refuse unsigned principals: the bench signs its calls with the secret the
/// processes it drives were started with.
enum BenchSigning {
    static func install() throws {
        let secret = ProcessInfo.processInfo.environment["XIESHANG_PRINCIPAL_SECRET"] ?? defaultSecret
        PrincipalSigner.process = try PrincipalSigner(secret: secret)
    }

    /// What scripts/bench.sh exports when the environment names none.
    static let defaultSecret = "xieshang-bench-principal-secret"
}

import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import XieshangAnalytics
import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

/// `xieshang-bench analytics`: a generated prefecture year (about a million events) recorded into
/// four feed logs and served as the sources' `Watch`; analytics ingests it over HTTP/2 from an
/// empty projection (timed), then dashboards are asked for at a fixed concurrency.
struct AnalyticsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analytics",
        abstract: "Ingest a recorded prefecture year, then measure dashboard latency; prints one JSON line.")

    @Option(help: "Folder for the recorded feeds (SQLite).") var feeds: String
    @Option(help: "The analytics database: sqlite:PATH or postgres://… (schema --schema).") var database: String
    @Option(help: "PostgreSQL schema for analytics.") var schema = "analytics_bench"
    @Option(help: "Counties of the prefecture.") var counties = 10
    @Option(help: "Opinions per county (the bulk of the events).") var items = 10_000
    @Option(help: "Seconds the dashboard workload runs.") var seconds = 15.0
    @Option(help: "Concurrent dashboard callers.") var concurrency = 8
    @Flag(help: "Also time applying the generated events straight to a second store, without the feeds (where the time goes).") var direct = false
    @Option(help: "Dashboards asked for, in turn (county, prefecture, sector, town, station, member, county_odd_period).")
    var kinds = "county,prefecture,sector,town,station,member,county_odd_period"
    @Flag(help: "Keep the feeds and the projection a previous run left in --feeds and --database (SQLite): only the dashboards are measured.") var reuse = false

    func run() async throws {
        try BenchSigning.install()
        var feed = SyntheticFeed()
        feed.counties = counties
        feed.itemsPerCounty = items
        feed.proposalsPerCounty = items / 8
        feed.consultationsPerCounty = max(10, items / 70)
        // 1. Record the year into one log per source.
        var recorded: [Source: RecordedFeed] = [:]
        for source in Source.allCases {
            let path = (feeds as NSString).appendingPathComponent("\(source.rawValue).sqlite3")
            if !reuse { try? FileManager.default.removeItem(atPath: path) }
            let r = RecordedFeed(source: source, database: try Database(configuration: DatabaseConfiguration(engine: .sqlite(path: path))))
            try await r.migrate()
            recorded[source] = r
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        var pending: [Source: [Xieshang_Events_V1_Event]] = [:]
        var chunks: [(Source, [Xieshang_Events_V1_Event])] = []
        // Reusing: the recorded feeds and the projection are there already (nothing to generate).
        if !reuse {
            try feed.generate { source, e in
                pending[source, default: []].append(e)
                if pending[source]!.count == 5_000 {
                    chunks.append((source, pending[source]!))
                    pending[source] = []
                }
            }
        }
        for (s, list) in pending where !list.isEmpty { chunks.append((s, list)) }
        if !reuse { for (s, list) in chunks { try await recorded[s]!.append(list) } }
        var directRate = 0.0
        if direct {
            let path = (feeds as NSString).appendingPathComponent("direct.sqlite3")
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            let db = try Database(configuration: DatabaseConfiguration(engine: .sqlite(path: path)))
            let store = AnalyticsStore(database: db)
            try await store.migrate()
            let d0 = DispatchTime.now().uptimeNanoseconds
            var n = 0
            for source in Source.allCases {
                for (s, list) in chunks where s == source {
                    for start in stride(from: 0, to: list.count, by: 2000) {
                        n += try await store.apply(source, events: Array(list[start..<min(start + 2000, list.count)]))
                    }
                }
            }
            directRate = Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - d0) / 1e9)
            FileHandle.standardError.write("applied \(n) directly at \(Int(directRate))/s\n".data(using: .utf8)!)
            await db.close()
        }
        chunks.removeAll()
        let total = feed.truth.events.values.reduce(0, +)
        let recordSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        FileHandle.standardError.write("recorded \(total) events in \(String(format: "%.1f", recordSeconds)) s\n".data(using: .utf8)!)

        var sc = ServerConfiguration()
        sc.threads = 1
        sc.handlersOnEventLoop = false
        let feedServer = RPCServer(configuration: sc, services: Array(recorded.values))
        let feedPort = try await feedServer.start()
        let feedChannel = RPCChannel(host: "127.0.0.1", port: feedPort)

        // 2. Ingest from an empty projection.
        let config: DatabaseConfiguration
        if database.hasPrefix("sqlite:") {
            let path = String(database.dropFirst(7))
            if !reuse { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            config = DatabaseConfiguration(engine: .sqlite(path: path))
        } else {
            config = DatabaseConfiguration(engine: .postgres(conninfo: database, schema: schema))
        }
        let db = try Database(configuration: config)
        let store = AnalyticsStore(database: db)
        try await store.migrate()
        if !reuse { try await store.wipe() }
        let ingestor = Ingestor(store: store, channels: Dictionary(uniqueKeysWithValues: Source.allCases.map { ($0, feedChannel) }))
        let targets = feed.truth.events
        let i0 = DispatchTime.now().uptimeNanoseconds
        ingestor.start()
        var lastReport = i0
        while true {
            let positions = try await store.positions()
            if positions.allSatisfy({ $0.appliedSequence >= targets[$0.source, default: 0] }) { break }
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastReport > 5_000_000_000 {
                lastReport = now
                let applied = positions.reduce(Int64(0)) { $0 + $1.appliedSequence }
                FileHandle.standardError.write("ingested \(applied) of \(total)\n".data(using: .utf8)!)
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let ingestSeconds = Double(DispatchTime.now().uptimeNanoseconds - i0) / 1e9
        FileHandle.standardError.write("ingested \(total) events in \(String(format: "%.1f", ingestSeconds)) s\n".data(using: .utf8)!)

        // 3. Dashboards.
        let service = AnalyticsService(ingestor: ingestor, clock: { 1_790_000_000_000 })
        let apiServer = RPCServer(configuration: sc, services: [service])
        let apiPort = try await apiServer.start()
        let channel = RPCChannel(host: "127.0.0.1", port: apiPort)
        let client = Xieshang_Analytics_V1_AnalyticsServiceClient(channel: channel)
        @Sendable func leader(_ committee: Int64, prefecture: Bool = false) -> CallOptions {
            var p = Xieshang_Common_V1_Principal()
            p.committeeId = committee
            p.roles = [prefecture ? .prefectureAdmin : .leader]
            p.accountId = 1
            return CallOptions(metadata: Caller.metadata(for: p))
        }
        let kinds = self.kinds.split(separator: ",").map(String.init)
        let known: Set<String> = ["county", "prefecture", "sector", "town", "station", "member", "county_odd_period"]
        guard !kinds.isEmpty, kinds.allSatisfy(known.contains) else { throw ValidationError("--kinds lists \(known.sorted().joined(separator: ", "))") }
        let perKind = NIOLockedValueBox([String: [UInt64]]())
        let membersPerCounty = Int64(feed.membersPerCounty), towns = Int64(feed.townsPerCounty), stations = Int64(feed.stationsPerCounty)
        let counties = self.counties
        let run = try await ClosedLoop.run(concurrency: concurrency, seconds: seconds) { worker, n in
            var rng = SplitMix64(seed: UInt64(worker * 1_000_003 + n))
            let county = Int64(2 + Int(rng.next() % UInt64(counties)))
            let kind = kinds[n % kinds.count]
            var r = Xieshang_Analytics_V1_DashboardRequest()
            r.from = "2026-01-01"
            r.to = "2026-12-31"
            var options = leader(county)
            switch kind {
            case "prefecture": options = leader(1, prefecture: true)
            case "sector":
                r.scope = .sector
                r.scopeId = Int64(1 + rng.next() % 12)
            case "town":
                r.scope = .town
                r.scopeId = (county - 2) * towns + 1 + Int64(rng.next() % UInt64(towns))
            case "station":
                r.scope = .station
                r.scopeId = (county - 2) * stations + 1 + Int64(rng.next() % UInt64(stations))
            case "member":
                r.scope = .member
                r.scopeId = (county - 2) * membersPerCounty + 1 + Int64(rng.next() % UInt64(membersPerCounty))
            case "county_odd_period":
                r.from = "2026-02-10"
                r.to = "2026-09-20"
            default: break
            }
            let t = DispatchTime.now().uptimeNanoseconds
            _ = try await client.getDashboard(r, options: options)
            let spent = DispatchTime.now().uptimeNanoseconds - t
            perKind.withLockedValue { $0[kind, default: []].append(spent) }
        }
        var byKind: [String: Any] = [:]
        for (k, list) in perKind.withLockedValue({ $0 }) {
            let sorted = list.sorted()
            func p(_ q: Double) -> Double { Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]) / 1e6 }
            byKind[k] = ["p50_ms": p(0.5), "p99_ms": p(0.99), "requests": sorted.count]
        }
        await ingestor.stop()
        await channel.close()
        await apiServer.shutdown()
        await feedChannel.close()
        await feedServer.shutdown()
        await db.close()
        var out: [String: Any] = [
            "events": total, "members": feed.membersPerCounty * counties, "counties": counties, "record_seconds": recordSeconds,
            "ingest_seconds": ingestSeconds, "ingest_rate": Double(total) / ingestSeconds, "direct_rate": directRate,
        ]
        out["events_by_source"] = Dictionary(uniqueKeysWithValues: targets.map { ($0.key.rawValue, $0.value) })
        out["dashboard"] = run.figures.merging(["by_kind": byKind]) { a, _ in a }
        let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}

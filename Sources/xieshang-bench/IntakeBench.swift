import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import XieshangAPI
import XieshangIntake
import XieshangKit
import XieshangRPC
import XieshangStore

/// Opinions as the public writes them: a place, a thing, a problem, a wish.
enum IntakeCorpus {
    static let places = ["营盘社区", "长寨街道", "广顺镇", "鼓扬镇", "代化镇", "白云山镇", "摆所镇", "威远镇", "敦操乡", "中坝村",
                         "新寨村", "凯佐村", "和平社区", "城南小区", "幸福小区"]
    static let things = ["楼栋墙体", "路灯", "排水沟", "菜市场周边", "学校门口", "公交站台", "村组道路", "垃圾收集点", "自来水管网",
                         "卫生院", "公厕", "河道", "停车场", "老旧小区电梯", "农贸市场"]
    static let problems = ["长期漏水", "夜间不亮", "堵塞发臭", "占道经营", "上下学拥堵", "缺少遮雨棚", "坑洼不平", "清运不及时",
                           "水压不足", "看病排队久", "无人管理", "乱倒垃圾", "车位不够", "经常停运", "秩序混乱", "噪音扰民",
                           "存在安全隐患", "设施老化", "收费不合理", "信号差"]
    static let wishes = ["希望尽快维修", "建议相关部门加强管理", "请求协调解决", "希望增设设施", "建议列入民生实事", "盼早日解决"]

    static func text(_ n: Int) -> String {
        var g = generator(UInt64(n))
        return places[g.below(places.count)] + things[g.below(things.count)] + problems[g.below(problems.count)] + "，"
            + wishes[g.below(wishes.count)] + "。"
    }

    /// Search terms: problems (about 5% of items each), things, and two-word queries.
    static func query(_ n: Int) -> String {
        var g = generator(UInt64(n) &+ 7)
        switch n % 4 {
        case 0, 1: return String(problems[g.below(problems.count)].suffix(2))
        case 2: return things[g.below(things.count)]
        default: return things[g.below(things.count)] + " " + String(problems[g.below(problems.count)].prefix(2))
        }
    }

    /// The corpus's generator for item or query `n`, and a draw below `bound` from it.
    static func generator(_ n: UInt64) -> SplitMix64 { SplitMix64(seed: n &* 0x9E37_79B9_7F4A_7C15) }
}

extension SplitMix64 {
    /// The next draw reduced below `bound` (the corpus's fixed mapping, not uniform-exact).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// `xieshang-bench intake`: public submissions, register-and-route pairs or text searches against
/// a running intake service from `--concurrency` callers; prints one JSON line.
struct IntakeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake",
        abstract: "Load a running intake service with submissions, routing or searches.",
        discussion: "route registers and routes items the submit run left in `received` (run submit first).")

    @Option(help: "The intake service's port.") var port: Int
    @Option(help: "submit, route or search.") var workload = "submit"
    @Option(help: "Concurrent callers.") var concurrency = 32
    @Option(help: "Seconds to measure (after one second of warm-up).") var seconds = 10.0
    @Option(help: "The committee (its liaison staff is the caller).") var committee: Int64 = 2
    @Option(help: "The directory's port (route: items go to the committee's first unit).") var directoryPort = 0

    func run() async throws {
        try BenchSigning.install()
        guard ["submit", "route", "search"].contains(workload) else { throw ValidationError("workload is submit, route or search") }
        let channel = RPCChannel(host: "127.0.0.1", port: port)
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = committee
        p.roles = [.liaisonStaff]
        p.accountId = 1
        p.displayName = "联络中心"
        let staff = CallOptions(metadata: Caller.metadata(for: p), timeout: 30)
        p.roles = [.public]
        p.accountId = 0
        let publicCaller = CallOptions(metadata: Caller.metadata(for: p), timeout: 30)
        let client = Xieshang_Intake_V1_IntakeServiceClient(channel: channel)

        var pending: [Int64] = []
        var unitID: Int64 = 0
        if workload == "route" {
            guard directoryPort > 0 else { throw ValidationError("--directory-port is required for route") }
            let dirChannel = RPCChannel(host: "127.0.0.1", port: directoryPort)
            var units = Xieshang_Directory_V1_ListUnitsRequest()
            units.pageSize = 1
            p.roles = [.committeeAdmin]
            let admin = CallOptions(metadata: Caller.metadata(for: p), timeout: 30)
            unitID = try await Xieshang_Directory_V1_DirectoryServiceClient(channel: dirChannel).listUnits(units, options: admin).units.first?.id ?? 0
            await dirChannel.close()
            var r = Xieshang_Intake_V1_ListItemsRequest()
            r.states = [.received]
            r.pageSize = 1000
            repeat {
                let page = try await client.listItems(r, options: staff)
                pending += page.items.map(\.id)
                r.pageToken = page.nextPageToken
            } while !r.pageToken.isEmpty
        }
        let queue = WorkQueue(pending)
        let unit = unitID
        var matched = 0
        // Search latencies by kind of query (one word, a thing, two words; with a state filter).
        let byKind = NIOLockedValueBox([String: [UInt64]]())
        let stats = try await ClosedLoop.run(concurrency: concurrency, seconds: seconds) { worker, n in
            switch workload {
            case "submit":
                var s = Xieshang_Intake_V1_PublicSubmission()
                s.text = IntakeCorpus.text(worker * 1_000_000 + n)
                s.name = "群众"
                _ = try await client.submitPublic(s, options: publicCaller)
            case "route":
                guard let id = queue.take() else { throw CancellationError() }
                var reg = Xieshang_Intake_V1_RegisterRequest()
                reg.id = id
                reg.category = "民生"
                _ = try await client.registerItem(reg, options: staff)
                var route = Xieshang_Intake_V1_RouteRequest()
                route.id = id
                route.mode = .phone
                route.unitId = unit
                _ = try await client.routeItem(route, options: staff)
            default:
                var r = Xieshang_Intake_V1_ListItemsRequest()
                r.query = IntakeCorpus.query(worker * 1_000_000 + n)
                r.pageSize = 20
                if n % 5 == 4 { r.states = [.received] }
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try await client.listItems(r, options: staff)
                let kind = ["word", "word", "thing", "two words"][(worker * 1_000_000 + n) % 4] + (n % 5 == 4 ? " +state" : "")
                let elapsed = DispatchTime.now().uptimeNanoseconds - t0
                byKind.withLockedValue { $0[kind, default: []].append(elapsed) }
            }
        }
        if workload == "search" {
            var r = Xieshang_Intake_V1_ListItemsRequest()
            r.query = "漏水"
            matched = Int(try await client.listItems(r, options: staff).total)
        }
        await channel.close()
        var kinds: [String: Any] = [:]
        for (kind, lat) in byKind.withLockedValue({ $0 }) {
            let loop = ClosedLoop(latencies: lat.sorted(), errors: 0, seconds: seconds, concurrency: concurrency)
            kinds[kind] = ["n": lat.count, "p50_ms": loop.percentile(0.5), "p99_ms": loop.percentile(0.99)]
        }
        try stats.print(["workload": workload, "pending": pending.count, "matched_漏水": matched, "by_kind": kinds])
    }
}

/// Ids handed out once each across workers.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [Int64]
    init(_ ids: [Int64]) { self.ids = ids.reversed() }
    func take() -> Int64? {
        lock.lock()
        defer { lock.unlock() }
        return ids.popLast()
    }
}

/// `xieshang-bench intake-load`: stores `--items` synthetic opinions straight into an intake
/// database (as `xieshang serve intake` would find them), for searches over a large corpus.
struct IntakeLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intake-load", abstract: "Bulk-load synthetic intake items into an intake database.")

    @Option(help: "postgres://… or empty for SQLite under --data-dir.") var databaseURL = ""
    @Option(help: "PostgreSQL schema (default intake).") var databaseSchema = ""
    @Option(help: "Folder for the SQLite file.") var dataDir = "./data"
    @Option(help: "Items to add.") var items = 1_000_000
    @Option(help: "The committee they belong to.") var committee: Int64 = 2
    @Option(help: "Items per transaction.") var batch = 2000

    func run() async throws {
        try BenchSigning.install()
        var config = try DatabaseConfiguration.parse(url: databaseURL, service: "intake", dataDirectory: dataDir)
        if case .postgres(let conninfo, _) = config.engine, !databaseSchema.isEmpty {
            config.engine = .postgres(conninfo: conninfo, schema: databaseSchema)
        }
        let database = try Database(configuration: config)
        let store = IntakeStore(database: database)
        try await store.migrate()
        let start = Date()
        var done = 0
        while done < items {
            let n = min(batch, items - done)
            let chunk = (done..<done + n).map { i -> Xieshang_Intake_V1_Item in
                var item = Xieshang_Intake_V1_Item()
                item.text = IntakeCorpus.text(50_000_000 + i)
                item.channel = .qrPoint
                item.state = .received
                return item
            }
            try await store.importItems(chunk, committee: committee, actor: .system)
            done += n
            if done % 100_000 == 0 || done == items {
                let rate = Double(done) / Date().timeIntervalSince(start)
                FileHandle.standardError.write("loaded \(done)/\(items) items (\(Int(rate))/s)\n".data(using: .utf8)!)
            }
        }
        await database.close()
        print("{\"items\": \(items), \"seconds\": \(Date().timeIntervalSince(start))}")
    }
}

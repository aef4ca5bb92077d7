import ArgumentParser
import Foundation
import XieshangAPI
import XieshangKit
import XieshangRPC

/// `xieshang-bench proposals`: a plenary day. `--proposals` proposals are submitted, registered
/// (numbered) and assigned by `--concurrency` callers as fast as they go; prints one JSON line with
/// the wall time, each step's latencies, and whether the numbers came out 1…N without gaps.
struct ProposalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proposals", abstract: "A plenary day against a running proposal service: submit, register, assign.")

    @Option(help: "The proposal service's port.") var port: Int
    @Option(help: "The directory's port (members and units of the committee are read from it).") var directoryPort: Int
    @Option(help: "Proposals to process.") var proposals = 2000
    @Option(help: "Concurrent callers.") var concurrency = 32
    @Option(help: "The committee.") var committee: Int64 = 2

    static let topics = ["城区停车", "农村饮水安全", "乡村学校", "养老服务", "特色农业", "旅游开发", "生态保护", "基层医疗", "营商环境",
                         "交通安全", "非遗传承", "就业创业", "住房保障", "食品安全", "河道治理", "数字乡村"]

    func run() async throws {
        try BenchSigning.install()
        func options(_ role: Xieshang_Common_V1_Role) -> CallOptions {
            var p = Xieshang_Common_V1_Principal()
            p.committeeId = committee
            p.roles = [role]
            p.accountId = 1
            p.displayName = "提案委"
            return CallOptions(metadata: Caller.metadata(for: p), timeout: 60)
        }
        let dirChannel = RPCChannel(host: "127.0.0.1", port: directoryPort)
        let dir = Xieshang_Directory_V1_DirectoryServiceClient(channel: dirChannel)
        var mr = Xieshang_Directory_V1_ListMembersRequest()
        mr.pageSize = 200
        let members = try await dir.listMembers(mr, options: options(.committeeAdmin)).members.map(\.id)
        var ur = Xieshang_Directory_V1_ListUnitsRequest()
        ur.pageSize = 50
        let units = try await dir.listUnits(ur, options: options(.committeeAdmin)).units.map(\.id)
        await dirChannel.close()
        guard !members.isEmpty, units.count >= 2 else { throw ValidationError("the committee needs members and two units (seed it first)") }

        let channel = RPCChannel(host: "127.0.0.1", port: port)
        let client = Xieshang_Proposal_V1_ProposalServiceClient(channel: channel)
        let staff = options(.committeeStaff)
        let queue = WorkQueue((0..<Int64(proposals)).map { $0 })
        let total = proposals
        let start = DispatchTime.now().uptimeNanoseconds
        let perWorker = try await withThrowingTaskGroup(of: [[UInt64]].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var lat: [[UInt64]] = [[], [], [], []]
                    while true {
                        guard let next = queue.take() else { return lat }
                        let i = Int(next)
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        var p = Xieshang_Proposal_V1_Proposal()
                        p.proposerKind = .member
                        p.leadMemberId = members[i % members.count]
                        p.session = .plenary
                        p.sessionName = "九届四次会议"
                        let topic = Self.topics[i % Self.topics.count]
                        p.title = "关于进一步做好\(topic)工作的提案（\(i)）"
                        p.reasons = "当前\(topic)工作仍存在投入不足、机制不健全、群众反映较多等问题。"
                        p.suggestions = "建议加大投入，完善机制，明确责任单位，限期解决群众关切。"
                        p.category = i % 3 == 0 ? "经济" : i % 3 == 1 ? "社会" : "城建"
                        let submitted = try await client.submitProposal(p, options: staff)
                        let t1 = DispatchTime.now().uptimeNanoseconds
                        var reg = Xieshang_Proposal_V1_RegisterRequest()
                        reg.id = submitted.id
                        _ = try await client.registerProposal(reg, options: staff)
                        let t2 = DispatchTime.now().uptimeNanoseconds
                        var a = Xieshang_Proposal_V1_AssignRequest()
                        a.id = submitted.id
                        a.leadUnitId = units[i % units.count]
                        a.coUnitIds = [units[(i + 1) % units.count]]
                        _ = try await client.assignProposal(a, options: staff)
                        let t3 = DispatchTime.now().uptimeNanoseconds
                        lat[0].append(t1 - t0)
                        lat[1].append(t2 - t1)
                        lat[2].append(t3 - t2)
                        lat[3].append(t3 - t0)
                    }
                }
            }
            var all: [[UInt64]] = [[], [], [], []]
            for try await l in group { for k in 0..<4 { all[k] += l[k] } }
            return all
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        // Every number of the term once: 1…N with no gaps.
        var numbers: [Int32] = []
        var lr = Xieshang_Proposal_V1_ListProposalsRequest()
        lr.pageSize = 1000
        lr.states = [.assigned]
        repeat {
            let page = try await client.listProposals(lr, options: staff)
            numbers += page.proposals.map(\.number)
            lr.pageToken = page.nextPageToken
        } while !lr.pageToken.isEmpty
        await channel.close()
        let sorted = numbers.sorted()
        var out: [String: Any] = ["proposals": total, "seconds": seconds, "proposals_per_s": Double(total) / seconds,
                                  "numbers_gap_free": sorted == Array(sorted.indices).map { Int32($0 + 1) }, "assigned": numbers.count]
        for (k, name) in ["submit", "register", "assign", "proposal"].enumerated() {
            out[name] = ClosedLoop(latencies: perWorker[k].sorted(), errors: 0, seconds: seconds, concurrency: concurrency).figures
        }
        let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
        Swift.print(String(decoding: data, as: UTF8.self))
    }
}

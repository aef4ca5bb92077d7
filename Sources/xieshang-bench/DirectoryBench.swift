import ArgumentParser
import Foundation
import XieshangAPI
import XieshangKit
import XieshangRPC

/// `xieshang-bench directory`: a closed-loop load of member lookups or filtered listings against a
/// running directory service, from `--concurrency` callers; prints one JSON line of results.
struct DirectoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Load a running directory service with member lookups or filtered member listings.")

    @Option(help: "The directory's port.") var port: Int
    @Option(help: "get (GetMember by random id) or list (ListMembers by random sector or town, 20 a page).") var workload = "get"
    @Option(help: "Concurrent callers.") var concurrency = 32
    @Option(help: "Seconds to measure (after one second of warm-up).") var seconds = 10.0
    @Option(help: "The committee to read (its admin is the caller).") var committee: Int64 = 2

    func run() async throws {
        try BenchSigning.install()
        guard workload == "get" || workload == "list" else { throw ValidationError("workload is get or list") }
        let channel = RPCChannel(host: "127.0.0.1", port: port)
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = committee
        p.roles = [.committeeAdmin]
        p.accountId = 1
        let options = CallOptions(metadata: Caller.metadata(for: p), timeout: 30)
        let client = Xieshang_Directory_V1_DirectoryServiceClient(channel: channel)

        // The ids to draw from.
        var ids: [Int64] = []
        var request = Xieshang_Directory_V1_ListMembersRequest()
        request.pageSize = 1000
        repeat {
            let page = try await client.listMembers(request, options: options)
            ids += page.members.map(\.id)
            request.pageToken = page.nextPageToken
        } while !request.pageToken.isEmpty
        let sectors = try await client.listSectors(Xieshang_Directory_V1_ListRequest(), options: options).sectors.map(\.id)
        var towns = Xieshang_Directory_V1_ListAreasRequest()
        towns.level = .town
        let townIDs = try await client.listAreas(towns, options: options).areas.map(\.id)
        guard !ids.isEmpty, !sectors.isEmpty else { throw ValidationError("committee \(committee) has no members; seed first") }

        let memberIDs = ids
        let stats = try await ClosedLoop.run(concurrency: concurrency, seconds: seconds) { worker, n in
            var rng = SystemRandomNumberGenerator()
            if workload == "get" {
                var r = Xieshang_Directory_V1_GetRequest()
                r.id = memberIDs.randomElement(using: &rng)!
                _ = try await client.getMember(r, options: options)
            } else {
                var r = Xieshang_Directory_V1_ListMembersRequest()
                r.pageSize = 20
                if (worker + n) % 2 == 0 { r.sectorId = sectors.randomElement(using: &rng)! } else { r.townId = townIDs.randomElement(using: &rng) ?? 0 }
                _ = try await client.listMembers(r, options: options)
            }
        }
        await channel.close()
        try stats.print(["workload": workload, "members": ids.count])
    }
}

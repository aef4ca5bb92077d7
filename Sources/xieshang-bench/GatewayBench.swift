import ArgumentParser
import Foundation
import XieshangAPI
import XieshangKit
import XieshangRPC

/// `xieshang-bench gateway`: a closed-loop load of one read RPC (DirectoryService/GetMember) or
/// one write RPC (IntakeService/SubmitItem) through the gateway with a token, or straight to the
/// service with the same principal signed; prints one JSON line of results.
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Load a read or a write RPC through the gateway, or straight to its service, as one caller's token.")

    @Option(help: "host:port of the gateway.") var gateway: String
    @Option(help: "host:port of the service to call straight (read: directory, write: intake); empty: through the gateway.")
    var direct = ""
    @Option(help: "Bearer token of a liaison staff account (it reads members and submits items).") var token: String
    @Option(help: "read (GetMember by random id) or write (SubmitItem).") var workload = "read"
    @Option(help: "Concurrent streams.") var concurrency = 64
    @Option(help: "Seconds to measure (after one second of warm-up).") var seconds = 10.0

    func run() async throws {
        try BenchSigning.install()
        guard workload == "read" || workload == "write" else { throw ValidationError("workload is read or write") }
        guard let g = BalancedChannel.parseTargets(gateway)?.first else { throw ValidationError("gateway is host:port") }
        let gatewayChannel = RPCChannel(host: g.host, port: g.port)
        var tokenMetadata = Metadata()
        tokenMetadata.add("authorization", "Bearer \(token)")
        let me = try await Xieshang_Gateway_V1_GatewayServiceClient(channel: gatewayChannel)
            .whoAmI(Xieshang_Gateway_V1_WhoAmIRequest(), options: CallOptions(metadata: tokenMetadata, timeout: 10))
        let channel: RPCChannel
        let options: CallOptions
        if direct.isEmpty {
            channel = gatewayChannel
            options = CallOptions(metadata: tokenMetadata, timeout: 30)
        } else {
            guard let d = BalancedChannel.parseTargets(direct)?.first else { throw ValidationError("direct is host:port") }
            channel = RPCChannel(host: d.host, port: d.port)
            options = CallOptions(metadata: Caller.metadata(for: me.principal ?? .init()), timeout: 30)
        }
        let members = Xieshang_Directory_V1_DirectoryServiceClient(channel: gatewayChannel)
        var list = Xieshang_Directory_V1_ListMembersRequest()
        list.pageSize = 1000
        let ids = try await members.listMembers(list, options: CallOptions(metadata: tokenMetadata, timeout: 30)).members.map(\.id)
        guard !ids.isEmpty else { throw ValidationError("the token's committee has no members; seed first") }

        let directory = Xieshang_Directory_V1_DirectoryServiceClient(channel: channel)
        let intake = Xieshang_Intake_V1_IntakeServiceClient(channel: channel)
        let read = workload == "read"
        let stats = try await ClosedLoop.run(concurrency: concurrency, seconds: seconds) { worker, n in
            var rng = SystemRandomNumberGenerator()
            if read {
                var r = Xieshang_Directory_V1_GetRequest()
                r.id = ids.randomElement(using: &rng)!
                _ = try await directory.getMember(r, options: options)
            } else {
                var item = Xieshang_Intake_V1_Item()
                item.text = "压测意见 \(worker)-\(n)：小区路灯损坏，夜间出行不便"
                item.category = "城建"
                item.channel = .memberMailbox
                item.bringingMemberId = ids.randomElement(using: &rng)!
                _ = try await intake.submitItem(item, options: options)
            }
        }
        if !direct.isEmpty { await channel.close() }
        await gatewayChannel.close()
        try stats.print(["workload": workload, "path": direct.isEmpty ? "gateway" : "direct"])
    }
}

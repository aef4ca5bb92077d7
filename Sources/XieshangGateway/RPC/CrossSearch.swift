import XieshangAPI
import XieshangRPC

/// One query over intake items, proposals and consultation topics, each service searched with
/// the caller's own rights and at the same time; a service that fails is named, not fatal.
struct CrossSearch {
    let service: GatewayService
    let options: CallOptions

    private enum Part: Sendable {
        case hits([Xieshang_Gateway_V1_SearchHit])
        case failed(String)
    }

    func run(query: String, limit: Int32) async -> Xieshang_Gateway_V1_SearchResponse {
        let s = service, o = options
        var response = Xieshang_Gateway_V1_SearchResponse()
        await withTaskGroup(of: (Int, Part).self) { group in
            group.addTask {
                await (0, Self.part("intake") {
                    var r = Xieshang_Intake_V1_ListItemsRequest()
                    r.query = query
                    r.pageSize = limit
                    return try await s.intake.listItems(r, options: o).items.map {
                        Self.hit("intake_item", $0.id, $0.title.isEmpty ? String($0.text.prefix(40)) : $0.title, DescriptorPool.shared.enumName("xieshang.intake.v1.ItemState", $0.state.rawValue))
                    }
                })
            }
            group.addTask {
                await (1, Self.part("proposals") {
                    var r = Xieshang_Proposal_V1_ListProposalsRequest()
                    r.query = query
                    r.pageSize = limit
                    return try await s.proposals.listProposals(r, options: o).proposals.map { Self.hit("proposal", $0.id, $0.title, DescriptorPool.shared.enumName("xieshang.proposal.v1.ProposalState", $0.state.rawValue)) }
                })
            }
            group.addTask {
                await (2, Self.part("consultation") {
                    var r = Xieshang_Consultation_V1_ListTopicsRequest()
                    r.query = query
                    r.pageSize = limit
                    return try await s.consultation.listTopics(r, options: o).topics.map { Self.hit("consultation_topic", $0.id, $0.title, DescriptorPool.shared.enumName("xieshang.consultation.v1.TopicState", $0.state.rawValue)) }
                })
            }
            var parts: [(Int, Part)] = []
            for await p in group { parts.append(p) }
            for (_, part) in parts.sorted(by: { $0.0 < $1.0 }) {
                switch part {
                case .hits(let h): response.hits += h
                case .failed(let why): response.unavailable.append(why)
                }
            }
        }
        return response
    }

    private static func part(_ name: String, _ body: @Sendable () async throws -> [Xieshang_Gateway_V1_SearchHit]) async -> Part {
        do { return .hits(try await body()) } catch { return .failed("\(name): \(RPCError.from(error).message)") }
    }

    private static func hit(_ kind: String, _ id: Int64, _ title: String, _ state: String) -> Xieshang_Gateway_V1_SearchHit {
        var h = Xieshang_Gateway_V1_SearchHit()
        h.kind = kind
        h.id = id
        h.title = title
        h.state = state
        return h
    }
}

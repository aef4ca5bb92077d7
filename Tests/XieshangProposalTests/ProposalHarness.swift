import NIOConcurrencyHelpers
import XCTest
import XieshangAPI
import XieshangKit
import XieshangProposal
import XieshangRPC
import XieshangStore
import XieshangTestSupport

/// A directory and a proposal service on loopback over one engine, proposals checking references
/// against the directory over real HTTP/2.
final class ProposalHarness {
    let directory: DirectoryFixture
    let database: Database
    let loopback: LoopbackServer
    var channel: RPCChannel { loopback.channel }
    /// Milliseconds the proposal service believes it is (moved by tests).
    let now = NIOLockedValueBox<Int64>(Clock.nowMilliseconds())

    var committee: Int64 { directory.committee }

    static func each(_ name: String, _ body: (ProposalHarness) async throws -> Void) async throws {
        try await TestEngines.each(name, make: { try await ProposalHarness($0) }, close: { await $0.close() }, body)
    }

    init(_ config: DatabaseConfiguration) async throws {
        directory = try await DirectoryFixture(beside: config)
        database = try Database(configuration: config)
        let store = ProposalStore(database: database)
        try await store.migrate()
        let clock = now
        loopback = try await LoopbackServer([
            ProposalService(store: store, directory: RemoteDirectory(channel: directory.channel, serviceName: "proposals", ttl: 0),
                            clock: { clock.withLockedValue { $0 } }),
        ])
    }

    func close() async {
        await loopback.close()
        await database.close()
        await directory.close()
    }

    /// Moves the service's clock by `days`.
    func advance(days: Int) {
        now.withLockedValue { $0 += Int64(days) * 86_400_000 }
    }

    var today: CivilDate { CivilDate.china(unixMilliseconds: now.withLockedValue { $0 }) }

    var client: Xieshang_Proposal_V1_ProposalServiceClient { Xieshang_Proposal_V1_ProposalServiceClient(channel: channel) }

    func `as`(_ role: Xieshang_Common_V1_Role, member: Int64 = 0, unit: Int64 = 0, committee: Int64? = nil) -> CallOptions {
        DirectoryFixture.options(role, committee: committee ?? self.committee, member: member, unit: unit)
    }

    var staff: CallOptions { self.as(.committeeStaff) }
    var leadUnit: CallOptions { self.as(.handlingUnit, unit: directory.unit) }
    var proposer: CallOptions { self.as(.member, member: directory.member) }

    /// A member's proposal (王芳), submitted as the member.
    func submit(_ title: String, reasons: String = "群众反映强烈。", suggestions: String = "建议加快推进。",
                category: String = "城建", coSigners: [Int64] = [], deadline: String = "") async throws -> Xieshang_Proposal_V1_Proposal {
        var p = Xieshang_Proposal_V1_Proposal()
        p.proposerKind = coSigners.isEmpty ? .member : .joint
        p.session = .plenary
        p.sessionName = "九届四次会议"
        p.title = title
        p.reasons = reasons
        p.suggestions = suggestions
        p.category = category
        p.coSigners = coSigners.map {
            var c = Xieshang_Proposal_V1_CoSigner()
            c.memberId = $0
            return c
        }
        p.signingDeadline = deadline
        return try await client.submitProposal(p, options: proposer)
    }

    func register(_ id: Int64) async throws -> Xieshang_Proposal_V1_Proposal {
        var r = Xieshang_Proposal_V1_RegisterRequest()
        r.id = id
        return try await client.registerProposal(r, options: staff)
    }

    func assign(_ id: Int64, lead: Int64? = nil, co: [Int64] = []) async throws -> Xieshang_Proposal_V1_Proposal {
        var r = Xieshang_Proposal_V1_AssignRequest()
        r.id = id
        r.leadUnitId = lead ?? directory.unit
        r.coUnitIds = co
        return try await client.assignProposal(r, options: staff)
    }

    func reply(_ id: Int64, grade: Xieshang_Proposal_V1_ReplyGrade, as options: CallOptions? = nil) async throws -> Xieshang_Proposal_V1_Proposal {
        var r = Xieshang_Proposal_V1_ReplyRequest()
        r.id = id
        r.text = "已列入年度计划，正在实施。"
        r.grade = grade
        return try await client.replyProposal(r, options: options ?? leadUnit)
    }

    func evaluate(_ id: Int64, _ s: Xieshang_Proposal_V1_Satisfaction, comment: String = "") async throws -> Xieshang_Proposal_V1_Proposal {
        var r = Xieshang_Proposal_V1_EvaluateRequest()
        r.id = id
        r.satisfaction = s
        r.comment = comment
        return try await client.evaluateProposal(r, options: proposer)
    }

    func list(_ configure: (inout Xieshang_Proposal_V1_ListProposalsRequest) -> Void, as options: CallOptions? = nil) async throws -> Xieshang_Proposal_V1_ListProposalsResponse {
        var r = Xieshang_Proposal_V1_ListProposalsRequest()
        r.pageSize = 100
        configure(&r)
        return try await client.listProposals(r, options: options ?? staff)
    }

    /// Events of one proposal, oldest first.
    func history(_ id: Int64) async throws -> [String] {
        var r = Xieshang_Events_V1_HistoryRequest()
        r.entityKind = "proposal"
        r.entityId = "\(id)"
        return try await client.history(r, options: staff).events.map(\.eventType)
    }
}

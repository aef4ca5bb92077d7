import XCTest
import XieshangAPI
@testable import XieshangGateway

final class PolicyTests: XCTestCase {
    let policy = Policy()

    func testThePublicReachesOnlyTheSubmissionTicketAndOnlinePageCalls() {
        let open = ["/xieshang.intake.v1.IntakeService/SubmitPublic", "/xieshang.intake.v1.IntakeService/GetTicket",
                    "/xieshang.intake.v1.IntakeService/RateTicket", "/xieshang.gateway.v1.GatewayService/Login",
                    // 码上协商: an open online page, its published posts, a post (the service shows nothing else).
                    "/xieshang.consultation.v1.ConsultationService/GetConsultation",
                    "/xieshang.consultation.v1.ConsultationService/ListPosts",
                    "/xieshang.consultation.v1.ConsultationService/PostOpinion",
                    // What a ticket was told (the ticket code is the credential).
                    "/xieshang.notify.v1.NotifyService/GetTicketNews"]
        for service in DescriptorPool.shared.services.keys where service.hasPrefix("xieshang.") {
            for m in DescriptorPool.shared.services[service]! {
                let decision = policy.decide(path: m.path, roles: [], prefectureCommittee: false)
                XCTAssertEqual(decision == .allow, open.contains(m.path), m.path)
                // A public account (群众) reaches the same, and may ask who it is.
                let asPublic = policy.decide(path: m.path, roles: [.public], prefectureCommittee: false)
                XCTAssertEqual(asPublic == .allow, open.contains(m.path) || m.path.hasSuffix("GatewayService/WhoAmI"), m.path)
            }
        }
    }

    func testEveryForwardedMethodHasARowAndCredentialsCallsAreClosed() {
        for service in DescriptorPool.shared.services.keys where service.hasPrefix("xieshang.") && !service.contains(".testing.") {
            for m in DescriptorPool.shared.services[service]! {
                XCTAssertNotNil(policy.rules.first { $0.matches(Policy.shortMethod(m.path)) }, "no policy row for \(m.path)")
            }
        }
        for path in ["/xieshang.directory.v1.DirectoryService/Authenticate", "/xieshang.directory.v1.DirectoryService/ResolveToken"] {
            for role in Xieshang_Common_V1_Role.allKnownCases where role != .unspecified {
                XCTAssertNotEqual(policy.decide(path: path, roles: [role], prefectureCommittee: true), .allow, "\(role) \(path)")
            }
        }
    }

    func testRolesKeepToTheirWork() {
        func allowed(_ role: Xieshang_Common_V1_Role, _ method: String, prefecture: Bool = false) -> Bool {
            policy.decide(path: "/xieshang.\(method)", roles: [role], prefectureCommittee: prefecture) == .allow
        }
        XCTAssertTrue(allowed(.member, "intake.v1.IntakeService/SubmitItem"))
        XCTAssertFalse(allowed(.member, "intake.v1.IntakeService/RouteItem"))
        XCTAssertTrue(allowed(.liaisonStaff, "intake.v1.IntakeService/RouteItem"))
        XCTAssertTrue(allowed(.handlingUnit, "intake.v1.IntakeService/ReplyItem"))
        XCTAssertFalse(allowed(.handlingUnit, "intake.v1.IntakeService/CloseItem"))
        XCTAssertFalse(allowed(.handlingUnit, "analytics.v1.AnalyticsService/GetDashboard"))
        XCTAssertTrue(allowed(.leader, "analytics.v1.AnalyticsService/GetDashboard"))
        XCTAssertFalse(allowed(.leader, "analytics.v1.AnalyticsService/SetPointRules"))
        XCTAssertTrue(allowed(.committeeAdmin, "analytics.v1.AnalyticsService/SetPointRules"))
        XCTAssertFalse(allowed(.member, "directory.v1.DirectoryService/CreateMember"))
        XCTAssertTrue(allowed(.member, "directory.v1.DirectoryService/GetMember"))
        XCTAssertFalse(allowed(.committeeAdmin, "directory.v1.DirectoryService/CreateCommittee"))
        XCTAssertFalse(allowed(.prefectureAdmin, "directory.v1.DirectoryService/CreateCommittee", prefecture: false))
        XCTAssertTrue(allowed(.prefectureAdmin, "directory.v1.DirectoryService/CreateCommittee", prefecture: true))
        XCTAssertTrue(allowed(.prefectureAdmin, "analytics.v1.AnalyticsService/Rebuild", prefecture: true))
        XCTAssertFalse(allowed(.committeeAdmin, "analytics.v1.AnalyticsService/Rebuild", prefecture: true))
    }

    func testADenialNamesWhoMayCall() {
        guard case .deny(let why) = policy.decide(path: "/xieshang.proposal.v1.ProposalService/RegisterProposal", roles: [.member],
                                                 prefectureCommittee: false) else { return XCTFail("a member registered a proposal") }
        XCTAssertTrue(why.contains("ProposalService/RegisterProposal") && why.contains("committee staff"), why)
        XCTAssertEqual(policy.decide(path: "/nope.Service/Call", roles: [.committeeAdmin], prefectureCommittee: true),
                       .deny("Service/Call is not open to any caller through the gateway"))
    }
}

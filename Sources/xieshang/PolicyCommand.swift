import ArgumentParser
import XieshangAPI
import XieshangGateway

/// `xieshang policy`: who may call what through the gateway, method by method and role by role,
/// as the gateway's table decides it (for operators, and for the test that holds the services'
/// own checks to the same answers).
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Print the gateway's decision for every method and role (one JSON object a line, or a table).",
        discussion: """
            Roles: public (no account), member, liaison_staff, committee_staff, handling_unit, leader, committee_admin \
            at a county's committee, and prefecture_admin at a prefecture's. A service may refuse more (a unit sees only \
            what is routed to it, each transition names who may make it); it never allows what the gateway refuses.
            """)

    @Flag(help: "One JSON object a line: {\"method\", \"role\", \"allowed\", \"reason\"}.")
    var json = false

    @Option(help: "Only methods whose path contains this.")
    var filter: String = ""

    static let roles: [(String, Xieshang_Common_V1_Role?, Bool)] = [
        ("public", nil, false), ("member", .member, false), ("liaison_staff", .liaisonStaff, false),
        ("committee_staff", .committeeStaff, false), ("handling_unit", .handlingUnit, false), ("leader", .leader, false),
        ("committee_admin", .committeeAdmin, false), ("prefecture_admin", .prefectureAdmin, true),
    ]

    func run() async throws {
        let policy = Policy()
        let paths = DescriptorPool.shared.services.values.flatMap { $0.map(\.path) }
            .filter { $0.hasPrefix("/xieshang.") && !$0.hasPrefix("/xieshang.testing.") && (filter.isEmpty || $0.contains(filter)) }.sorted()
        if !json { print("method".padding(toLength: 58, withPad: " ", startingAt: 0) + Self.roles.map { $0.0 }.joined(separator: " ")) }
        for path in paths {
            var marks: [String] = []
            for (name, role, prefecture) in Self.roles {
                let decision = policy.decide(path: path, roles: role.map { [$0] } ?? [], prefectureCommittee: prefecture)
                let allowed = decision == .allow
                if json {
                    var reason = ""
                    if case .deny(let why) = decision { reason = why }
                    print("{\"method\":\"\(path)\",\"role\":\"\(name)\",\"allowed\":\(allowed),\"reason\":\"\(reason.replacingOccurrences(of: "\"", with: "'"))\"}")
                } else {
                    marks.append((allowed ? "yes" : "-").padding(toLength: name.count, withPad: " ", startingAt: 0))
                }
            }
            if !json { print(path.padding(toLength: 58, withPad: " ", startingAt: 0) + marks.joined(separator: " ")) }
        }
    }
}

import XieshangAPI

/// Who may call what through the gateway: the one role × method × committee table. The first row
/// whose pattern matches the method decides. A service checks its own finer rules after this
/// (a unit sees only what is routed to it; a transition names the roles that may make it), so
/// this table is the outer wall: it keeps each role to the methods its work needs.
public struct Policy: Sendable {
    /// Which committees a row admits.
    public enum Committees: Sendable {
        /// Any committee (each service keeps the caller to its own).
        case any
        /// Only a prefecture's committee (its admins read across its counties).
        case prefecture
    }

    /// One row: a `Service/Method` pattern (`*` at the end matches any suffix; the service may
    /// be given by its short name), the roles admitted, and at which committees.
    public struct Rule: Sendable {
        public let pattern: String
        public let roles: Set<Xieshang_Common_V1_Role>
        public let committees: Committees
        /// Whether callers without an account (the public by QR code) are admitted.
        public let anonymous: Bool

        init(_ pattern: String, _ roles: Set<Xieshang_Common_V1_Role>, committees: Committees = .any, anonymous: Bool = false) {
            self.pattern = pattern
            self.roles = roles
            self.committees = committees
            self.anonymous = anonymous
        }

        func matches(_ method: String) -> Bool {
            if pattern.hasSuffix("*") { return method.hasPrefix(String(pattern.dropLast())) }
            return method == pattern
        }
    }

    /// What the table says about one call.
    public enum Decision: Equatable, Sendable {
        case allow
        /// Denied, with the reason a caller reads.
        case deny(String)
    }

    public let rules: [Rule]
    /// Each known method's path → its row (nil: no row), worked out once: matching patterns
    /// and shortening paths on every call was a tenth of the gateway's own work per call.
    private let index: [String: Int?]

    /// The table as shipped, indexed by every method `paths` names (the descriptor pool's).
    public init(paths: [String] = DescriptorPool.shared.services.values.flatMap { $0.map(\.path) }) {
        let rules = Self.table
        self.rules = rules
        var index: [String: Int?] = [:]
        for p in paths {
            let method = Self.shortMethod(p)
            index[p] = .some(rules.firstIndex { $0.matches(method) })
        }
        self.index = index
    }

    /// Whether `roles` (none: an anonymous caller) at a committee of the given level may call
    /// `path` (`/package.Service/Method`).
    public func decide(path: String, roles: [Xieshang_Common_V1_Role], prefectureCommittee: Bool) -> Decision {
        let found: Int?
        if let known = index[path] {
            found = known
        } else {
            let method = Self.shortMethod(path)
            found = rules.firstIndex { $0.matches(method) }
        }
        guard let i = found else {
            return .deny("\(Self.shortMethod(path)) is not open to any caller through the gateway")
        }
        let rule = rules[i]
        var method: String { Self.shortMethod(path) }  // for the reasons only: not worked out on the way in
        if roles.isEmpty || roles == [.public] {
            // A public account (群众) reaches what anyone may, and what its row names it for.
            if rule.anonymous || (!roles.isEmpty && rule.roles.contains(.public)) { return .allow }
            return .deny("\(method) needs a committee account")
        }
        guard roles.contains(where: rule.roles.contains) else {
            let names = rule.roles.map(Self.roleName).sorted().joined(separator: ", ")
            return .deny("\(method) is for: \(names.isEmpty ? "no one through the gateway" : names)")
        }
        if rule.committees == .prefecture && !prefectureCommittee {
            return .deny("\(method) is for a prefecture's committee")
        }
        return .allow
    }

    /// `Service/Method` with the package dropped: `IntakeService/GetItem`.
    static func shortMethod(_ path: String) -> String {
        let parts = path.split(separator: "/")
        guard parts.count == 2 else { return path }
        let service = parts[0].split(separator: ".").last.map(String.init) ?? String(parts[0])
        return "\(service)/\(parts[1])"
    }

    static func roleName(_ r: Xieshang_Common_V1_Role) -> String {
        switch r {
        case .public: return "public"
        case .member: return "member"
        case .liaisonStaff: return "liaison staff"
        case .committeeStaff: return "committee staff"
        case .handlingUnit: return "handling unit"
        case .leader: return "leader"
        case .committeeAdmin: return "committee admin"
        case .prefectureAdmin: return "prefecture admin"
        case .system: return "system"
        default: return "unspecified"
        }
    }

    // MARK: the table

    private typealias R = Xieshang_Common_V1_Role
    private static let admins: Set<R> = [.committeeAdmin, .prefectureAdmin]
    /// Every role with a committee account.
    private static let accounts: Set<R> = [.member, .liaisonStaff, .committeeStaff, .handlingUnit, .leader, .committeeAdmin, .prefectureAdmin]
    private static let staff: Set<R> = [.liaisonStaff, .committeeStaff, .committeeAdmin]
    private static let officials: Set<R> = [.liaisonStaff, .committeeStaff, .leader, .committeeAdmin, .prefectureAdmin]

    static let table: [Rule] = [
        // The gateway's own calls.
        Rule("GatewayService/Login", [], anonymous: true),
        Rule("GatewayService/WhoAmI", accounts.union([.public])),
        Rule("GatewayService/GetMemberSummary", accounts.subtracting([.handlingUnit])),
        Rule("GatewayService/Escalate", staff),
        Rule("GatewayService/Search", accounts),

        // Directory: everyone with an account reads; admins keep it; credentials are the gateway's.
        Rule("DirectoryService/Authenticate", []),
        Rule("DirectoryService/ResolveToken", []),
        Rule("DirectoryService/CreateCommittee", [.prefectureAdmin], committees: .prefecture),
        Rule("DirectoryService/CreateToken", accounts),
        Rule("DirectoryService/ListTokens", accounts),
        Rule("DirectoryService/RevokeToken", accounts),
        Rule("DirectoryService/SetPassword", accounts),
        Rule("DirectoryService/GetAccount", admins),
        Rule("DirectoryService/ListAccounts", admins),
        Rule("DirectoryService/Get*", accounts),
        Rule("DirectoryService/List*", accounts),
        Rule("DirectoryService/Export*", officials),
        Rule("DirectoryService/AddWorkingDays", accounts),
        Rule("DirectoryService/CountWorkingDays", accounts),
        Rule("DirectoryService/Watch", admins),
        Rule("DirectoryService/History", admins),
        Rule("DirectoryService/*", admins),

        // Intake: the public by QR code; members bring opinions; liaison staff handle them;
        // units answer what is routed to them; leaders instruct.
        Rule("IntakeService/SubmitPublic", [], anonymous: true),
        Rule("IntakeService/GetTicket", [], anonymous: true),
        Rule("IntakeService/RateTicket", [], anonymous: true),
        Rule("IntakeService/SubmitItem", [.member, .liaisonStaff, .committeeAdmin]),
        Rule("IntakeService/CreateRelay", [.member, .liaisonStaff, .committeeAdmin]),
        Rule("IntakeService/AcknowledgeItem", [.handlingUnit, .liaisonStaff, .committeeAdmin]),
        Rule("IntakeService/RequestReroute", [.handlingUnit, .liaisonStaff, .committeeAdmin]),
        Rule("IntakeService/ReplyItem", [.handlingUnit, .liaisonStaff, .committeeAdmin]),
        // 带下去: the member who brought the item tells the public the answer (or the unit, or staff).
        Rule("IntakeService/FeedBackItem", [.member, .handlingUnit, .liaisonStaff, .committeeAdmin]),
        Rule("IntakeService/AddInstruction", [.leader, .liaisonStaff, .committeeAdmin]),
        Rule("IntakeService/RecordAdoption", [.leader, .liaisonStaff, .committeeAdmin]),
        Rule("IntakeService/Get*", accounts),
        Rule("IntakeService/List*", accounts),
        Rule("IntakeService/History", officials),
        Rule("IntakeService/Watch", admins),
        Rule("IntakeService/*", [.liaisonStaff, .committeeAdmin]),

        // Proposals: members propose, sign and evaluate; staff of the proposals committee run
        // them; units handle them; leaders pick key proposals.
        Rule("ProposalService/SubmitProposal", [.member, .committeeStaff, .committeeAdmin]),
        Rule("ProposalService/SignProposal", [.member]),
        Rule("ProposalService/WithdrawProposal", [.member, .committeeStaff, .committeeAdmin]),
        // The lead proposer closes its own signing (the service checks it is theirs).
        Rule("ProposalService/CloseSigning", [.member, .committeeStaff, .committeeAdmin]),
        Rule("ProposalService/EvaluateProposal", [.member, .committeeStaff, .committeeAdmin]),
        Rule("ProposalService/RequestReassignment", [.handlingUnit]),
        Rule("ProposalService/RecordContact", [.handlingUnit, .committeeStaff]),
        Rule("ProposalService/SubmitCoOpinion", [.handlingUnit]),
        Rule("ProposalService/ReplyProposal", [.handlingUnit, .committeeStaff]),
        Rule("ProposalService/SetKeyProposal", [.leader, .committeeStaff, .committeeAdmin]),
        // The lead proposer or staff (the service checks which proposal and state).
        Rule("ProposalService/UpdateProposal", [.member, .committeeStaff, .committeeAdmin]),
        Rule("ProposalService/SetSettings", [.committeeAdmin]),
        Rule("ProposalService/ScoreUnits", officials),
        Rule("ProposalService/Get*", accounts),
        Rule("ProposalService/List*", accounts),
        Rule("ProposalService/Export*", officials),
        Rule("ProposalService/History", officials),
        Rule("ProposalService/Watch", admins),
        Rule("ProposalService/*", [.committeeStaff, .committeeAdmin]),

        // Consultation: staff plan and organise; leaders approve; members suggest topics, answer
        // invitations, research and post; units report back on results.
        Rule("ConsultationService/ProposeTopic", [.member, .committeeStaff, .liaisonStaff, .committeeAdmin]),
        Rule("ConsultationService/ReplyInvitation", [.member, .committeeStaff]),
        Rule("ConsultationService/RequestLeave", [.member, .committeeStaff]),
        Rule("ConsultationService/SignIn", [.member, .committeeStaff]),
        // 码上协商: the public (no account, the QR code's committee) reads an open online page,
        // posts on it and reads its published posts; the service shows them nothing else.
        Rule("ConsultationService/PostOpinion", [.member, .committeeStaff, .liaisonStaff, .public], anonymous: true),
        Rule("ConsultationService/ListPosts", accounts.union([.public]), anonymous: true),
        Rule("ConsultationService/GetConsultation", accounts.union([.public]), anonymous: true),
        Rule("ConsultationService/RecordResearch", [.member, .committeeStaff]),
        Rule("ConsultationService/RecordFeedback", [.handlingUnit, .committeeStaff, .committeeAdmin]),
        Rule("ConsultationService/ApprovePlan", [.leader, .committeeAdmin]),
        Rule("ConsultationService/ReturnPlan", [.leader, .committeeAdmin]),
        Rule("ConsultationService/RecordLiaisonActivity", [.liaisonStaff, .committeeStaff, .committeeAdmin]),
        Rule("ConsultationService/PlanRoster", [.liaisonStaff, .committeeStaff, .committeeAdmin]),
        // 值班: the member signs in for their own shift; staff confirm anyone's.
        Rule("ConsultationService/ConfirmShift", [.member, .liaisonStaff, .committeeStaff, .committeeAdmin]),
        Rule("ConsultationService/Get*", accounts),
        Rule("ConsultationService/List*", accounts),
        Rule("ConsultationService/Check*", officials),
        Rule("ConsultationService/FindFreeSlots", officials),
        Rule("ConsultationService/History", officials),
        Rule("ConsultationService/Watch", admins),
        Rule("ConsultationService/*", [.committeeStaff, .committeeAdmin, .leader]),

        // Analytics: dashboards for officials; members read their own record (the service
        // checks whose); admins keep the point table; a prefecture's admin rebuilds.
        Rule("AnalyticsService/GetDutyRecord", accounts.subtracting([.handlingUnit])),
        Rule("AnalyticsService/GetDashboard", accounts.subtracting([.handlingUnit])),
        Rule("AnalyticsService/ListMemberScores", officials),
        Rule("AnalyticsService/ExportMemberScores", officials),
        Rule("AnalyticsService/GetPointRules", accounts.subtracting([.handlingUnit])),
        Rule("AnalyticsService/SetPointRules", admins),
        Rule("AnalyticsService/RecordDuty", staff),
        Rule("AnalyticsService/VoidDuty", staff),
        Rule("AnalyticsService/GetFreshness", officials),
        Rule("AnalyticsService/Rebuild", [.prefectureAdmin], committees: .prefecture),
        Rule("AnalyticsService/Watch", admins),

        // Notify: every account reads its own inbox; the public its ticket's news; the
        // committee admin keeps the webhooks; staff see whether deliveries flow.
        Rule("NotifyService/ListNotifications", accounts),
        Rule("NotifyService/MarkRead", accounts),
        Rule("NotifyService/WatchNotifications", accounts),
        Rule("NotifyService/GetTicketNews", accounts.union([.public]), anonymous: true),
        Rule("NotifyService/GetStatus", [.committeeAdmin, .liaisonStaff, .committeeStaff]),
        Rule("NotifyService/*", [.committeeAdmin]),
    ]
}

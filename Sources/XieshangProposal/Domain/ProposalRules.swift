import XieshangAPI
import XieshangKit

/// Limits, defaults and input checks for proposals. Pure: whether members, units and groups exist
/// is asked of the directory by the service.
public enum ProposalRules {
    public static let maxTitle = 100
    public static let maxBody = 10_000
    public static let maxCoSigners = 50
    public static let maxUnits = 10

    /// Long free text: trimmed, line breaks allowed.
    public static func longText(_ value: String, _ field: String, required: Bool = true, max: Int = 2_000) throws -> String {
        try Check.longText(value, field, required: required, max: max)
    }

    /// The proposal as submitted, with only the fields a proposer sets: the proposer and their
    /// kind, session, title, reasons, suggestions, category, attachments and links.
    public static func submission(_ r: Proposal, today: CivilDate) throws -> Proposal {
        var p = Proposal()
        try Check.known(r.proposerKind, "proposer_kind")
        p.proposerKind = r.proposerKind
        for (field, id) in [("lead_member_id", r.leadMemberId), ("sector_id", r.sectorId), ("party_id", r.partyId),
                            ("special_committee_id", r.specialCommitteeId), ("term_id", r.termId)] {
            try Check.id(id, field)
        }
        switch r.proposerKind {
        case .member, .joint:
            try Check.id(r.leadMemberId, "lead_member_id", required: true)
        case .sectorGroup:
            try Check.id(r.sectorId, "sector_id", required: true)
        case .partyGroup:
            try Check.id(r.partyId, "party_id", required: true)
        case .specialCommittee:
            try Check.id(r.specialCommitteeId, "special_committee_id", required: true)
        default:
            break
        }
        p.leadMemberId = r.leadMemberId
        p.sectorId = r.proposerKind == .sectorGroup ? r.sectorId : 0
        p.partyId = r.proposerKind == .partyGroup ? r.partyId : 0
        p.specialCommitteeId = r.proposerKind == .specialCommittee ? r.specialCommitteeId : 0
        p.termId = r.termId
        if r.proposerKind == .joint {
            guard !r.coSigners.isEmpty else { throw DomainError.invalid(field: "co_signers", message: "a joint proposal needs co-signers") }
            guard r.coSigners.count <= maxCoSigners else {
                throw DomainError.invalid(field: "co_signers", message: "more than \(maxCoSigners) co-signers")
            }
            var seen = Set<Int64>()
            for (i, c) in r.coSigners.enumerated() {
                try Check.id(c.memberId, "co_signers[\(i)].member_id", required: true)
                if c.memberId == r.leadMemberId {
                    throw DomainError.invalid(field: "co_signers[\(i)].member_id", message: "the lead member cannot co-sign")
                }
                if !seen.insert(c.memberId).inserted {
                    throw DomainError.invalid(field: "co_signers[\(i)].member_id", message: "member \(c.memberId) is listed twice")
                }
                var s = Xieshang_Proposal_V1_CoSigner()
                s.memberId = c.memberId
                s.status = .pending
                p.coSigners.append(s)
            }
            guard !r.signingDeadline.isEmpty else { throw DomainError.invalid(field: "signing_deadline", message: "required for a joint proposal") }
            p.signingDeadline = try Check.date(r.signingDeadline, "signing_deadline")
            if let d = CivilDate(p.signingDeadline), d < today {
                throw DomainError.invalid(field: "signing_deadline", message: "\(p.signingDeadline) has passed")
            }
        } else if !r.coSigners.isEmpty {
            throw DomainError.invalid(field: "co_signers", message: "only a joint proposal has co-signers")
        }
        try Check.known(r.session, "session")
        p.session = r.session
        p.sessionName = try Check.text(r.sessionName, "session_name", required: false, max: 40)
        let text = try revision(r)
        p.title = text.title
        p.reasons = text.reasons
        p.suggestions = text.suggestions
        p.category = text.category
        guard r.attachments.count <= 20 else { throw DomainError.invalid(field: "attachments", message: "more than 20") }
        for (i, a) in r.attachments.enumerated() {
            var x = Xieshang_Proposal_V1_Attachment()
            x.uri = try Check.text(a.uri, "attachments[\(i)].uri", max: 1_000)
            x.kind = try Check.text(a.kind, "attachments[\(i)].kind", required: false, max: 20)
            x.name = try Check.text(a.name, "attachments[\(i)].name", required: false, max: 200)
            p.attachments.append(x)
        }
        for (i, l) in r.links.enumerated() {
            try Check.known(l.kind, "links[\(i)].kind")
            try Check.id(l.targetId, "links[\(i)].target_id", required: true)
            var x = Xieshang_Proposal_V1_Link()
            x.kind = l.kind
            x.targetId = l.targetId
            p.links.append(x)
        }
        return p
    }

    /// A proposal's text as submitted or revised: title, 案由 and 办法 required, category optional.
    public static func revision(_ r: Proposal) throws -> Revision {
        Revision(title: try Check.text(r.title, "title", max: maxTitle),
                 reasons: try longText(r.reasons, "reasons", max: maxBody),
                 suggestions: try longText(r.suggestions, "suggestions", max: maxBody),
                 category: try Check.text(r.category, "category", required: false, max: 20))
    }

    /// Distinct unit ids, none zero or negative, at most ``maxUnits``; the lead not among the co-units.
    public static func units(lead: Int64, co: [Int64], leadField: String = "lead_unit_id", coField: String = "co_unit_ids") throws -> [Int64] {
        try Check.id(lead, leadField, required: true)
        guard co.count <= maxUnits else { throw DomainError.invalid(field: coField, message: "more than \(maxUnits) units") }
        var seen: Set<Int64> = [lead]
        for (i, u) in co.enumerated() {
            try Check.id(u, "\(coField)[\(i)]", required: true)
            if !seen.insert(u).inserted {
                throw DomainError.invalid(field: "\(coField)[\(i)]", message: u == lead ? "the lead unit is not also a co-unit" : "unit \(u) is listed twice")
            }
        }
        return co
    }

    // MARK: Settings

    /// The committee's settings with every default filled in.
    public static func effective(_ s: Xieshang_Proposal_V1_Settings) -> Xieshang_Proposal_V1_Settings {
        var e = s
        if e.replyMonths == 0 { e.replyMonths = 3 }
        if e.rehandleMonths == 0 { e.rehandleMonths = 1 }
        if e.reassignWindowDays == 0 { e.reassignWindowDays = 5 }
        if e.criteria == nil {
            var c = Xieshang_Proposal_V1_ScoringCriteria()
            c.timelinessPoints = 30
            c.contactPoints = 20
            c.qualityPoints = 20
            c.satisfactionPoints = 30
            c.lateReplyPercent = 50
            c.gradeBPercent = 70
            c.gradeCPercent = 40
            c.basicallySatisfiedPercent = 70
            e.criteria = c
        }
        return e
    }

    /// Settings as an admin sets them: within range, criteria points summing to 100.
    public static func validated(_ s: Xieshang_Proposal_V1_Settings) throws -> Xieshang_Proposal_V1_Settings {
        func range(_ v: Int32, _ field: String, _ r: ClosedRange<Int32>) throws {
            if !r.contains(v) { throw DomainError.invalid(field: field, message: "must be between \(r.lowerBound) and \(r.upperBound)") }
        }
        try range(s.replyMonths, "reply_months", 0...24)
        try range(s.replyWorkingDays, "reply_working_days", 0...500)
        try range(s.rehandleMonths, "rehandle_months", 0...12)
        try range(s.reassignWindowDays, "reassign_window_days", 0...60)
        if let c = s.criteria {
            let points = [("criteria.timeliness_points", c.timelinessPoints), ("criteria.contact_points", c.contactPoints),
                          ("criteria.quality_points", c.qualityPoints), ("criteria.satisfaction_points", c.satisfactionPoints)]
            for (f, v) in points { try range(v, f, 0...100) }
            let sum = points.reduce(0) { $0 + $1.1 }
            guard sum == 100 else { throw DomainError.invalid(field: "criteria", message: "points add up to \(sum), not 100") }
            for (f, v) in [("criteria.late_reply_percent", c.lateReplyPercent), ("criteria.grade_b_percent", c.gradeBPercent),
                           ("criteria.grade_c_percent", c.gradeCPercent), ("criteria.basically_satisfied_percent", c.basicallySatisfiedPercent)] {
                try range(v, f, 0...100)
            }
        }
        return effective(s)
    }
}

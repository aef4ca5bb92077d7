import XieshangAPI
import XieshangKit

public typealias Proposal = Xieshang_Proposal_V1_Proposal
public typealias ProposalState = Xieshang_Proposal_V1_ProposalState

/// A lead unit and its co-units, with the dates an assignment sets.
public struct Assignment: Sendable, Equatable {
    public var leadUnitID: Int64
    public var coUnitIDs: [Int64]
    /// YYYY-MM-DD: assigned on, reply due, re-assignment requests accepted until.
    public var on: String
    public var dueDate: String
    public var reassignDeadline: String

    public init(leadUnitID: Int64, coUnitIDs: [Int64], on: String, dueDate: String, reassignDeadline: String) {
        self.leadUnitID = leadUnitID
        self.coUnitIDs = coUnitIDs
        self.on = on
        self.dueDate = dueDate
        self.reassignDeadline = reassignDeadline
    }
}

/// What can be done to a proposal. Inputs that need the directory or the database (unit and
/// leader checks, due dates on the working-day calendar, the next number) are resolved by the
/// service before the command is applied.
public enum ProposalCommand: Sendable, Equatable {
    /// A co-signer confirms (or declines).
    case sign(confirm: Bool)
    /// Ends signing; co-signers who have not answered lapse (allowed once all answered or after the deadline).
    case closeSigning
    case withdraw
    /// Registered as 第`number`号.
    case register(number: Int32, category: String, note: String)
    case decline(reason: String, referredUnitIDs: [Int64])
    /// This proposal is a duplicate of `intoID`.
    case merge(intoID: Int64)
    /// `duplicate` was merged into this proposal; its proposers join.
    case absorb(duplicateID: Int64, memberIDs: [Int64])
    case assign(Assignment, note: String)
    case requestReassignment(reason: String)
    /// Approved with a new assignment, or kept as it is (nil).
    case decideReassignment(Assignment?, note: String)
    case contact(Xieshang_Proposal_V1_Contact)
    case coOpinion(String)
    case reply(text: String, grade: Xieshang_Proposal_V1_ReplyGrade)
    case setKey(Bool, leaderAccountID: Int64, leaderName: String)
    case chase(Xieshang_Proposal_V1_Chase)
    /// `rehandleDueDate` is the new due date should the rating be 不满意.
    case evaluate(Xieshang_Proposal_V1_Satisfaction, comment: String, rehandleDueDate: String)
    case followUpReview(on: String, findings: String)
    case convert(Xieshang_Proposal_V1_Conversion)
    case link(kind: Xieshang_Proposal_V1_LinkKind, targetID: Int64)
    /// The text corrected before review (checked by ``ProposalRules/revision(_:)``).
    case revise(Revision)

    /// The action's name in steps, events (`proposal.<name>`) and errors.
    public var name: String {
        switch self {
        case .sign: "signed"
        case .closeSigning: "signing_closed"
        case .withdraw: "withdrawn"
        case .register: "registered"
        case .decline: "not_registered"
        case .merge: "merged"
        case .absorb: "absorbed"
        case .assign: "assigned"
        case .requestReassignment: "reassignment_requested"
        case .decideReassignment: "reassignment_decided"
        case .contact: "contacted"
        case .coOpinion: "co_opinion_given"
        case .reply: "replied"
        case .setKey: "key_set"
        case .chase: "chased"
        case .evaluate: "evaluated"
        case .followUpReview: "reviewed"
        case .convert: "converted"
        case .link: "linked"
        case .revise: "revised"
        }
    }

    /// The action as a verb phrase for refusals ("it cannot be assigned now").
    var phrase: String {
        switch self {
        case .sign: "signed"
        case .closeSigning: "closed for signing"
        case .withdraw: "withdrawn"
        case .register: "registered"
        case .decline: "declined"
        case .merge: "merged"
        case .absorb: "merged into"
        case .assign: "assigned"
        case .requestReassignment: "sent back for re-assignment"
        case .decideReassignment: "re-assigned"
        case .contact: "given a contact record"
        case .coOpinion: "given a co-unit opinion"
        case .reply: "replied to"
        case .setKey: "marked as a key proposal"
        case .chase: "chased"
        case .evaluate: "evaluated"
        case .followUpReview: "reviewed"
        case .convert: "recorded as converted"
        case .link: "linked"
        case .revise: "revised"
        }
    }
}

/// A proposal's corrected text: title, 案由, 办法 and category.
public struct Revision: Sendable, Equatable {
    public var title: String
    public var reasons: String
    public var suggestions: String
    public var category: String

    public init(title: String, reasons: String, suggestions: String, category: String) {
        self.title = title
        self.reasons = reasons
        self.suggestions = suggestions
        self.category = category
    }
}

/// The life of a proposal (DOMAIN.md §4) as a pure function: the states a command may start from,
/// who may give it, and the proposal it leaves. No I/O; the service stores the result.
public enum ProposalMachine {
    /// Being dealt with by units (in a fixed order, for queries).
    static let withUnits: [ProposalState] = [.assigned, .reassignRequested, .handling]

    /// The states each command may start from.
    public static func sources(of command: ProposalCommand) -> Set<ProposalState> {
        switch command {
        case .sign, .closeSigning: [.signing]
        case .withdraw: [.signing, .submitted]
        case .register, .decline, .merge: [.submitted]
        case .absorb: [.submitted, .registered, .assigned, .handling]
        case .assign: [.registered, .assigned, .handling]
        case .requestReassignment: [.assigned, .handling]
        case .decideReassignment: [.reassignRequested]
        case .contact: [.assigned, .handling, .replied]
        case .coOpinion: [.assigned, .handling]
        case .reply: [.assigned, .handling]
        case .setKey: [.registered, .assigned, .reassignRequested, .handling, .replied, .evaluated]
        case .chase: Set(withUnits)
        case .evaluate: [.replied]
        case .followUpReview, .convert: [.replied, .evaluated]
        case .link: Set(ProposalState.allKnownCases).subtracting([.unspecified])
        // Until review starts; a draft made by escalation is corrected this way too.
        case .revise: [.signing, .submitted]
        }
    }

    /// Whether `who` works for the lead unit or a co-unit of `p`.
    static func assignedUnit(_ p: Proposal, _ who: Participant) -> Bool {
        who.has(.handlingUnit) && who.unitID != 0 && (p.leadUnitId == who.unitID || p.coUnitIds.contains(who.unitID))
    }

    /// Whether `who` is the member a proposal belongs to (the lead member or a group's contact).
    static func proposer(_ p: Proposal, _ who: Participant) -> Bool {
        who.has(.member) && who.memberID != 0 && who.memberID == p.leadMemberId
    }

    /// Throws PERMISSION_DENIED unless `who` may give `command` for `p`.
    public static func authorize(_ command: ProposalCommand, on p: Proposal, by who: Participant) throws {
        let staff = who.has(.committeeStaff)
        let allowed: Bool
        switch command {
        case .sign:
            allowed = who.has(.member) && who.memberID != 0 && p.coSigners.contains { $0.memberId == who.memberID }
        case .closeSigning, .withdraw, .revise:
            allowed = staff || proposer(p, who)
        case .register, .decline, .merge, .absorb, .assign, .decideReassignment, .chase, .followUpReview, .convert, .link:
            allowed = staff
        case .setKey:
            // Leaders choose the key proposals they will oversee (重点提案).
            allowed = staff || who.has(.leader)
        case .requestReassignment:
            allowed = assignedUnit(p, who)
        case .contact:
            allowed = staff || assignedUnit(p, who)
        case .coOpinion:
            allowed = who.has(.handlingUnit) && who.unitID != 0 && p.coUnitIds.contains(who.unitID)
        case .reply:
            allowed = staff || (who.has(.handlingUnit) && who.unitID != 0 && who.unitID == p.leadUnitId)
        case .evaluate:
            allowed = staff || proposer(p, who)
        }
        if !allowed {
            throw DomainError.forbidden("proposal \(p.id) cannot be \(command.phrase) by this account")
        }
    }

    /// Throws unless `who` may give `command` for `p` in its state: PERMISSION_DENIED, or
    /// FAILED_PRECONDITION naming the current state.
    public static func check(_ command: ProposalCommand, on p: Proposal, by who: Participant) throws {
        try authorize(command, on: p, by: who)
        guard sources(of: command).contains(p.state) else {
            throw DomainError.notAllowed("proposal \(p.id) is \(p.state.label); it cannot be \(command.phrase) now")
        }
    }

    /// The proposal after `command` on `today` (at `ms`), and the event type to record.
    /// FAILED_PRECONDITION naming the current state when the state does not allow it;
    /// INVALID_ARGUMENT for missing inputs.
    public static func apply(_ command: ProposalCommand, to p: Proposal, by who: Participant, at ms: Int64) throws -> (Proposal, String) {
        try check(command, on: p, by: who)
        let today = CivilDate.china(unixMilliseconds: ms)
        var next = p
        var note = ""
        var eventType = "proposal.\(command.name)"
        switch command {
        case .sign(let confirm):
            let i = p.coSigners.firstIndex { $0.memberId == who.memberID }!
            if let deadline = CivilDate(p.signingDeadline), deadline < today {
                throw DomainError.notAllowed("proposal \(p.id): signing closed on \(p.signingDeadline)")
            }
            next.coSigners[i].status = confirm ? .confirmed : .declined
            next.coSigners[i].answeredAtUnixMs = ms
            note = confirm ? "confirmed" : "declined"
        case .closeSigning:
            let pending = p.coSigners.filter { $0.status == .pending }
            let deadlinePassed = CivilDate(p.signingDeadline).map { $0 < today } ?? true
            if !pending.isEmpty && !deadlinePassed {
                throw DomainError.notAllowed("proposal \(p.id): \(pending.map(\.name).joined(separator: "、")) have not answered; signing is open until \(p.signingDeadline)")
            }
            for i in next.coSigners.indices where next.coSigners[i].status == .pending { next.coSigners[i].status = .lapsed }
            if !next.coSigners.contains(where: { $0.status == .confirmed }) {
                next.proposerKind = .member
                note = "no co-signer confirmed; submitted as an individual proposal"
            }
            next.state = .submitted
        case .withdraw:
            next.state = .withdrawn
        case .register(let number, let category, let n):
            guard number > 0 else { throw DomainError.invalid(field: "number", message: "required") }
            if !category.isEmpty { next.category = category }
            guard !next.category.isEmpty else { throw DomainError.invalid(field: "category", message: "required to register") }
            next.number = number
            next.numberLabel = "第\(number)号"
            next.registeredOn = today.description
            next.state = .registered
            note = [next.numberLabel, n].filter { !$0.isEmpty }.joined(separator: " ")
        case .decline(let reason, let units):
            guard !reason.isEmpty else { throw DomainError.invalid(field: "reason", message: "required") }
            next.declineReason = reason
            next.referredUnitIds = units
            next.state = .notRegistered
            note = reason
        case .merge(let into):
            guard into != p.id else { throw DomainError.invalid(field: "into_id", message: "a proposal cannot be merged into itself") }
            next.mergedIntoId = into
            next.state = .merged
        case .absorb(let duplicate, let members):
            if !next.mergedIds.contains(duplicate) { next.mergedIds.append(duplicate) }
            for m in members where m != 0 && !next.mergedMemberIds.contains(m) && m != next.leadMemberId { next.mergedMemberIds.append(m) }
            note = "merged proposal \(duplicate)"
        case .assign(let a, let n):
            setAssignment(a, on: &next)
            if p.state != .registered { eventType = "proposal.reassigned" }
            note = n
        case .requestReassignment(let reason):
            guard !reason.isEmpty else { throw DomainError.invalid(field: "reason", message: "required") }
            if let deadline = CivilDate(p.reassignDeadline), deadline < today {
                throw DomainError.notAllowed("proposal \(p.id): re-assignment could be asked for until \(p.reassignDeadline)")
            }
            var r = Xieshang_Proposal_V1_Reassignment()
            r.unitId = who.unitID
            r.reason = reason
            r.requestedAtUnixMs = ms
            next.reassignments.append(r)
            next.state = .reassignRequested
            note = reason
        case .decideReassignment(let a, let n):
            if let i = next.reassignments.lastIndex(where: { !$0.decided }) {
                next.reassignments[i].decided = true
                next.reassignments[i].approved = a != nil
                next.reassignments[i].decisionNote = n
            }
            if let a {
                setAssignment(a, on: &next)
                eventType = "proposal.reassigned"
            } else {
                next.state = p.contacts.isEmpty ? .assigned : .handling
                eventType = "proposal.reassignment_refused"
            }
            note = n
        case .contact(let c):
            guard c.method != .unspecified else { throw DomainError.invalid(field: "method", message: "required") }
            guard c.unitId == p.leadUnitId || p.coUnitIds.contains(c.unitId) else {
                throw DomainError.invalid(field: "unit_id", message: "unit \(c.unitId) is not assigned proposal \(p.id)")
            }
            var record = c
            record.atUnixMs = ms
            record.recordedBy = who.name
            if record.memberId == 0 { record.memberId = p.leadMemberId }
            if record.on.isEmpty { record.on = today.description }
            next.contacts.append(record)
            if p.state == .assigned { next.state = .handling }
            note = c.note
        case .coOpinion(let text):
            guard !text.isEmpty else { throw DomainError.invalid(field: "text", message: "required") }
            var o = Xieshang_Proposal_V1_CoOpinion()
            o.unitId = who.unitID
            o.text = text
            o.atUnixMs = ms
            next.coOpinions.removeAll { $0.unitId == who.unitID }
            next.coOpinions.append(o)
        case .reply(let text, let grade):
            guard !text.isEmpty else { throw DomainError.invalid(field: "text", message: "required") }
            guard grade != .unspecified else { throw DomainError.invalid(field: "grade", message: "required") }
            var r = Xieshang_Proposal_V1_Reply()
            r.unitId = p.leadUnitId
            r.text = text
            r.grade = grade
            r.repliedOn = today.description
            r.atUnixMs = ms
            r.onTime = CivilDate(p.dueDate).map { today <= $0 } ?? true
            r.contacted = p.contacts.contains { $0.unitId == p.leadUnitId }
            next.reply = r
            next.state = .replied
            note = "\(grade.label)类"
        case .setKey(let key, let leader, let name):
            if key && leader == 0 { throw DomainError.invalid(field: "leader_account_id", message: "a key proposal needs its overseeing leader") }
            next.key = key
            next.overseeingLeaderAccountId = key ? leader : 0
            next.overseeingLeaderName = key ? name : ""
            note = key ? name : "no longer a key proposal"
        case .chase(let c):
            guard c.method != .unspecified else { throw DomainError.invalid(field: "method", message: "required") }
            var record = c
            record.atUnixMs = ms
            record.by = who.name
            if record.unitId == 0 { record.unitId = p.leadUnitId }
            next.chases.append(record)
            note = [c.whom, c.note].filter { !$0.isEmpty }.joined(separator: ": ")
        case .evaluate(let satisfaction, let comment, let rehandleDue):
            guard satisfaction != .unspecified else { throw DomainError.invalid(field: "satisfaction", message: "required") }
            var e = Xieshang_Proposal_V1_Evaluation()
            e.satisfaction = satisfaction
            e.comment = comment
            e.atUnixMs = ms
            e.by = who.name
            next.evaluations.append(e)
            next.satisfaction = satisfaction
            note = comment
            if satisfaction == .dissatisfied {
                // 不满意: the lead unit handles it again with a new due date.
                if let r = p.reply { next.previousReplies.append(r) }
                next.reply = nil
                next.rehandleCount += 1
                next.dueDate = rehandleDue
                next.state = .handling
                eventType = "proposal.rehandling"
            } else {
                next.state = .evaluated
            }
        case .followUpReview(let on, let findings):
            guard p.key else { throw DomainError.notAllowed("proposal \(p.id) is not a key proposal; follow-up reviews are of key proposals") }
            guard !findings.isEmpty else { throw DomainError.invalid(field: "findings", message: "required") }
            var r = Xieshang_Proposal_V1_FollowUpReview()
            r.on = on.isEmpty ? today.description : on
            r.findings = findings
            r.by = who.name
            r.atUnixMs = ms
            next.followUpReviews.append(r)
            note = findings
        case .convert(let c):
            guard !c.title.isEmpty else { throw DomainError.invalid(field: "conversion.title", message: "required") }
            var record = c
            record.atUnixMs = ms
            next.conversions.append(record)
            note = c.title
        case .revise(let r):
            next.title = r.title
            next.reasons = r.reasons
            next.suggestions = r.suggestions
            next.category = r.category
            // Co-signers signed the old text: a changed text goes back to them.
            let changed = r.title != p.title || r.reasons != p.reasons || r.suggestions != p.suggestions
            if changed && p.state == .signing {
                for i in next.coSigners.indices where next.coSigners[i].status != .pending {
                    next.coSigners[i].status = .pending
                    next.coSigners[i].answeredAtUnixMs = 0
                }
                note = "text changed: co-signers asked again"
            }
        case .link(let kind, let target):
            guard kind != .unspecified else { throw DomainError.invalid(field: "kind", message: "required") }
            guard target > 0 else { throw DomainError.invalid(field: "target_id", message: "required") }
            if !next.links.contains(where: { $0.kind == kind && $0.targetId == target }) {
                var l = Xieshang_Proposal_V1_Link()
                l.kind = kind
                l.targetId = target
                l.atUnixMs = ms
                next.links.append(l)
            }
        }
        next.steps.append(step(next.state, action: String(eventType.dropFirst("proposal.".count)), by: who.name, at: ms, note: note))
        return (next, eventType)
    }

    static func setAssignment(_ a: Assignment, on p: inout Proposal) {
        p.leadUnitId = a.leadUnitID
        p.coUnitIds = a.coUnitIDs
        p.assignedOn = a.on
        p.dueDate = a.dueDate
        p.reassignDeadline = a.reassignDeadline
        p.coOpinions.removeAll { !a.coUnitIDs.contains($0.unitId) }
        p.state = .assigned
    }

    /// A new proposal as submitted at `ms` by `name`: signing when it has co-signers.
    public static func submitted(_ p: Proposal, by name: String, at ms: Int64) -> Proposal {
        var r = p
        r.state = p.coSigners.isEmpty ? .submitted : .signing
        r.submittedAtUnixMs = ms
        r.submittedOn = CivilDate.china(unixMilliseconds: ms).description
        r.steps = [step(r.state, action: "submitted", by: name, at: ms)]
        return r
    }

    static func step(_ state: ProposalState, action: String, by name: String, at ms: Int64, note: String = "") -> Xieshang_Proposal_V1_Step {
        var step = Xieshang_Proposal_V1_Step()
        step.state = state
        step.atUnixMs = ms
        step.actor = name
        step.action = action
        step.note = note
        return step
    }

    /// Whether a proposal is overdue on `today`: still with its units and past its due date.
    public static func isOverdue(_ p: Proposal, today: CivilDate) -> Bool {
        guard withUnits.contains(p.state), let due = CivilDate(p.dueDate) else { return false }
        return due < today
    }
}

extension Xieshang_Proposal_V1_ProposalState {
    /// The state's name in messages, e.g. `reassign requested`.
    public var label: String {
        switch self {
        case .unspecified: "unspecified"
        case .signing: "signing"
        case .submitted: "submitted"
        case .registered: "registered"
        case .notRegistered: "not registered"
        case .merged: "merged"
        case .assigned: "assigned"
        case .reassignRequested: "reassign requested"
        case .handling: "handling"
        case .replied: "replied"
        case .evaluated: "evaluated"
        case .withdrawn: "withdrawn"
        default: "state \(rawValue)"
        }
    }

    /// 中文, for exports.
    public var chinese: String {
        switch self {
        case .signing: "联名征集中"
        case .submitted: "待审查"
        case .registered: "已立案"
        case .notRegistered: "不予立案"
        case .merged: "已并案"
        case .assigned: "已交办"
        case .reassignRequested: "申请调整"
        case .handling: "办理中"
        case .replied: "已答复"
        case .evaluated: "已评价"
        case .withdrawn: "已撤回"
        default: ""
        }
    }
}

extension Xieshang_Proposal_V1_ReplyGrade {
    /// A, B or C.
    public var label: String {
        switch self {
        case .a: "A"
        case .b: "B"
        case .c: "C"
        default: ""
        }
    }
}

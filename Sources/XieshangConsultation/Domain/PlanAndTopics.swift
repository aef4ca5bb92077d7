import XieshangAPI
import XieshangKit

public typealias Plan = Xieshang_Consultation_V1_Plan
public typealias Topic = Xieshang_Consultation_V1_Topic

/// The annual plan's life: draft → submitted → approved → published; submitted → draft.
public enum PlanCommand: Sendable, Equatable {
    /// New title and entries (draft only).
    case edit(title: String, entries: [Xieshang_Consultation_V1_PlanEntry])
    case submit
    case approve(by: String, on: String)
    case giveBack(reason: String)
    case publish

    var name: String {
        switch self {
        case .edit: "updated"
        case .submit: "submitted"
        case .approve: "approved"
        case .giveBack: "returned"
        case .publish: "published"
        }
    }

    var source: Xieshang_Consultation_V1_PlanState {
        switch self {
        case .edit, .submit: .draft
        case .approve, .giveBack: .submitted
        case .publish: .approved
        }
    }
}

public enum PlanMachine {
    /// Staff draft, submit and publish; the admin records the party committee's approval or
    /// returns the plan.
    public static func apply(_ command: PlanCommand, to p: Plan, by who: Participant, at ms: Int64) throws -> (Plan, String) {
        let allowed: Bool
        switch command {
        case .edit, .submit: allowed = who.has(.committeeStaff) || who.has(.committeeAdmin)
        // The committee's leaders approve the annual plan (主席会议), or give it back.
        case .approve, .giveBack: allowed = who.has(.committeeAdmin) || who.has(.leader)
        case .publish: allowed = who.has(.committeeStaff) || who.has(.committeeAdmin)
        }
        guard allowed else { throw DomainError.forbidden("plan \(p.id) cannot be \(command.name) by this account") }
        guard p.state == command.source else {
            throw DomainError.notAllowed("plan \(p.id) is \(p.state.label); it cannot be \(command.name) now")
        }
        let today = CivilDate.china(unixMilliseconds: ms).description
        var next = p
        var note = ""
        switch command {
        case .edit(let title, let entries):
            next.title = title
            next.entries = entries
        case .submit:
            guard !p.entries.isEmpty else { throw DomainError.invalid(field: "entries", message: "a plan needs at least one entry") }
            next.state = .submitted
            next.returnReason = ""
        case .approve(let by, let on):
            guard !by.isEmpty else { throw DomainError.invalid(field: "note", message: "who approved it is required") }
            next.approvedBy = by
            next.approvedOn = on.isEmpty ? today : on
            next.state = .approved
            note = by
        case .giveBack(let reason):
            guard !reason.isEmpty else { throw DomainError.invalid(field: "note", message: "the reason is required") }
            next.returnReason = reason
            next.state = .draft
            note = reason
        case .publish:
            next.publishedOn = today
            next.state = .published
        }
        next.history.append(History.record(command.name, by: who.name, at: ms, note: note))
        return (next, "consultation_plan.\(command.name)")
    }

    /// Checks a plan's title and entries (the year is checked by the caller).
    public static func validated(_ p: Plan) throws -> Plan {
        var r = p
        r.title = try Check.text(p.title, "title", max: 100)
        guard p.entries.count <= 200 else { throw DomainError.invalid(field: "entries", message: "at most 200 entries") }
        for i in r.entries.indices {
            let f = "entries[\(i)]"
            r.entries[i].topic = try Check.text(r.entries[i].topic, "\(f).topic", max: 200)
            try Check.known(r.entries[i].form, "\(f).form")
            guard (1...12).contains(r.entries[i].plannedMonth) else {
                throw DomainError.invalid(field: "\(f).planned_month", message: "must be 1 to 12")
            }
            try Check.id(r.entries[i].leadSpecialCommitteeId, "\(f).lead_special_committee_id")
            try Check.id(r.entries[i].topicId, "\(f).topic_id")
            r.entries[i].note = try Check.text(r.entries[i].note, "\(f).note", required: false, max: 500, multiline: true)
        }
        return r
    }
}

/// The topic pool: proposed → shortlisted → chosen | rejected.
public enum TopicCommand: Sendable, Equatable {
    case shortlist(note: String)
    case choose(note: String)
    case reject(reason: String)
    case link(kind: Xieshang_Consultation_V1_LinkKind, targetID: Int64)

    var name: String {
        switch self {
        case .shortlist: "shortlisted"
        case .choose: "chosen"
        case .reject: "rejected"
        case .link: "linked"
        }
    }

    var sources: Set<Xieshang_Consultation_V1_TopicState> {
        switch self {
        case .shortlist: [.proposed]
        case .choose: [.proposed, .shortlisted]
        case .reject: [.proposed, .shortlisted]
        case .link: [.proposed, .shortlisted, .chosen, .rejected]
        }
    }
}

public enum TopicMachine {
    public static func apply(_ command: TopicCommand, to t: Topic, by who: Participant, at ms: Int64) throws -> (Topic, String) {
        guard who.has(.committeeStaff) else { throw DomainError.forbidden("topic \(t.id) cannot be \(command.name) by this account") }
        guard command.sources.contains(t.state) else {
            throw DomainError.notAllowed("topic \(t.id) is \(t.state.label); it cannot be \(command.name) now")
        }
        var next = t
        var note = ""
        switch command {
        case .shortlist(let n):
            next.state = .shortlisted
            note = n
        case .choose(let n):
            next.state = .chosen
            next.decisionNote = n
            note = n
        case .reject(let reason):
            guard !reason.isEmpty else { throw DomainError.invalid(field: "note", message: "the reason is required") }
            next.state = .rejected
            next.decisionNote = reason
            note = reason
        case .link(let kind, let target):
            try History.link(kind, target, at: ms, in: &next.links)
        }
        next.history.append(History.record(command.name, by: who.name, at: ms, note: note))
        return (next, "consultation_topic.\(command.name)")
    }
}

extension Xieshang_Consultation_V1_PlanState {
    public var label: String {
        switch self {
        case .draft: "draft"
        case .submitted: "submitted"
        case .approved: "approved"
        case .published: "published"
        default: "unspecified"
        }
    }
}

extension Xieshang_Consultation_V1_TopicState {
    public var label: String {
        switch self {
        case .proposed: "proposed"
        case .shortlisted: "shortlisted"
        case .chosen: "chosen"
        case .rejected: "rejected"
        default: "unspecified"
        }
    }
}

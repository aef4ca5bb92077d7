import XieshangAPI
import XieshangRPC

/// A notification to be made: for whom, about what. Its key (made by the store) is the event's
/// place in its feed with `kind` and `to`, so reading an event again makes nothing new.
public struct Draft: Equatable, Sendable {
    public var committee: Int64
    public var kind: String
    public var to: Address
    public var title: String
    public var body: String
    public var entityKind: String
    public var entityID: String
    /// The key when it is not the event's (reminders: the deadline, its date and the stage).
    public var key: String = ""

    public init(committee: Int64, kind: String, to: Address, title: String, body: String, entityKind: String, entityID: String) {
        self.committee = committee
        self.kind = kind
        self.to = to
        self.title = title
        self.body = body
        self.entityKind = entityKind
        self.entityID = entityID
    }
}

/// A date someone must meet, kept while it is open so the daily run can remind them.
public struct Deadline: Equatable, Sendable {
    /// One per matter and duty, e.g. `item:42`, `proposal:7`, `signing:7`, `suggestion:3:2`.
    public var key: String
    public var committee: Int64
    public var entityKind: String
    public var entityID: String
    /// What is due, in Chinese ("答复交办事项「…」").
    public var subject: String
    /// YYYY-MM-DD.
    public var due: String
    public var to: [Address]
    /// Whether an overdue reminder follows (a signing deadline that passed just lapses).
    public var remindsOverdue: Bool

    public init(key: String, committee: Int64, entityKind: String, entityID: String, subject: String, due: String,
                to: [Address], remindsOverdue: Bool = true) {
        self.key = key
        self.committee = committee
        self.entityKind = entityKind
        self.entityID = entityID
        self.subject = subject
        self.due = due
        self.to = to
        self.remindsOverdue = remindsOverdue
    }
}

/// What one event changes in notify: notifications to make, deadlines to keep or drop, and the
/// items' units (an instruction on a report reaches the units of its items).
public struct Outcome: Equatable, Sendable {
    public var drafts: [Draft] = []
    public var deadlines: [Deadline] = []
    /// Deadlines no longer open.
    public var cleared: [String] = []
    public var itemUnits: [Int64: Int64] = [:]

    public init() {}

    /// `deadline` kept when `open` (and it has a date and someone to tell), else dropped when it
    /// `was` open before the event (most events change nothing about a deadline: no write).
    mutating func keep(_ deadline: Deadline, open: Bool, was: Bool) {
        if open && !deadline.due.isEmpty && !deadline.to.isEmpty { deadlines.append(deadline) } else if was { cleared.append(deadline.key) }
    }
}

/// Who must be told of each event (the issue's list), as a pure function of the event's before
/// and after and what notify remembers of earlier events. Every rule compares before with after,
/// so an update that changes something else tells no one again.
public enum Rules {
    /// What the event means for notify. `unitOfItem` answers from earlier events of the same feed.
    public static func outcome(of e: Xieshang_Events_V1_Event, unitOfItem: (Int64) -> Int64 = { _ in 0 }) throws -> Outcome {
        switch e.payloadType {
        case Xieshang_Intake_V1_Item.protoName:
            return item(e, try decode(e.before), try decode(e.after))
        case Xieshang_Intake_V1_OpinionReport.protoName:
            return report(e, try decode(e.before), try decode(e.after), unitOfItem: unitOfItem)
        case Xieshang_Proposal_V1_Proposal.protoName:
            return proposal(e, try decode(e.before), try decode(e.after))
        case Xieshang_Consultation_V1_Consultation.protoName:
            return consultation(e, try decode(e.before), try decode(e.after))
        case Xieshang_Consultation_V1_Meeting.protoName:
            return meeting(e, try decode(e.before), try decode(e.after))
        default:
            return Outcome()
        }
    }

    static func decode<M: ProtoMessage>(_ bytes: [UInt8]) throws -> M {
        bytes.isEmpty ? M() : try M(serializedBytes: bytes)
    }

    /// The start of `text`, at most `length` characters, for titles.
    static func short(_ text: String, _ length: Int = 24) -> String {
        let t = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return t.count <= length ? t : String(t.prefix(length)) + "…"
    }

    // MARK: intake

    static func item(_ e: Xieshang_Events_V1_Event, _ before: Xieshang_Intake_V1_Item, _ after: Xieshang_Intake_V1_Item) -> Outcome {
        var out = Outcome()
        let name = short(after.title.isEmpty ? after.text : after.title)
        func tell(_ kind: String, _ to: Address, _ title: String, _ body: String) {
            out.drafts.append(Draft(committee: e.committeeId, kind: kind, to: to, title: title, body: body, entityKind: "item", entityID: "\(after.id)"))
        }
        if after.unitId > 0 && after.unitId != before.unitId { out.itemUnits[after.id] = after.unitId }
        // Routed (or routed again to another unit after a reroute).
        if after.state == .routed && after.unitId > 0 && (before.state != .routed || before.unitId != after.unitId) {
            let due = after.dueDate.isEmpty ? "" : "，请于\(after.dueDate)前答复"
            tell("item.routed", .unit(after.unitId), "交办：\(name)", "委员联络服务中心交办社情民意事项「\(name)」\(due)。")
        }
        if after.rerouteRequested && !before.rerouteRequested {
            tell("item.reroute_requested", .liaisonStaff, "申请改办：\(name)", "承办单位申请改办「\(name)」：\(after.rerouteReason)")
        }
        if after.state == .answered && before.state != .answered {
            let body = "「\(name)」已有答复：\(short(after.reply, 200))"
            if after.bringingMemberId > 0 { tell("item.replied", .member(after.bringingMemberId), "已答复：\(name)", body + " 请带话给群众。") }
            if !after.ticketCode.isEmpty { tell("item.replied", .ticket(after.ticketCode), "您的意见已有答复", body) }
        }
        if after.state == .fedBack && before.state != .fedBack && !after.ticketCode.isEmpty {
            tell("item.fed_back", .ticket(after.ticketCode), "委员已反馈", "「\(name)」的办理情况：\(short(after.feedback, 200)) 欢迎评价。")
        }
        if after.satisfaction == .dissatisfied && before.satisfaction != .dissatisfied && after.unitId > 0 {
            tell("item.dissatisfied", .unit(after.unitId), "不满意：\(name)", "群众对「\(name)」的办理不满意：\(after.satisfactionComment)")
        }
        let handling: Set<Xieshang_Intake_V1_ItemState> = [.routed, .inProgress]
        out.keep(Deadline(key: "item:\(after.id)", committee: e.committeeId, entityKind: "item", entityID: "\(after.id)",
                          subject: "答复交办事项「\(name)」", due: after.dueDate,
                          to: after.unitId > 0 ? [.unit(after.unitId), .liaisonStaff] : []),
                 open: handling.contains(after.state), was: handling.contains(before.state) && !before.dueDate.isEmpty)
        return out
    }

    static func report(_ e: Xieshang_Events_V1_Event, _ before: Xieshang_Intake_V1_OpinionReport, _ after: Xieshang_Intake_V1_OpinionReport,
                       unitOfItem: (Int64) -> Int64) -> Outcome {
        var out = Outcome()
        guard after.instructions.count > before.instructions.count else { return out }
        var units = Set(after.itemIds.map(unitOfItem).filter { $0 > 0 })
        units.formUnion(after.followUps.map(\.unitId).filter { $0 > 0 })
        for i in after.instructions.dropFirst(before.instructions.count) {
            for u in units.sorted() {
                out.drafts.append(Draft(committee: e.committeeId, kind: "report.instruction", to: .unit(u), title: "领导批示：\(short(after.title))",
                                        body: "\(i.leader)批示（\(i.date)）：\(i.text)", entityKind: "report", entityID: "\(after.id)"))
            }
        }
        return out
    }

    // MARK: proposals

    static func proposal(_ e: Xieshang_Events_V1_Event, _ before: Xieshang_Proposal_V1_Proposal, _ after: Xieshang_Proposal_V1_Proposal) -> Outcome {
        var out = Outcome()
        let name = short(after.title)
        let label = after.numberLabel.isEmpty ? "提案「\(name)」" : "\(after.numberLabel)提案「\(name)」"
        func tell(_ kind: String, _ to: [Address], _ title: String, _ body: String) {
            for a in to {
                out.drafts.append(Draft(committee: e.committeeId, kind: kind, to: a, title: title, body: body, entityKind: "proposal", entityID: "\(after.id)"))
            }
        }
        let units = ([after.leadUnitId] + after.coUnitIds).filter { $0 > 0 }.map(Address.unit)
        let lead = after.leadMemberId > 0 ? [Address.member(after.leadMemberId)] : []
        let asked = Set(before.coSigners.map(\.memberId))
        if after.state == .signing {
            let invited = after.coSigners.filter { !asked.contains($0.memberId) && $0.status == .pending }.map { Address.member($0.memberId) }
            let by = after.proposerName.isEmpty ? "" : "\(after.proposerName)"
            tell("proposal.cosign_invited", invited, "联名邀请：\(name)", "\(by)邀请您联名提案「\(name)」，请于\(after.signingDeadline)前确认。")
        }
        if before.state == .signing && after.state != .signing && after.state != .withdrawn {
            tell("proposal.signing_closed", lead + after.coSigners.map { .member($0.memberId) }, "联名已截止：\(name)",
                 "提案「\(name)」联名已截止，\(after.coSigners.filter { $0.status == .confirmed }.count)位委员确认联名。")
        }
        // Assigned, or re-assigned to other units; a refused reassignment (back to the same units) is news only as a decision.
        let unitsChanged = before.leadUnitId != after.leadUnitId || before.coUnitIds != after.coUnitIds
        let wasAssigned = before.state == .assigned || before.state == .reassignRequested
        if after.state == .assigned && (!wasAssigned || unitsChanged) && !units.isEmpty {
            let due = after.dueDate.isEmpty ? "" : "，请于\(after.dueDate)前答复"
            tell("proposal.assigned", units, "交办提案：\(name)", "\(label)已交办贵单位\(due)。")
        }
        for (i, r) in after.reassignments.enumerated() where r.decided && !(i < before.reassignments.count && before.reassignments[i].decided) {
            var to = [Address.unit(r.unitId)]
            if r.approved { to += units.filter { !to.contains($0) } }
            tell("proposal.reassignment_decided", to, r.approved ? "同意改办：\(name)" : "不同意改办：\(name)",
                 "\(label)的改办申请\(r.approved ? "已同意" : "未同意")。\(r.decisionNote)")
        }
        if after.state == .replied && before.state != .replied {
            tell("proposal.replied", lead, "提案已答复：\(name)", "\(label)已有答复，请评价办理情况。")
        }
        if after.evaluations.count > before.evaluations.count, after.evaluations.last?.satisfaction == .dissatisfied {
            tell("proposal.dissatisfied", units, "提案不满意：\(name)", "提案人对\(label)的答复不满意，请重新办理。\(after.evaluations.last?.comment ?? "")")
        }
        let pending = after.coSigners.filter { $0.status == .pending }.map { Address.member($0.memberId) }
        out.keep(Deadline(key: "signing:\(after.id)", committee: e.committeeId, entityKind: "proposal", entityID: "\(after.id)",
                          subject: "确认联名提案「\(name)」", due: after.signingDeadline, to: pending, remindsOverdue: false),
                 open: after.state == .signing, was: before.state == .signing)
        let handling: Set<Xieshang_Proposal_V1_ProposalState> = [.assigned, .handling, .reassignRequested]
        out.keep(Deadline(key: "proposal:\(after.id)", committee: e.committeeId, entityKind: "proposal", entityID: "\(after.id)",
                          subject: "答复\(label)", due: after.dueDate, to: units.isEmpty ? [] : units + [.committeeStaff]),
                 open: handling.contains(after.state), was: handling.contains(before.state))
        return out
    }

    // MARK: consultation

    static func consultation(_ e: Xieshang_Events_V1_Event, _ before: Xieshang_Consultation_V1_Consultation,
                             _ after: Xieshang_Consultation_V1_Consultation) -> Outcome {
        var out = Outcome()
        let name = short(after.title)
        let earlier = Dictionary(before.suggestions.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
        for s in after.suggestions {
            let was = earlier[s.number]
            if s.unitId > 0 && was?.unitId != s.unitId {
                out.drafts.append(Draft(committee: e.committeeId, kind: "consultation.responsibility_assigned", to: .unit(s.unitId),
                                        title: "责任清单：\(name)",
                                        body: "协商「\(name)」第\(s.number)条建议由贵单位落实\(s.dueDate.isEmpty ? "" : "，请于\(s.dueDate)前反馈")：\(short(s.text, 120))",
                                        entityKind: "consultation", entityID: "\(after.id)"))
            }
            out.keep(Deadline(key: "suggestion:\(after.id):\(s.number)", committee: e.committeeId, entityKind: "consultation", entityID: "\(after.id)",
                              subject: "反馈协商「\(name)」第\(s.number)条建议的落实情况", due: s.dueDate,
                              to: s.unitId > 0 ? [.unit(s.unitId), .committeeStaff] : []),
                     open: s.unitId > 0 && s.feedback.isEmpty && after.step != .archived && after.step != .cancelled,
                     was: (was?.unitId ?? 0) > 0)
        }
        return out
    }

    static func meeting(_ e: Xieshang_Events_V1_Event, _ before: Xieshang_Consultation_V1_Meeting, _ after: Xieshang_Consultation_V1_Meeting) -> Outcome {
        var out = Outcome()
        let name = short(after.title)
        let when = "\(after.startsAt.replacingOccurrences(of: "T", with: " "))\(after.venueName.isEmpty ? "" : "，\(after.venueName)")"
        func tell(_ kind: String, _ members: [Int64], _ title: String, _ body: String) {
            for m in members where m > 0 {
                out.drafts.append(Draft(committee: e.committeeId, kind: kind, to: .member(m), title: title, body: body, entityKind: "meeting", entityID: "\(after.id)"))
            }
        }
        let old = Dictionary(before.invitations.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
        let members = after.invitations.filter { $0.kind == .member }
        if after.state == .scheduled {
            tell("meeting.invited", members.filter { old[$0.number] == nil }.map(\.memberId), "会议邀请：\(name)", "请于\(when)参加「\(name)」，并回复是否出席。")
        }
        let moved = before.id > 0 && (before.startsAt != after.startsAt || before.endsAt != after.endsAt || before.venueId != after.venueId)
        if moved && after.state == .scheduled {
            tell("meeting.changed", members.filter { old[$0.number] != nil }.map(\.memberId), "会议变更：\(name)", "「\(name)」改为\(when)。")
        }
        if after.state == .cancelled && before.state != .cancelled {
            tell("meeting.cancelled", members.map(\.memberId), "会议取消：\(name)", "「\(name)」已取消。\(after.cancelReason)")
        }
        for i in members {
            guard let was = old[i.number] else { continue }
            if was.leave == .requested && (i.leave == .approved || i.leave == .refused) {
                tell("meeting.leave_decided", [i.memberId], i.leave == .approved ? "请假已批准：\(name)" : "请假未批准：\(name)",
                     "您在「\(name)」的请假\(i.leave == .approved ? "已批准" : "未批准")。\(i.leaveDecisionNote)")
            }
            if i.talkNeeded && !was.talkNeeded {
                tell("meeting.talk_needed", [i.memberId], "约谈提醒：\(name)", "您未请假缺席「\(name)」，按规定将进行约谈。")
            }
        }
        return out
    }
}

import XieshangAPI
import XieshangKit

/// What applying one event changes: facts to upsert, duty entries to add, directory rows.
public struct Effects: Sendable {
    public var facts: [Fact] = []
    public var duties: [Duty] = []
    public var directory: [DirectoryRow] = []
}

/// Turns one event of a source feed into ``Effects``. Pure: the before/after payloads, and two
/// lookups into what is already projected (the fact an update replaces, the member an item is
/// credited to), decide everything. Unknown kinds and undecodable payloads change nothing.
public enum Projector {
    public typealias Prior = (FactKey) -> Fact?

    public static func effects(_ e: Xieshang_Events_V1_Event, prior: Prior) -> Effects {
        var out = Effects()
        let at = Day.from(unixMilliseconds: e.atUnixMs)
        do {
            switch e.entityKind {
            case "committee":
                let c = try Xieshang_Directory_V1_Committee(serializedBytes: e.after)
                out.directory.append(.committee(id: c.id, parent: c.parentId, name: c.name))
            case "area":
                let a = try Xieshang_Directory_V1_Area(serializedBytes: e.after)
                if a.level == .town { out.directory.append(.town(id: a.id, committee: a.committeeId, name: a.name, archived: a.archived)) }
            case "work_station":
                let s = try Xieshang_Directory_V1_WorkStation(serializedBytes: e.after)
                out.directory.append(.station(id: s.id, committee: s.committeeId, town: s.townId, name: s.name))
            case "member":
                out.directory.append(.member(try Xieshang_Directory_V1_Member(serializedBytes: e.after)))
            case "item": try item(e, at: at, into: &out)
            case "relay": try relay(e, into: &out)
            case "report": try report(e, at: at, prior: prior, into: &out)
            case "proposal": try proposal(e, at: at, prior: prior, into: &out)
            case "consultation": try consultation(e, at: at, prior: prior, into: &out)
            case "consultation_topic": try topic(e, at: at, into: &out)
            case "meeting": try meeting(e, into: &out)
            case "opinion_post": try post(e, at: at, into: &out)
            case "roster": try roster(e, into: &out)
            default: break
            }
        } catch {
            return Effects()
        }
        return out
    }

    // MARK: Intake

    static func itemMember(_ i: Xieshang_Intake_V1_Item) -> Int64 {
        i.bringingMemberId != 0 ? i.bringingMemberId : (i.raiser?.memberId ?? 0)
    }

    static func item(_ e: Xieshang_Events_V1_Event, at: Int32, into out: inout Effects) throws {
        let i = try Xieshang_Intake_V1_Item(serializedBytes: e.after)
        var f = Fact(kind: .item, id: i.id, committee: i.committeeId, day: Day.from(i.receivedOn) ?? at)
        f.state = Int32(i.state.rawValue)
        f.category = i.category.isEmpty ? "未分类" : i.category
        f.member = itemMember(i)
        f.town = i.townId
        let afterRouting: Set<Xieshang_Intake_V1_ItemState> = [.routed, .inProgress, .answered, .fedBack, .closed]
        let answered: Set<Xieshang_Intake_V1_ItemState> = [.answered, .fedBack, .closed]
        f.measures.base = afterRouting.contains(i.state) ? 1 : 0
        f.measures.done = answered.contains(i.state) ? 1 : 0
        if answered.contains(i.state), let due = Day.from(i.dueDate),
           let reply = i.steps.last(where: { $0.state == .answered }) {
            f.measures.timed = 1
            f.measures.onTime = Day.from(unixMilliseconds: reply.atUnixMs) <= due ? 1 : 0
        }
        if i.satisfaction != .unspecified {
            f.measures.rated = 1
            f.measures.satisfied = i.satisfaction == .dissatisfied ? 0 : 1
        }
        out.facts.append(f)
        if e.before.isEmpty && f.member != 0 {
            out.duties.append(Duty(member: f.member, committee: f.committee, kind: .opinionBrought, day: f.day,
                                   refKind: "item", refID: "\(i.id)", note: i.title))
        }
    }

    static func relay(_ e: Xieshang_Events_V1_Event, into out: inout Effects) throws {
        let r = try Xieshang_Intake_V1_Relay(serializedBytes: e.after)
        let day = Day.from(r.date) ?? Day.from(unixMilliseconds: e.atUnixMs)
        var f = Fact(kind: .relay, id: r.id, committee: r.committeeId, day: day)
        f.member = r.memberId
        f.town = r.townId
        f.measures.a = Int64(r.audienceSize)
        out.facts.append(f)
        if e.before.isEmpty && r.memberId != 0 {
            out.duties.append(Duty(member: r.memberId, committee: r.committeeId, kind: .relay, day: day,
                                   refKind: "relay", refID: "\(r.id)", note: r.audience))
        }
    }

    static func report(_ e: Xieshang_Events_V1_Event, at: Int32, prior: Prior, into out: inout Effects) throws {
        let r = try Xieshang_Intake_V1_OpinionReport(serializedBytes: e.after)
        let before = e.before.isEmpty ? nil : try Xieshang_Intake_V1_OpinionReport(serializedBytes: e.before)
        let written = prior(FactKey(kind: .report, id: r.id))?.day ?? at
        var f = Fact(kind: .report, id: r.id, committee: r.committeeId, day: r.adopted ? (Day.from(r.adoptedOn) ?? written) : written)
        f.state = Int32(r.state.rawValue)
        f.measures.a = r.adopted ? 1 : 0
        f.measures.b = Int64(r.instructions.count)
        out.facts.append(f)
        // The members whose opinions the report carries, once each.
        var members: [Int64] = []
        for id in r.itemIds {
            if let m = prior(FactKey(kind: .item, id: id))?.member, m != 0, !members.contains(m) { members.append(m) }
        }
        if r.adopted && !(before?.adopted ?? false) {
            let day = Day.from(r.adoptedOn) ?? Day.from(unixMilliseconds: e.atUnixMs)
            for m in members {
                out.duties.append(Duty(member: m, committee: r.committeeId, kind: .opinionAdopted, day: day,
                                       refKind: "report", refID: "\(r.id)", note: r.adoptedBy))
            }
        }
        for instruction in r.instructions.dropFirst(before?.instructions.count ?? 0) {
            let day = Day.from(instruction.date) ?? Day.from(unixMilliseconds: e.atUnixMs)
            for m in members {
                out.duties.append(Duty(member: m, committee: r.committeeId, kind: .instructionWon, day: day,
                                       refKind: "report", refID: "\(r.id)", note: instruction.leader))
            }
        }
    }

    // MARK: Proposals

    static func proposal(_ e: Xieshang_Events_V1_Event, at: Int32, prior: Prior, into out: inout Effects) throws {
        let p = try Xieshang_Proposal_V1_Proposal(serializedBytes: e.after)
        let before = e.before.isEmpty ? nil : try Xieshang_Proposal_V1_Proposal(serializedBytes: e.before)
        let day = Day.from(p.submittedOn) ?? prior(FactKey(kind: .proposal, id: p.id))?.day ?? at
        var f = Fact(kind: .proposal, id: p.id, committee: p.committeeId, day: day)
        f.state = Int32(p.state.rawValue)
        f.category = p.category.isEmpty ? "未分类" : p.category
        f.member = p.leadMemberId
        f.sector = p.sectorId
        let undecided: Set<Xieshang_Proposal_V1_ProposalState> = [.unspecified, .signing, .submitted, .withdrawn, .merged]
        let registered: Set<Xieshang_Proposal_V1_ProposalState> = [.registered, .assigned, .reassignRequested, .handling, .replied, .evaluated]
        let assigned: Set<Xieshang_Proposal_V1_ProposalState> = [.assigned, .reassignRequested, .handling, .replied, .evaluated]
        f.measures.a = undecided.contains(p.state) ? 0 : 1
        f.measures.b = registered.contains(p.state) ? 1 : 0
        f.measures.base = assigned.contains(p.state) ? 1 : 0
        f.measures.done = [.replied, .evaluated].contains(p.state) ? 1 : 0
        if let reply = p.reply, !reply.repliedOn.isEmpty {
            f.measures.timed = 1
            f.measures.onTime = reply.onTime ? 1 : 0
        }
        if p.satisfaction != .unspecified {
            f.measures.rated = 1
            f.measures.satisfied = p.satisfaction == .dissatisfied ? 0 : 1
        }
        f.measures.c = p.key ? 1 : 0
        out.facts.append(f)

        let byMember = [.member, .joint].contains(p.proposerKind) && p.leadMemberId != 0
        if byMember && (before?.submittedAtUnixMs ?? 0) == 0 && p.submittedAtUnixMs != 0 {
            out.duties.append(Duty(member: p.leadMemberId, committee: p.committeeId, kind: .proposalLead, day: day,
                                   refKind: "proposal", refID: "\(p.id)", note: p.title))
        }
        for s in p.coSigners where s.status == .confirmed && s.memberId != 0 {
            let was = before?.coSigners.first { $0.memberId == s.memberId }?.status
            guard was != .confirmed else { continue }
            let signed = s.answeredAtUnixMs != 0 ? Day.from(unixMilliseconds: s.answeredAtUnixMs) : Day.from(unixMilliseconds: e.atUnixMs)
            out.duties.append(Duty(member: s.memberId, committee: p.committeeId, kind: .proposalCosigned, day: signed,
                                   refKind: "proposal", refID: "\(p.id)", note: p.title))
        }
        if byMember && p.state == .registered && before?.state != .registered {
            out.duties.append(Duty(member: p.leadMemberId, committee: p.committeeId, kind: .proposalRegistered,
                                   day: Day.from(p.registeredOn) ?? Day.from(unixMilliseconds: e.atUnixMs),
                                   refKind: "proposal", refID: "\(p.id)", note: p.numberLabel))
        }
    }

    // MARK: Consultation

    static func consultation(_ e: Xieshang_Events_V1_Event, at: Int32, prior: Prior, into out: inout Effects) throws {
        let c = try Xieshang_Consultation_V1_Consultation(serializedBytes: e.after)
        let before = e.before.isEmpty ? nil : try Xieshang_Consultation_V1_Consultation(serializedBytes: e.before)
        let started = c.history.first.map { Day.from(unixMilliseconds: $0.atUnixMs) } ?? prior(FactKey(kind: .consultation, id: c.id))?.day ?? at
        var f = Fact(kind: .consultation, id: c.id, committee: c.committeeId, day: started)
        f.state = Int32(c.step.rawValue)
        f.category = "\(c.form)"
        f.member = c.hostMemberId
        f.town = c.townId
        f.sector = c.sectorId
        if !c.resultsOn.isEmpty {
            f.measures.timed = 1
            f.measures.onTime = c.resultsOnTime ? 1 : 0
        }
        f.measures.done = c.heldMeetingId != 0 ? 1 : 0
        out.facts.append(f)
        for activity in c.research.dropFirst(before?.research.count ?? 0) {
            let day = Day.from(activity.on) ?? Day.from(unixMilliseconds: e.atUnixMs)
            for m in Set(activity.memberIds).sorted() {
                out.duties.append(Duty(member: m, committee: c.committeeId, kind: .research, day: day,
                                       refKind: "consultation", refID: "\(c.id)", note: activity.place))
            }
        }
    }

    static func topic(_ e: Xieshang_Events_V1_Event, at: Int32, into out: inout Effects) throws {
        guard e.before.isEmpty else { return }
        let t = try Xieshang_Consultation_V1_Topic(serializedBytes: e.after)
        if t.proposerMemberId != 0 {
            out.duties.append(Duty(member: t.proposerMemberId, committee: t.committeeId, kind: .topicSuggested, day: at,
                                   refKind: "consultation_topic", refID: "\(t.id)", note: t.title))
        }
    }

    static func meeting(_ e: Xieshang_Events_V1_Event, into out: inout Effects) throws {
        let m = try Xieshang_Consultation_V1_Meeting(serializedBytes: e.after)
        let before = e.before.isEmpty ? nil : try Xieshang_Consultation_V1_Meeting(serializedBytes: e.before)
        let day = Day.from(m.startsAt) ?? Day.from(unixMilliseconds: e.atUnixMs)
        var f = Fact(kind: .meeting, id: m.id, committee: m.committeeId, day: day)
        f.state = Int32(m.state.rawValue)
        f.member = m.hostMemberId
        f.measures.done = m.state == .held ? 1 : 0
        out.facts.append(f)
        guard m.state == .held else { return }
        let newlyHeld = before?.state != .held
        if newlyHeld && m.hostMemberId != 0 {
            out.duties.append(Duty(member: m.hostMemberId, committee: m.committeeId, kind: .consultationHosted, day: day,
                                   refKind: "meeting", refID: "\(m.id)", note: m.title))
        }
        for inv in m.invitations where inv.kind == .member && inv.memberId != 0 {
            var i = Fact(kind: .invitation, id: m.id, sub: Int64(inv.number), committee: m.committeeId, day: day)
            i.member = inv.memberId
            let attendance: Attendance = inv.signedInAtUnixMs != 0 ? .attended : inv.leave == .approved ? .excused : .absent
            i.state = attendance.rawValue
            out.facts.append(i)
            guard newlyHeld else { continue }
            if attendance == .attended {
                out.duties.append(Duty(member: inv.memberId, committee: m.committeeId, kind: .consultationAttended, day: day,
                                       refKind: "meeting", refID: "\(m.id)", note: m.title))
            } else if attendance == .absent {
                out.duties.append(Duty(member: inv.memberId, committee: m.committeeId, kind: .absenceUnexcused, day: day,
                                       refKind: "meeting", refID: "\(m.id)", note: m.title))
            }
        }
    }

    /// An invitation's outcome once the meeting is held (the `state` of an invitation fact).
    public enum Attendance: Int32, CaseIterable, Sendable {
        case attended = 1, excused = 2, absent = 3
    }

    static func post(_ e: Xieshang_Events_V1_Event, at: Int32, into out: inout Effects) throws {
        let p = try Xieshang_Consultation_V1_OpinionPost(serializedBytes: e.after)
        let before = e.before.isEmpty ? nil : try Xieshang_Consultation_V1_OpinionPost(serializedBytes: e.before)
        if p.state == .published && before?.state != .published && p.memberId != 0 {
            out.duties.append(Duty(member: p.memberId, committee: p.committeeId, kind: .onlinePost, day: at,
                                   refKind: "opinion_post", refID: "\(p.id)"))
        }
    }

    /// Station duty counts when worked (`roster.shift_worked`: signed in or confirmed), not when
    /// planned: a plan credits no one.
    static func roster(_ e: Xieshang_Events_V1_Event, into out: inout Effects) throws {
        guard e.eventType == "roster.shift_worked" else { return }
        let r = try Xieshang_Consultation_V1_Roster(serializedBytes: e.after)
        for s in r.shifts where s.worked {
            guard let day = Day.from(s.date), s.memberId != 0 else { continue }
            out.duties.append(Duty(member: s.memberId, committee: e.committeeId, kind: .stationDuty, day: day,
                                   refKind: "station", refID: "\(r.stationId)", note: r.stationName + " " + s.hours))
        }
    }
}

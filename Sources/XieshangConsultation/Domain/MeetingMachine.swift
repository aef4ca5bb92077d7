import XieshangAPI
import XieshangKit

public typealias Meeting = Xieshang_Consultation_V1_Meeting
public typealias Invitation = Xieshang_Consultation_V1_Invitation

/// What can be done to a meeting. Conflicts and directory checks are the service's; this is the
/// state of the meeting and its invitations.
public enum MeetingCommand: Sendable, Equatable {
    case reschedule(venueID: Int64, venueName: String, startsAt: String, endsAt: String)
    /// New invitations, names already filled in.
    case invite([Invitation])
    case reply(number: Int32, accept: Bool)
    case requestLeave(number: Int32, reason: String)
    case decideLeave(number: Int32, approve: Bool, note: String)
    case signIn(number: Int32)
    case hold
    case cancel(reason: String)
    case talk(number: Int32, note: String, on: String)

    var name: String {
        switch self {
        case .reschedule: "rescheduled"
        case .invite: "invited"
        case .reply(_, let accept): accept ? "accepted" : "declined"
        case .requestLeave: "leave_requested"
        case .decideLeave(_, let approve, _): approve ? "leave_approved" : "leave_refused"
        case .signIn: "signed_in"
        case .hold: "held"
        case .cancel: "cancelled"
        case .talk: "talk_recorded"
        }
    }

    /// Whether it can book someone or something new (and so must hold the scheduling lock).
    var canBook: Bool {
        switch self {
        case .reschedule, .invite: true
        default: false
        }
    }

    /// The action in messages ("cannot be leave approved now").
    var phrase: String { name.replacingOccurrences(of: "_", with: " ") }

    /// The invitation the command is about, if any.
    var number: Int32? {
        switch self {
        case .reply(let n, _), .requestLeave(let n, _), .decideLeave(let n, _, _), .signIn(let n), .talk(let n, _, _): n
        default: nil
        }
    }
}

public enum MeetingMachine {
    /// Whether `who` is the member invitation `number` of `m` is for.
    static func invitee(_ m: Meeting, _ number: Int32, _ who: Participant) -> Bool {
        who.has(.member) && who.memberID != 0 && m.invitations.contains { $0.number == number && $0.memberId == who.memberID }
    }

    /// Staff run meetings; an invited member replies, asks for leave and signs in for themself.
    public static func authorize(_ command: MeetingCommand, on m: Meeting, by who: Participant) throws {
        let staff = who.has(.committeeStaff)
        let allowed: Bool
        switch command {
        case .reply(let n, _), .requestLeave(let n, _), .signIn(let n): allowed = staff || invitee(m, n, who)
        default: allowed = staff
        }
        if !allowed { throw DomainError.forbidden("meeting \(m.id) cannot be \(command.phrase) by this account") }
    }

    /// The meeting after `command` at `ms` (`now` for sign-in and holding), and the event type.
    public static func apply(_ command: MeetingCommand, to m: Meeting, by who: Participant, at ms: Int64) throws -> (Meeting, String) {
        try authorize(command, on: m, by: who)
        let wanted: Xieshang_Consultation_V1_MeetingState = if case .talk = command { .held } else { .scheduled }
        guard m.state == wanted else {
            throw DomainError.notAllowed("meeting \(m.id) is \(m.state.label); it cannot be \(command.phrase) now")
        }
        var next = m
        var note = ""
        var k = 0
        if let n = command.number {
            guard let i = m.invitations.firstIndex(where: { $0.number == n }) else {
                throw DomainError.invalid(field: "number", message: "meeting \(m.id) has no invitation \(n)")
            }
            k = i
            note = m.invitations[i].name
        }
        let now = ChinaTime(minutes: ms / 60_000)
        switch command {
        case .reschedule(let venue, let venueName, let start, let end):
            next.venueId = venue
            next.venueName = venueName
            next.startsAt = start
            next.endsAt = end
            note = "\(start)–\(end.suffix(5))"
        case .invite(let list):
            var number = (m.invitations.map(\.number).max() ?? 0)
            for var inv in list {
                if inv.kind == .member, m.invitations.contains(where: { $0.memberId == inv.memberId }) {
                    throw DomainError.invalid(field: "invitations", message: "member \(inv.memberId) is already invited")
                }
                number += 1
                inv.number = number
                inv.reply = .pending
                inv.leave = .unspecified
                inv.signedInAtUnixMs = 0
                inv.talkNeeded = false
                next.invitations.append(inv)
            }
            note = "\(list.count) invited"
        case .reply(_, let accept):
            next.invitations[k].reply = accept ? .accepted : .declined
        case .requestLeave(_, let reason):
            guard m.invitations[k].kind == .member else { throw DomainError.invalid(field: "number", message: "leave is for invited members") }
            guard !reason.isEmpty else { throw DomainError.invalid(field: "reason", message: "required") }
            guard m.invitations[k].leave != .approved else { throw DomainError.notAllowed("meeting \(m.id): leave is already approved for \(note)") }
            next.invitations[k].leave = .requested
            next.invitations[k].leaveReason = reason
            note += ": " + reason
        case .decideLeave(_, let approve, let n):
            guard m.invitations[k].leave == .requested else {
                throw DomainError.notAllowed("meeting \(m.id): \(note) has no leave request waiting")
            }
            next.invitations[k].leave = approve ? .approved : .refused
            next.invitations[k].leaveDecisionNote = n
        case .signIn:
            guard let end = ChinaTime(m.endsAt), let start = ChinaTime(m.startsAt),
                  now.minutes >= start.minutes - 120, now <= end else {
                throw DomainError.notAllowed("meeting \(m.id) runs \(m.startsAt)–\(m.endsAt.suffix(5)); sign-in opens two hours before it starts")
            }
            if next.invitations[k].signedInAtUnixMs == 0 { next.invitations[k].signedInAtUnixMs = ms }
        case .hold:
            guard let start = ChinaTime(m.startsAt), now >= start else {
                throw DomainError.notAllowed("meeting \(m.id) starts at \(m.startsAt); it cannot be held before then")
            }
            var flagged: [String] = []
            for i in next.invitations.indices where next.invitations[i].kind == .member {
                let inv = next.invitations[i]
                if inv.signedInAtUnixMs == 0 && inv.leave != .approved {
                    next.invitations[i].talkNeeded = true
                    flagged.append(inv.name)
                }
            }
            next.state = .held
            note = flagged.isEmpty ? "" : "absent without leave: " + flagged.joined(separator: "、")
        case .cancel(let reason):
            guard !reason.isEmpty else { throw DomainError.invalid(field: "reason", message: "required") }
            next.cancelReason = reason
            next.state = .cancelled
            note = reason
        case .talk(_, let text, let on):
            guard m.invitations[k].talkNeeded else { throw DomainError.notAllowed("meeting \(m.id): \(note) is not flagged for a talk") }
            guard !text.isEmpty else { throw DomainError.invalid(field: "note", message: "required") }
            next.invitations[k].talkNote = text
            next.invitations[k].talkOn = on.isEmpty ? CivilDate.china(unixMilliseconds: ms).description : on
        }
        next.history.append(History.record(command.name, by: who.name, at: ms, note: note))
        return (next, "meeting.\(command.name)")
    }

    /// A new meeting as scheduled at `ms`.
    public static func scheduled(_ m: Meeting, by name: String, at ms: Int64) -> Meeting {
        var r = m
        r.state = .scheduled
        for i in r.invitations.indices {
            r.invitations[i].number = Int32(i + 1)
            r.invitations[i].reply = .pending
            r.invitations[i].leave = .unspecified
            r.invitations[i].signedInAtUnixMs = 0
            r.invitations[i].talkNeeded = false
        }
        r.history = [History.record("scheduled", by: name, at: ms)]
        return r
    }

    /// The members a scheduled meeting holds: its host and required members who have not declined
    /// or been let off.
    public static func bookedMembers(_ m: Meeting) -> [Int64] {
        var ids: [Int64] = m.hostMemberId != 0 ? [m.hostMemberId] : []
        for inv in m.invitations where inv.kind == .member && inv.required && inv.reply != .declined && inv.leave != .approved {
            if !ids.contains(inv.memberId) { ids.append(inv.memberId) }
        }
        return ids
    }

    /// The bookings of `m`: kept once it is held (it may still be running), none once cancelled.
    public static func bookings(_ m: Meeting) -> [Booking] {
        guard m.state == .scheduled || m.state == .held, let start = ChinaTime(m.startsAt), let end = ChinaTime(m.endsAt) else { return [] }
        var resources: [Resource] = m.venueId != 0 ? [.venue(m.venueId)] : []
        resources += bookedMembers(m).map { .member($0) }
        return resources.map { Booking(resource: $0, start: start, end: end, owner: .meeting(m.id), title: m.title) }
    }

    /// Attendance for the archive.
    public static func attendance(_ m: Meeting) -> Xieshang_Consultation_V1_Attendance {
        var a = Xieshang_Consultation_V1_Attendance()
        a.meetingId = m.id
        a.startsAt = m.startsAt
        a.invited = Int32(m.invitations.count)
        a.signedIn = Int32(m.invitations.filter { $0.signedInAtUnixMs != 0 }.count)
        a.onLeave = Int32(m.invitations.filter { $0.leave == .approved }.count)
        a.absent = m.invitations.filter(\.talkNeeded).map(\.name)
        return a
    }
}

extension Xieshang_Consultation_V1_MeetingState {
    public var label: String {
        switch self {
        case .scheduled: "scheduled"
        case .held: "held"
        case .cancelled: "cancelled"
        default: "unspecified"
        }
    }
}

import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

extension ConsultationService {
    // MARK: Meetings

    /// Invitations tidied, members and units checked against the directory, names filled in.
    func checkedInvitations(_ list: [Invitation], field: String, committee: Int64) async throws -> [Invitation] {
        guard list.count <= 500 else { throw DomainError.invalid(field: field, message: "at most 500 invitations at once") }
        var out: [Invitation] = []
        var members = Set<Int64>()
        for (i, inv) in list.enumerated() {
            let f = "\(field)[\(i)]"
            var r = Invitation()
            try Check.known(inv.kind, "\(f).kind")
            r.kind = inv.kind
            r.phone = try Check.phone(inv.phone, "\(f).phone")
            r.name = try Check.text(inv.name, "\(f).name", required: inv.kind != .member, max: 50)
            switch inv.kind {
            case .member:
                try Check.id(inv.memberId, "\(f).member_id", required: true)
                guard members.insert(inv.memberId).inserted else {
                    throw DomainError.invalid(field: "\(f).member_id", message: "member \(inv.memberId) is listed twice")
                }
                r.memberId = inv.memberId
                r.name = try await directory.requireMember(inv.memberId, committee: committee, field: "\(f).member_id")?.name ?? ""
                r.required = inv.required
            case .official:
                try Check.id(inv.unitId, "\(f).unit_id", required: true)
                try await directory.requireUnit(inv.unitId, committee: committee, field: "\(f).unit_id")
                r.unitId = inv.unitId
            default:
                break
            }
            out.append(r)
        }
        return out
    }

    public func scheduleMeeting(request: Meeting, context: ServerContext) async throws -> Meeting {
        let caller = try Self.staff(context, to: "scheduling meetings")
        let committee = caller.committeeID
        try Check.id(request.consultationId, "consultation_id", required: true)
        var m = Meeting()
        m.consultationId = request.consultationId
        m.title = try Check.text(request.title, "title", required: false, max: 200)
        let (start, end) = try Schedule.span(request.startsAt, request.endsAt)
        m.startsAt = start.description
        m.endsAt = end.description
        try Check.id(request.venueId, "venue_id")
        if request.venueId != 0 {
            m.venueId = request.venueId
            m.venueName = try await requireStation(request.venueId, field: "venue_id", committee: committee).name
        }
        // 委员主持: the host is a member (by default the consultation's host, filled in by the store).
        try Check.id(request.hostMemberId, "host_member_id")
        m.hostMemberId = request.hostMemberId
        m.hostName = try await directory.requireMember(request.hostMemberId, committee: committee, field: "host_member_id")?.name ?? ""
        m.invitations = try await checkedInvitations(request.invitations, field: "invitations", committee: committee)
        return try await store.schedule(m, committee: committee, by: Participant(caller), actor: caller.actor, at: clock())
    }

    func changeMeeting(_ id: Int64, version: Int64, _ caller: Caller, resultsDue: String = "", _ command: MeetingCommand) async throws -> Meeting {
        try await store.changeMeeting(id, version: version, committee: caller.committeeID, by: Participant(caller), actor: caller.actor,
                                      at: clock(), resultsDue: resultsDue, command)
    }

    public func rescheduleMeeting(request: Xieshang_Consultation_V1_RescheduleRequest, context: ServerContext) async throws -> Meeting {
        let caller = try Caller(context: context)
        let (start, end) = try Schedule.span(request.startsAt, request.endsAt)
        let current = try await store.get(Meeting.self, id: request.id, committee: caller.committeeID)
        try Check.id(request.venueId, "venue_id")
        var venue = (current.venueId, current.venueName)
        if request.venueId != 0 && request.venueId != current.venueId {
            venue = (request.venueId, try await requireStation(request.venueId, field: "venue_id", committee: caller.committeeID).name)
        }
        return try await changeMeeting(request.id, version: request.version, caller,
                                       .reschedule(venueID: venue.0, venueName: venue.1, startsAt: start.description, endsAt: end.description))
    }

    public func getMeeting(request: Xieshang_Consultation_V1_GetRequest, context: ServerContext) async throws -> Meeting {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading meetings")
        return try await store.get(Meeting.self, id: request.id, committee: caller.committeeID)
    }

    public func listMeetings(request: Xieshang_Consultation_V1_ListMeetingsRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_ListMeetingsResponse {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "listing meetings")
        var f = SQLFilter()
        for (field, id) in [("consultation_id", request.consultationId), ("member_id", request.memberId), ("venue_id", request.venueId)] {
            try Check.id(id, field)
        }
        f.equal("i.consultation_id", request.consultationId)
        f.equal("i.venue_id", request.venueId)
        f.hasKey("i.member_keys", request.memberId)
        if !request.from.isEmpty { f.add("i.start_min >= ?", .integer(ChinaTime(date: try day(request.from, "from"), minuteOfDay: 0).minutes)) }
        if !request.to.isEmpty { f.add("i.start_min < ?", .integer(ChinaTime(date: try day(request.to, "to"), minuteOfDay: 1440).minutes)) }
        if request.talksPending { f.add("i.talks_pending = ?", .integer(1)) }
        for (i, s) in request.states.enumerated() { try Check.known(s, "states[\(i)]") }
        f.any("i.state", request.states.map { .integer(Int64($0.rawValue)) })
        let page = try await store.listMeetings(committee: caller.committeeID, filter: f, page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Consultation_V1_ListMeetingsResponse()
        r.meetings = page.items
        r.nextPageToken = page.nextToken
        return r
    }

    public func invite(request: Xieshang_Consultation_V1_InviteRequest, context: ServerContext) async throws -> Meeting {
        let caller = try Self.staff(context, to: "inviting people")
        guard !request.invitations.isEmpty else { throw DomainError.invalid(field: "invitations", message: "required") }
        let list = try await checkedInvitations(request.invitations, field: "invitations", committee: caller.committeeID)
        return try await changeMeeting(request.id, version: request.version, caller, .invite(list))
    }

    public func replyInvitation(request: Xieshang_Consultation_V1_InvitationReply, context: ServerContext) async throws -> Meeting {
        try await changeMeeting(request.meetingId, version: 0, try Caller(context: context), .reply(number: request.number, accept: request.accept))
    }

    public func requestLeave(request: Xieshang_Consultation_V1_LeaveRequest, context: ServerContext) async throws -> Meeting {
        let reason = try Check.text(request.reason, "reason", max: 500)
        return try await changeMeeting(request.meetingId, version: 0, try Caller(context: context), .requestLeave(number: request.number, reason: reason))
    }

    public func decideLeave(request: Xieshang_Consultation_V1_LeaveDecision, context: ServerContext) async throws -> Meeting {
        let note = try Check.text(request.note, "note", required: false, max: 500)
        return try await changeMeeting(request.meetingId, version: 0, try Caller(context: context),
                                       .decideLeave(number: request.number, approve: request.approve, note: note))
    }

    public func signIn(request: Xieshang_Consultation_V1_InvitationRef, context: ServerContext) async throws -> Meeting {
        try await changeMeeting(request.meetingId, version: 0, try Caller(context: context), .signIn(number: request.number))
    }

    public func holdMeeting(request: Xieshang_Consultation_V1_MeetingRef, context: ServerContext) async throws -> Meeting {
        let caller = try Caller(context: context)
        let m = try await store.get(Meeting.self, id: request.id, committee: caller.committeeID)
        let due = try await directory.addWorkingDays(Self.resultsWorkingDays, to: ChinaTime(m.startsAt)?.date ?? today,
                                                     committee: caller.committeeID)
        return try await changeMeeting(request.id, version: request.version, caller, resultsDue: due.description, .hold)
    }

    public func cancelMeeting(request: Xieshang_Consultation_V1_CancelRequest, context: ServerContext) async throws -> Meeting {
        let reason = try Check.text(request.reason, "reason", max: 500)
        return try await changeMeeting(request.id, version: request.version, try Caller(context: context), .cancel(reason: reason))
    }

    public func recordTalk(request: Xieshang_Consultation_V1_TalkRequest, context: ServerContext) async throws -> Meeting {
        let note = try Check.text(request.note, "note", max: 500, multiline: true)
        let on = try Check.date(request.on, "on")
        return try await changeMeeting(request.meetingId, version: 0, try Caller(context: context), .talk(number: request.number, note: note, on: on))
    }

    // MARK: Scheduling

    /// The venue and people of a slot request, checked.
    func resources(venue: Int64, members: [Int64], committee: Int64) async throws -> [Resource] {
        guard members.count <= 200 else { throw DomainError.invalid(field: "member_ids", message: "at most 200 people") }
        try Check.id(venue, "venue_id")
        var out: [Resource] = []
        if venue != 0 {
            _ = try await requireStation(venue, field: "venue_id", committee: committee)
            out.append(.venue(venue))
        }
        for (i, m) in members.enumerated() {
            try Check.id(m, "member_ids[\(i)]", required: true)
            try await directory.requireMember(m, committee: committee, field: "member_ids[\(i)]")
            if !out.contains(.member(m)) { out.append(.member(m)) }
        }
        guard !out.isEmpty else { throw DomainError.invalid(field: "venue_id", message: "a venue or at least one member is required") }
        return out
    }

    public func checkConflicts(request: Xieshang_Consultation_V1_SlotRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_ConflictsResponse {
        let caller = try Self.staff(context, to: "checking conflicts")
        let (start, end) = try Schedule.span(request.startsAt, request.endsAt)
        try Check.id(request.ignoreMeetingId, "ignore_meeting_id")
        let resources = try await resources(venue: request.venueId, members: request.memberIds, committee: caller.committeeID)
        var r = Xieshang_Consultation_V1_ConflictsResponse()
        r.conflicts = try await store.conflicts(committee: caller.committeeID, resources: resources, start: start, end: end,
                                                ignoring: request.ignoreMeetingId).map(\.conflict)
        return r
    }

    /// A date range of at most 92 days, both ends included.
    func range(_ from: String, _ to: String) throws -> (CivilDate, CivilDate) {
        let a = try day(from, "from"), b = try day(to, "to", or: a)
        guard a <= b else { throw DomainError.invalid(field: "to", message: "must not be before from") }
        guard b.dayNumber - a.dayNumber < 92 else { throw DomainError.invalid(field: "to", message: "a range is at most 92 days") }
        return (a, b)
    }

    /// The working days of [`from`, `to`] on the committee's calendar.
    func workingDays(_ from: CivilDate, _ to: CivilDate, committee: Int64) async throws -> [CivilDate] {
        let calendar = try await directory.calendar(from: from, to: to, committee: committee)
        return (from.dayNumber...to.dayNumber).map(CivilDate.init(dayNumber:)).filter(calendar.isWorkingDay)
    }

    /// `HH:MM`, or `fallback` when empty.
    static func clock(_ value: String, _ field: String, default fallback: Int) throws -> Int {
        if value.isEmpty { return fallback }
        guard let m = ChinaTime.minuteOfDay(value) else { throw DomainError.invalid(field: field, message: "'\(value)' is not an HH:MM time") }
        return m
    }

    public func findFreeSlots(request: Xieshang_Consultation_V1_FreeSlotsRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_FreeSlotsResponse {
        let caller = try Self.staff(context, to: "finding free slots")
        let committee = caller.committeeID
        let (from, to) = try range(request.from, request.to)
        let duration = request.durationMinutes == 0 ? 60 : Int(request.durationMinutes)
        guard (15...720).contains(duration) else { throw DomainError.invalid(field: "duration_minutes", message: "must be 15 to 720") }
        let dayStart = try Self.clock(request.dayStart, "day_start", default: 8 * 60 + 30)
        let dayEnd = try Self.clock(request.dayEnd, "day_end", default: 17 * 60 + 30)
        guard dayStart < dayEnd else { throw DomainError.invalid(field: "day_end", message: "must be after day_start") }
        let limit = request.limit == 0 ? 10 : Int(request.limit)
        guard (1...100).contains(limit) else { throw DomainError.invalid(field: "limit", message: "must be 1 to 100") }
        let resources = try await resources(venue: request.venueId, members: request.memberIds, committee: committee)
        let days = try await workingDays(from, to, committee: committee)
        let busy = try await store.conflicts(committee: committee, resources: resources, start: ChinaTime(date: from, minuteOfDay: 0),
                                             end: ChinaTime(date: to, minuteOfDay: 1440), ignoring: 0)
        var r = Xieshang_Consultation_V1_FreeSlotsResponse()
        r.slots = Schedule.freeSlots(days: days, dayStart: dayStart, dayEnd: dayEnd, duration: duration,
                                     busy: busy.map { ($0.start, $0.end) }, limit: limit).map {
            var s = Xieshang_Consultation_V1_Slot()
            s.startsAt = $0.start.description
            s.freeUntil = $0.until.description
            return s
        }
        return r
    }

    /// `HH:MM-HH:MM` as minutes of the day.
    static func hours(_ value: String) throws -> (Int, Int) {
        let text = value.isEmpty ? "09:00-12:00" : value
        let parts = text.split(separator: "-").map(String.init)
        guard parts.count == 2, let a = ChinaTime.minuteOfDay(parts[0]), let b = ChinaTime.minuteOfDay(parts[1]), a < b else {
            throw DomainError.invalid(field: "hours", message: "'\(value)' is not HH:MM-HH:MM")
        }
        return (a, b)
    }

    public func planRoster(request: Xieshang_Consultation_V1_PlanRosterRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_Roster {
        let caller = try Self.staff(context, to: "planning duty rosters")
        let committee = caller.committeeID
        let station = try await requireStation(request.stationId, field: "station_id", committee: committee)
        let (from, to) = try range(request.from, request.to)
        let (start, end) = try Self.hours(request.hours)
        var names: [Int64: String] = [:]
        if request.memberIds.isEmpty {
            for m in try await directory.members(ofStation: station.id, committee: committee) { names[m.id] = m.name }
        } else {
            for (i, id) in request.memberIds.enumerated() {
                try Check.id(id, "member_ids[\(i)]", required: true)
                names[id] = try await directory.requireMember(id, committee: committee, field: "member_ids[\(i)]")?.name
            }
        }
        let members = request.memberIds.isEmpty ? names.keys.sorted() : request.memberIds.reduce(into: [Int64]()) { if !$0.contains($1) { $0.append($1) } }
        guard !members.isEmpty else { throw DomainError.invalid(field: "member_ids", message: "station \(station.id) has no members; name them") }
        let perDay = request.perDay == 0 ? 1 : Int(request.perDay)
        guard (1...members.count).contains(perDay) else {
            throw DomainError.invalid(field: "per_day", message: "must be 1 to \(members.count) (the members on the rota)")
        }
        let days = try await workingDays(from, to, committee: committee)
        let plan = try await store.planRoster(station: station.id, name: station.name, members: members, days: days, start: start, end: end,
                                              perDay: perDay, committee: committee, actor: caller.actor)
        var r = Xieshang_Consultation_V1_Roster()
        r.stationId = station.id
        r.stationName = station.name
        r.unfilled = plan.unfilled.map(\.description)
        r.shifts = plan.shifts.map {
            var s = ConsultationStore.shift(day: $0.0, member: $0.1, start: start, end: end)
            s.memberName = names[$0.1] ?? ""
            return s
        }
        return r
    }

    public func confirmShift(request: Xieshang_Consultation_V1_ShiftRef, context: ServerContext) async throws -> Xieshang_Consultation_V1_DutyShift {
        let caller = try Caller(context: context)
        try caller.require(.member, .liaisonStaff, .committeeStaff, .committeeAdmin, to: "confirming duty shifts")
        let committee = caller.committeeID
        let station = try await requireStation(request.stationId, field: "station_id", committee: committee)
        let date = try Check.day(request.date, "date", or: today)
        let staff = caller.has(.liaisonStaff, .committeeStaff, .committeeAdmin) || caller.isSystem
        let member = request.memberId == 0 ? caller.principal.memberId : request.memberId
        guard member > 0 else { throw DomainError.invalid(field: "member_id", message: "name the member (the caller is not one)") }
        // A member signs in for their own shift, on the day or after; staff confirm anyone's.
        if !staff {
            guard member == caller.principal.memberId else { throw DomainError.forbidden("a member signs in for their own shifts only") }
            guard date <= today else { throw DomainError.invalid(field: "date", message: "a shift is signed in for on its day or after, not before") }
        }
        var shift = try await store.confirmShift(station: station.id, name: station.name, member: member, day: date, committee: committee,
                                                 actor: caller.actor)
        shift.memberName = try await directory.member(member, committee: committee)?.name ?? ""
        return shift
    }

    public func getRoster(request: Xieshang_Consultation_V1_GetRosterRequest, context: ServerContext) async throws -> Xieshang_Consultation_V1_Roster {
        let caller = try Caller(context: context)
        try caller.requireAccount(to: "reading duty rosters")
        let committee = caller.committeeID
        let station = try await requireStation(request.stationId, field: "station_id", committee: committee)
        let (from, to) = try range(request.from, request.to)
        var r = Xieshang_Consultation_V1_Roster()
        r.stationId = station.id
        r.stationName = station.name
        r.shifts = try await store.roster(station: station.id, from: from, to: to, committee: committee)
        for i in r.shifts.indices { r.shifts[i].memberName = try await directory.member(r.shifts[i].memberId, committee: committee)?.name ?? "" }
        return r
    }
}

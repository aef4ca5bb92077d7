import XieshangAPI
import XieshangKit
import XieshangStore

/// Consultation's persistence. Every change goes through a write transaction that also appends
/// its event; meetings and duty shifts rewrite their `bookings` rows in the same transaction,
/// after taking the committee's scheduling lock (a counter row bumped first), so two replicas on
/// one PostgreSQL schema cannot both book the same venue or person.
public struct ConsultationStore: EntityStore {
    public let database: Database
    let plans = EntityTable<Plan>()
    let topics = EntityTable<Topic>()
    let consultations = EntityTable<Consultation>()
    let meetings = EntityTable<Meeting>()
    let posts = EntityTable<Xieshang_Consultation_V1_OpinionPost>()
    let activities = EntityTable<Xieshang_Consultation_V1_LiaisonActivity>()
    static let topicGrams = GramIndex<Topic>(table: "topic_grams", idColumn: "topic_id") { $0.title + "\n" + $0.description }
    static let consultationGrams = GramIndex<Consultation>(table: "consultation_grams", idColumn: "consultation_id") {
        $0.title + "\n" + $0.workPlan
    }
    /// Rows a listing of everything holds at most (chase lists, quotas).
    public static let readLimit = 100_000

    public init(database: Database) {
        self.database = database
    }

    public func migrate() async throws {
        try await database.migrate(component: "consultation", ConsultationMigrations.all)
    }

    // MARK: Plans and topics

    public func changePlan(_ id: Int64, version: Int64, committee: Int64, actor: Actor,
                           _ make: @escaping @Sendable (Plan) throws -> (Plan, String)) async throws -> Plan {
        guard id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        return try await database.write { tx in
            try plans.change(id, version: version, committee: committee, in: tx, actor: actor, make).after
        }
    }

    public func proposeTopic(_ topic: Topic, committee: Int64, actor: Actor) async throws -> Topic {
        try await database.write { tx in
            var t = topic
            t.committeeId = committee
            let stored = try topics.insert(t, in: tx, actor: actor)
            try Self.topicGrams.index(stored, in: tx)
            return stored
        }
    }

    public func changeTopic(_ id: Int64, version: Int64, committee: Int64, actor: Actor,
                            _ make: @escaping @Sendable (Topic) throws -> (Topic, String)) async throws -> Topic {
        guard id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        return try await database.write { tx in
            let (before, after) = try topics.change(id, version: version, committee: committee, in: tx, actor: actor, make)
            try Self.topicGrams.reindex(from: before, to: after, in: tx)
            return after
        }
    }

    public func listTopics(committee: Int64, terms: [String], filter: SQLFilter, page: PageRequest) async throws -> Page<Topic> {
        try await database.read { try Self.topicGrams.search(committee: committee, terms: terms, filter: filter, page: page, on: $0) }
    }

    // MARK: Consultations

    /// Starts a consultation from chosen topic `c.topicId` (and plan entry `c.planEntry` of
    /// `c.planId`, when set); the topic links back to it.
    public func start(_ c: Consultation, committee: Int64, by who: Participant, actor: Actor, at ms: Int64) async throws -> Consultation {
        try await database.write { tx in
            let topic = try topics.find(c.topicId, committee: committee, on: tx.connection)
            guard let topic else { throw DomainError.invalid(field: "topic_id", message: "no topic \(c.topicId) in this committee") }
            guard topic.state == .chosen else {
                throw DomainError.notAllowed("topic \(topic.id) is \(topic.state.label); a consultation starts from a chosen topic")
            }
            if c.planId != 0 {
                guard let plan = try plans.find(c.planId, committee: committee, on: tx.connection) else {
                    throw DomainError.invalid(field: "plan_id", message: "no plan \(c.planId) in this committee")
                }
                guard plan.entries.indices.contains(Int(c.planEntry)) else {
                    throw DomainError.invalid(field: "plan_entry", message: "plan \(plan.id) has no entry \(c.planEntry)")
                }
                guard plan.state == .published || plan.state == .approved else {
                    throw DomainError.notAllowed("plan \(plan.id) is \(plan.state.label); consultations start from an approved plan")
                }
            }
            var new = ConsultationMachine.started(c, by: who.name, at: ms)
            new.committeeId = committee
            if new.title.isEmpty { new.title = topic.title }
            let stored = try consultations.insert(new, in: tx, actor: actor)
            try Self.consultationGrams.index(stored, in: tx)
            _ = try topics.change(topic.id, version: 0, committee: committee, in: tx, actor: actor) {
                try TopicMachine.apply(.link(kind: .consultation, targetID: stored.id), to: $0, by: who, at: ms)
            }
            return stored
        }
    }

    /// Applies the command `make` builds from consultation `id`; one `visible` refuses is NOT_FOUND.
    public func transition(_ id: Int64, version: Int64, committee: Int64, by who: Participant, actor: Actor, at ms: Int64,
                           visible: @escaping @Sendable (Consultation) -> Bool = { _ in true },
                           _ make: @escaping @Sendable (Consultation) throws -> ConsultationCommand) async throws -> Consultation {
        guard id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        return try await database.write { tx in
            try apply(id, version: version, committee: committee, by: who, actor: actor, at: ms, visible: visible, in: tx, make)
        }
    }

    func apply(_ id: Int64, version: Int64, committee: Int64, by who: Participant, actor: Actor, at ms: Int64,
               visible: (Consultation) -> Bool = { _ in true }, in tx: Transaction,
               _ make: (Consultation) throws -> ConsultationCommand) throws -> Consultation {
        let (before, after) = try consultations.change(id, version: version, committee: committee, in: tx, actor: actor, visible: visible) {
            try ConsultationMachine.apply(try make($0), to: $0, by: who, at: ms)
        }
        try Self.consultationGrams.reindex(from: before, to: after, in: tx)
        return after
    }

    public func listConsultations(committee: Int64, terms: [String], filter: SQLFilter, page: PageRequest) async throws -> Page<Consultation> {
        try await database.read { try Self.consultationGrams.search(committee: committee, terms: terms, filter: filter, page: page, on: $0) }
    }

    /// Consultations matching `filter` (no paging), up to ``readLimit``.
    public func allConsultations(committee: Int64, filter: SQLFilter) async throws -> [Consultation] {
        try await database.read { try consultations.all(committee: committee, where: filter, limit: Self.readLimit, on: $0) }
    }

    // MARK: Meetings and bookings

    /// Takes the committee's scheduling lock for the rest of `tx`.
    func lockSchedule(committee: Int64, in tx: Transaction) throws {
        _ = try NumberSequence.next("schedule", committee: committee, scope: 0, in: tx)
    }

    /// Bookings of `resources` overlapping [`start`, `end`), except those of meeting `ignoring`.
    static func bookings(committee: Int64, resources: [Resource], from start: ChinaTime, to end: ChinaTime, ignoring: Int64 = 0,
                         on conn: SQLConnection) throws -> [Booking] {
        guard !resources.isEmpty else { return [] }
        let marks = resources.map { _ in "?" }.joined(separator: ", ")
        let rows = try conn.query("""
            SELECT resource, start_min, end_min, owner_kind, owner_id, title FROM bookings
            WHERE committee_id = ? AND resource IN (\(marks)) AND start_min > ? AND start_min < ? AND end_min > ?
            ORDER BY start_min, resource
            """, [.integer(committee)] + resources.map { .text($0.key) }
                + [.integer(start.minutes - Schedule.longestBooking), .integer(end.minutes), .integer(start.minutes)])
        return rows.compactMap { row in
            guard let resource = Resource(key: row.text("resource")) else { return nil }
            let owner = Booking.Owner(kind: row.text("owner_kind"), id: row.int("owner_id"))
            if case .meeting(ignoring) = owner, ignoring != 0 { return nil }
            return Booking(resource: resource, start: ChinaTime(minutes: row.int("start_min")), end: ChinaTime(minutes: row.int("end_min")),
                           owner: owner, title: row.text("title"))
        }
    }

    /// What a meeting of `resources` in [`start`, `end`) would run into.
    public func conflicts(committee: Int64, resources: [Resource], start: ChinaTime, end: ChinaTime, ignoring: Int64) async throws -> [Booking] {
        try await database.read { try Self.bookings(committee: committee, resources: resources, from: start, to: end, ignoring: ignoring, on: $0) }
    }

    /// Replaces the bookings of `owner` with `bookings`, refusing any that collide with someone
    /// else's (the refusal names the other meeting or shift).
    static func book(_ bookings: [Booking], for owner: Booking.Owner, committee: Int64, in tx: Transaction) throws {
        if case .meeting(let id) = owner {
            try tx.execute("DELETE FROM bookings WHERE committee_id = ? AND owner_kind = 'meeting' AND owner_id = ?", [.integer(committee), .integer(id)])
        }
        // One owner's bookings share one span (a meeting's time, a shift).
        guard let span = bookings.first else { return }
        let clashes = try Self.bookings(committee: committee, resources: bookings.map(\.resource), from: span.start, to: span.end,
                                        on: tx.connection).filter { $0.owner != owner }
        if !clashes.isEmpty { throw Schedule.refusal(clashes.sorted { ($0.start, $0.resource.key) < ($1.start, $1.resource.key) }.map(\.conflict)) }
        for b in bookings { try insert(b, committee: committee, in: tx) }
    }

    static func insert(_ b: Booking, committee: Int64, in tx: Transaction) throws {
        try tx.execute("INSERT INTO bookings (committee_id, resource, start_min, end_min, owner_kind, owner_id, title) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [.integer(committee), .text(b.resource.key), .integer(b.start.minutes), .integer(b.end.minutes), .text(b.owner.kind), .integer(b.owner.id), .text(b.title)])
    }

    /// Stores a new meeting of a consultation that is still running, booking its venue and people.
    public func schedule(_ meeting: Meeting, committee: Int64, by who: Participant, actor: Actor, at ms: Int64) async throws -> Meeting {
        try await database.write { tx in
            try lockSchedule(committee: committee, in: tx)
            guard let c = try consultations.find(meeting.consultationId, committee: committee, on: tx.connection) else {
                throw DomainError.invalid(field: "consultation_id", message: "no consultation \(meeting.consultationId) in this committee")
            }
            guard ConsultationMachine.beforeMeeting.contains(c.step) else {
                throw DomainError.notAllowed("consultation \(c.id) is at step \(c.step.label); no more meetings can be scheduled for it")
            }
            if meeting.venueId == 0 && c.form != .online {
                throw DomainError.invalid(field: "venue_id", message: "required (only online consultations meet without a venue)")
            }
            var m = MeetingMachine.scheduled(meeting, by: who.name, at: ms)
            m.committeeId = committee
            if m.title.isEmpty { m.title = c.title }
            if m.hostMemberId == 0 { (m.hostMemberId, m.hostName) = (c.hostMemberId, c.hostName) }
            let stored = try meetings.insert(m, in: tx, actor: actor)
            try Self.book(MeetingMachine.bookings(stored), for: .meeting(stored.id), committee: committee, in: tx)
            return stored
        }
    }

    /// Applies `command` to meeting `id` and rebooks it. Holding it also moves its consultation to
    /// step 4 (the research gate applies), with results due `resultsDue`.
    public func changeMeeting(_ id: Int64, version: Int64, committee: Int64, by who: Participant, actor: Actor, at ms: Int64,
                              resultsDue: String = "", _ command: MeetingCommand) async throws -> Meeting {
        guard id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        return try await database.write { tx in
            if command.canBook { try lockSchedule(committee: committee, in: tx) }
            let (before, after) = try meetings.change(id, version: version, committee: committee, in: tx, actor: actor) {
                try MeetingMachine.apply(command, to: $0, by: who, at: ms)
            }
            if command == .hold {
                _ = try apply(after.consultationId, version: 0, committee: committee, by: who, actor: actor, at: ms, in: tx) { _ in
                    .holdMeeting(meetingID: id, on: ChinaTime(after.startsAt)?.date.description ?? "", resultsDue: resultsDue)
                }
            }
            let old = MeetingMachine.bookings(before), new = MeetingMachine.bookings(after)
            if old != new { try Self.book(new, for: .meeting(id), committee: committee, in: tx) }
            return after
        }
    }

    public func listMeetings(committee: Int64, filter: SQLFilter, page: PageRequest) async throws -> Page<Meeting> {
        try await database.read { conn in
            var scoped = SQLFilter()
            scoped.add("i.committee_id = ?", .integer(committee))
            scoped.add(filter)
            return try meetings.page(where: scoped, page: page, on: conn)
        }
    }

    public func meetings(ofConsultation id: Int64, committee: Int64) async throws -> [Meeting] {
        var f = SQLFilter()
        f.add("i.consultation_id = ?", .integer(id))
        let filter = f
        return try await database.read { try meetings.all(committee: committee, where: filter, on: $0) }
    }

    // MARK: Rosters

    /// Replaces station `station`'s duty shifts on `days` with a rotation of `members` at
    /// `start`–`end` minutes of each day, skipping anyone booked then. Records `roster.planned`.
    public func planRoster(station: Int64, name: String, members: [Int64], days: [CivilDate], start: Int, end: Int, perDay: Int,
                           committee: Int64, actor: Actor) async throws -> (shifts: [(CivilDate, Int64)], unfilled: [CivilDate]) {
        try await database.write { tx in
            try lockSchedule(committee: committee, in: tx)
            guard let first = days.min(), let last = days.max() else { return ([], []) }
            let from = ChinaTime(date: first, minuteOfDay: 0), to = ChinaTime(date: last, minuteOfDay: 1440)
            try tx.execute("DELETE FROM bookings WHERE committee_id = ? AND owner_kind = 'duty' AND owner_id = ? AND start_min >= ? AND start_min < ?",
                           [.integer(committee), .integer(station), .integer(from.minutes), .integer(to.minutes)])
            let taken = try Self.bookings(committee: committee, resources: members.map { .member($0) }, from: from, to: to, on: tx.connection)
            let plan = Schedule.rotate(members: members, days: days, perDay: perDay) { member, day in
                let s = ChinaTime(date: day, minuteOfDay: start), e = ChinaTime(date: day, minuteOfDay: end)
                return taken.contains { $0.resource == .member(member) && $0.overlaps(s, e) }
            }
            for (day, member) in plan.shifts {
                try Self.insert(Booking(resource: .member(member), start: ChinaTime(date: day, minuteOfDay: start),
                                        end: ChinaTime(date: day, minuteOfDay: end), owner: .duty(station: station), title: name),
                                committee: committee, in: tx)
            }
            var roster = Xieshang_Consultation_V1_Roster()
            roster.stationId = station
            roster.stationName = name
            roster.unfilled = plan.unfilled.map(\.description)
            roster.shifts = plan.shifts.map { Self.shift(day: $0.0, member: $0.1, start: start, end: end) }
            tx.emit(EventDraft(committeeID: committee, entityKind: "roster", entityID: "\(station)", eventType: "roster.planned",
                               actorAccountID: actor.accountID, actorName: actor.name, atMilliseconds: tx.nowMilliseconds,
                               payloadType: Xieshang_Consultation_V1_Roster.protoName, before: [], after: roster.serializedBytes()))
            return plan
        }
    }

    static func shift(day: CivilDate, member: Int64, start: Int, end: Int) -> Xieshang_Consultation_V1_DutyShift {
        var s = Xieshang_Consultation_V1_DutyShift()
        s.memberId = member
        s.date = day.description
        s.hours = ChinaTime.clock(start) + "-" + ChinaTime.clock(end)
        return s
    }

    /// Station `station`'s duty shifts between `from` and `to`, with those worked marked.
    public func roster(station: Int64, from: CivilDate, to: CivilDate, committee: Int64) async throws -> [Xieshang_Consultation_V1_DutyShift] {
        try await database.read { conn in
            var worked: [String: SQLRow] = [:]
            for w in try conn.query("SELECT * FROM worked_shifts WHERE committee_id = ? AND station_id = ? AND day >= ? AND day <= ?",
                                    [.integer(committee), .integer(station), .text(from.description), .text(to.description)]) {
                worked["\(w.int("member_id"))/\(w.text("day"))"] = w
            }
            return try conn.query("""
                SELECT resource, start_min, end_min FROM bookings
                WHERE committee_id = ? AND owner_kind = 'duty' AND owner_id = ? AND start_min >= ? AND start_min < ? ORDER BY start_min, resource
                """, [.integer(committee), .integer(station), .integer(ChinaTime(date: from, minuteOfDay: 0).minutes),
                      .integer(ChinaTime(date: to, minuteOfDay: 1440).minutes)]).compactMap { row in
                guard case .member(let m)? = Resource(key: row.text("resource")) else { return nil }
                let s = ChinaTime(minutes: row.int("start_min")), e = ChinaTime(minutes: row.int("end_min"))
                var shift = Self.shift(day: s.date, member: m, start: s.minuteOfDay, end: e.minuteOfDay)
                if let w = worked["\(m)/\(shift.date)"] {
                    shift.worked = true
                    shift.workedAtUnixMs = w.int("worked_at_ms")
                    shift.confirmedBy = w.text("confirmed_by")
                }
                return shift
            }
        }
    }

    /// Records that `member` worked their shift at `station` on `day` (it must be on the roster),
    /// with a `roster.shift_worked` event carrying that shift; once only: a second confirmation
    /// returns the first.
    public func confirmShift(station: Int64, name: String, member: Int64, day: CivilDate, committee: Int64,
                             actor: Actor) async throws -> Xieshang_Consultation_V1_DutyShift {
        try await database.write { tx in
            let from = ChinaTime(date: day, minuteOfDay: 0), to = ChinaTime(date: day, minuteOfDay: 1440)
            guard let b = try tx.query("""
                SELECT start_min, end_min FROM bookings WHERE committee_id = ? AND owner_kind = 'duty' AND owner_id = ? AND resource = ?
                    AND start_min >= ? AND start_min < ? ORDER BY start_min LIMIT 1
                """, [.integer(committee), .integer(station), .text(Resource.member(member).key), .integer(from.minutes), .integer(to.minutes)]).first else {
                throw DomainError.notFound(kind: "duty shift", id: "station \(station), member \(member), \(day)")
            }
            var shift = Self.shift(day: day, member: member, start: ChinaTime(minutes: b.int("start_min")).minuteOfDay,
                                   end: ChinaTime(minutes: b.int("end_min")).minuteOfDay)
            let key: [SQLValue] = [.integer(committee), .integer(station), .integer(member), .text(day.description)]
            if let w = try tx.query("SELECT * FROM worked_shifts WHERE committee_id = ? AND station_id = ? AND member_id = ? AND day = ?", key).first {
                shift.worked = true
                shift.workedAtUnixMs = w.int("worked_at_ms")
                shift.confirmedBy = w.text("confirmed_by")
                return shift
            }
            try tx.execute("INSERT INTO worked_shifts (committee_id, station_id, member_id, day, hours, worked_at_ms, confirmed_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           key + [.text(shift.hours), .integer(tx.nowMilliseconds), .text(actor.name)])
            shift.worked = true
            shift.workedAtUnixMs = tx.nowMilliseconds
            shift.confirmedBy = actor.name
            var roster = Xieshang_Consultation_V1_Roster()
            roster.stationId = station
            roster.stationName = name
            roster.shifts = [shift]
            tx.emit(EventDraft(committeeID: committee, entityKind: "roster", entityID: "\(station)", eventType: "roster.shift_worked",
                               actorAccountID: actor.accountID, actorName: actor.name, atMilliseconds: tx.nowMilliseconds,
                               payloadType: Xieshang_Consultation_V1_Roster.protoName, before: [], after: roster.serializedBytes()))
            return shift
        }
    }

    // MARK: Posts and liaison activities

    public func changePost(_ id: Int64, version: Int64, committee: Int64, actor: Actor, eventType: String,
                           _ change: @escaping @Sendable (inout Xieshang_Consultation_V1_OpinionPost) throws -> Void) async throws -> Xieshang_Consultation_V1_OpinionPost {
        try await self.change(Xieshang_Consultation_V1_OpinionPost.self, id, version: version, committee: committee, actor: actor,
                              eventType: eventType) { p, _ in try change(&p) }
    }

    /// Stores a post on consultation `post.consultationId`, whose page must be open.
    public func post(_ post: Xieshang_Consultation_V1_OpinionPost, committee: Int64, actor: Actor) async throws -> Xieshang_Consultation_V1_OpinionPost {
        try await database.write { tx in
            guard let c = try consultations.find(post.consultationId, committee: committee, on: tx.connection), c.pageOpen else {
                throw DomainError.notFound(kind: "consultation page", id: "\(post.consultationId)")
            }
            var p = post
            p.committeeId = committee
            return try posts.insert(p, in: tx, actor: actor)
        }
    }

    /// Liaison activities dated in `year`.
    public func activities(year: Int, committee: Int64) async throws -> [Xieshang_Consultation_V1_LiaisonActivity] {
        var f = SQLFilter()
        f.add("i.on_date >= ?", .text("\(year)-01-01"))
        f.add("i.on_date <= ?", .text("\(year)-12-31"))
        let filter = f
        return try await database.read { try activities.all(committee: committee, where: filter, limit: Self.readLimit, on: $0) }
    }
}

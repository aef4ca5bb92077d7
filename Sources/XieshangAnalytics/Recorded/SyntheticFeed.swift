import XieshangAPI
import XieshangKit
import XieshangRPC

/// A deterministic prefecture year of change-feed events, as the four services would record it:
/// a prefecture and its counties, towns, stations and members; opinions through their lifecycle
/// with relays and adopted reports; proposals from submission to evaluation; consultations with
/// research and held meetings; monthly station rosters (some planned twice) and the shifts worked. Payloads carry the
/// full before and after records. Used by the benchmark (about a million events) and the tests,
/// which compare analytics' figures with the ``Truth`` the generator keeps.
public struct SyntheticFeed {
    public var counties = 10
    public var membersPerCounty = 300
    public var townsPerCounty = 15
    public var stationsPerCounty = 10
    public var itemsPerCounty = 10_000
    public var proposalsPerCounty = 1_200
    public var consultationsPerCounty = 150
    public var year = 2026
    public var seed: UInt64 = 20261121

    public init() {}

    /// What the generated year adds up to, counted as it is generated.
    public struct Truth: Equatable, Sendable {
        public var itemsReceived: [Int64: Int64] = [:]
        public var itemsByState: [Int64: [Int32: Int64]] = [:]
        public var itemsSatisfied: [Int64: Int64] = [:]
        public var proposalsSubmitted: [Int64: Int64] = [:]
        public var proposalsRegistered: [Int64: Int64] = [:]
        public var meetingsHeld: [Int64: Int64] = [:]
        public var absences: [Int64: Int64] = [:]
        public var reportsAdopted: [Int64: Int64] = [:]
        /// Member → kind → entries in the year.
        public var duties: [Int64: [DutyKind: Int64]] = [:]
        public var events: [Source: Int64] = [:]
    }

    public private(set) var truth = Truth()
    private var rng = SplitMix64(seed: 0)
    private var sequences: [Source: Int64] = [:]
    private var ids: [String: Int64] = [:]
    private var emit: (Source, Xieshang_Events_V1_Event) throws -> Void = { _, _ in }

    private mutating func next(_ kind: String) -> Int64 {
        ids[kind, default: 0] += 1
        return ids[kind]!
    }

    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }
    private mutating func pick<T>(_ list: [T]) -> T { list[Int.random(in: 0..<list.count, using: &rng)] }

    private func date(_ dayOfYear: Int) -> CivilDate { CivilDate(year: year, month: 1, day: 1)!.adding(days: dayOfYear) }
    /// 10:00 in China on `day`.
    private func ms(_ day: CivilDate) -> Int64 { Int64(day.dayNumber) * 86_400_000 + 2 * 3_600_000 }

    private mutating func record<M: ProtoMessage>(_ source: Source, _ kind: String, _ id: Int64, _ type: String, committee: Int64,
                                                 on day: CivilDate, before: M?, after: M) throws {
        sequences[source, default: 0] += 1
        var e = Xieshang_Events_V1_Event()
        e.sequence = sequences[source]!
        e.committeeId = committee
        e.entityKind = kind
        e.entityId = "\(id)"
        e.eventType = type
        e.actorName = "synthetic"
        e.atUnixMs = ms(day)
        e.payloadType = M.protoName
        e.before = before?.serializedBytes() ?? []
        e.after = after.serializedBytes()
        truth.events[source, default: 0] += 1
        try emit(source, e)
    }

    private mutating func duty(_ member: Int64, _ kind: DutyKind, _ n: Int64 = 1) {
        guard member != 0 else { return }
        truth.duties[member, default: [:]][kind, default: 0] += n
    }

    static let categories = ["民生", "交通", "生态", "教育", "医疗", "安全", "经济", "治理"]
    static let texts = ["楼栋墙体长期漏水，雨天更严重", "村道路灯损坏，夜间出行不便", "集市周边垃圾清运不及时", "学校门口上下学时段交通拥堵",
                        "小区供暖温度不达标", "河道有生活污水直排", "乡镇卫生院缺少儿科医生", "农贸市场占道经营"]

    /// Generates the year, handing each event to `emit` in each source's sequence order.
    public mutating func generate(_ emit: @escaping (Source, Xieshang_Events_V1_Event) throws -> Void) throws {
        self.emit = emit
        rng = SplitMix64(seed: seed)
        truth = Truth()
        var prefecture = Xieshang_Directory_V1_Committee()
        prefecture.id = 1
        prefecture.name = "政协黔南州委员会"
        try record(.directory, "committee", 1, "committee.created", committee: 1, on: date(0), before: nil, after: prefecture)
        for c in 0..<counties {
            let committee = Int64(c + 2)
            var county = Xieshang_Directory_V1_Committee()
            county.id = committee
            county.parentId = 1
            county.name = "政协第\(c + 1)县委员会"
            try record(.directory, "committee", committee, "committee.created", committee: committee, on: date(0), before: nil, after: county)
            try generateCounty(committee)
        }
    }

    private mutating func generateCounty(_ committee: Int64) throws {
        var towns: [Int64] = []
        for t in 0..<townsPerCounty {
            var a = Xieshang_Directory_V1_Area()
            a.id = next("area")
            a.committeeId = committee
            a.level = .town
            a.name = "第\(t + 1)镇"
            towns.append(a.id)
            try record(.directory, "area", a.id, "area.created", committee: committee, on: date(0), before: nil, after: a)
        }
        var stations: [Int64] = []
        for s in 0..<stationsPerCounty {
            var w = Xieshang_Directory_V1_WorkStation()
            w.id = next("work_station")
            w.committeeId = committee
            w.name = "第\(s + 1)委员工作站"
            w.townId = towns[s % towns.count]
            stations.append(w.id)
            try record(.directory, "work_station", w.id, "work_station.created", committee: committee, on: date(0), before: nil, after: w)
        }
        var members: [Int64] = []
        var ofStation: [Int64: [Int64]] = [:]
        for i in 0..<membersPerCounty {
            var m = Xieshang_Directory_V1_Member()
            m.id = next("member")
            m.committeeId = committee
            m.name = "委员\(committee)-\(i + 1)"
            m.sectorId = Int64(i % 12 + 1)
            m.stationId = stations[i % stations.count]
            m.residenceTownId = towns[i % towns.count]
            m.workTownId = chance(50) ? pick(towns) : 0
            m.status = .active
            members.append(m.id)
            ofStation[m.stationId, default: []].append(m.id)
            try record(.directory, "member", m.id, "member.created", committee: committee, on: date(0), before: nil, after: m)
        }
        try items(committee, towns: towns, members: members)
        try proposals(committee, members: members)
        try consultations(committee, towns: towns, members: members)
        try rosters(committee, stations: stations, ofStation: ofStation)
    }

    // MARK: Intake

    private mutating func items(_ committee: Int64, towns: [Int64], members: [Int64]) throws {
        var reportItems: [(id: Int64, member: Int64)] = []
        for _ in 0..<itemsPerCounty {
            let received = date(Int.random(in: 0..<300, using: &rng))
            var i = Xieshang_Intake_V1_Item()
            i.id = next("item")
            i.committeeId = committee
            i.ticketCode = "T\(i.id)"
            i.text = pick(Self.texts)
            i.townId = pick(towns)
            i.channel = chance(30) ? .qrPoint : .spoken
            if !chance(15) { i.bringingMemberId = pick(members) }
            i.state = .received
            i.receivedOn = received.description
            i.receivedAtUnixMs = ms(received)
            truth.itemsReceived[committee, default: 0] += 1
            duty(i.bringingMemberId, .opinionBrought)
            var day = received
            var prev: Xieshang_Intake_V1_Item?
            func step(_ s: Xieshang_Intake_V1_ItemState, _ action: String) {
                var st = Xieshang_Intake_V1_Step()
                st.state = s
                st.atUnixMs = ms(day)
                st.action = action
                i.steps.append(st)
            }
            step(.received, "received")
            try record(.intake, "item", i.id, "item.created", committee: committee, on: day, before: prev, after: i)
            func move(_ s: Xieshang_Intake_V1_ItemState, _ action: String, after days: Int) throws {
                prev = i
                day = day.adding(days: days)
                i.state = s
                step(s, action)
                try record(.intake, "item", i.id, "item.\(action)", committee: committee, on: day, before: prev, after: i)
            }
            i.category = pick(Self.categories)
            i.title = String(i.text.prefix(8))
            try move(.registered, "registered", after: 1)
            if chance(5) {
                i.outOfScopeReason = "超出管理范围"
                try move(.outOfScope, "declined", after: 1)
            } else {
                i.unitId = Int64(Int.random(in: 1...40, using: &rng))
                i.handlingMode = .phone
                i.timeLimitDays = 15
                i.dueDate = day.adding(days: 21).description
                try move(.routed, "routed", after: 1)
                try move(.inProgress, "acknowledged", after: 1)
                i.reply = "已安排处理"
                try move(.answered, "replied", after: Int.random(in: 2...30, using: &rng))
                if chance(90) {
                    if i.bringingMemberId != 0 {
                        var r = Xieshang_Intake_V1_Relay()
                        r.id = next("relay")
                        r.committeeId = committee
                        r.memberId = i.bringingMemberId
                        r.itemId = i.id
                        r.content = "已向群众反馈"
                        r.audience = "村民代表"
                        r.audienceSize = Int32.random(in: 5...50, using: &rng)
                        r.date = day.adding(days: 2).description
                        r.townId = i.townId
                        try record(.intake, "relay", r.id, "relay.created", committee: committee, on: day.adding(days: 2), before: nil, after: r)
                        duty(r.memberId, .relay)
                    }
                    i.feedback = "已向群众反馈"
                    try move(.fedBack, "fed_back", after: 2)
                    if chance(85) {
                        let roll = Int.random(in: 0..<100, using: &rng)
                        i.satisfaction = roll < 70 ? .satisfied : roll < 90 ? .basicallySatisfied : .dissatisfied
                        if i.satisfaction == .dissatisfied {
                            i.reopenCount = 1
                            try move(.inProgress, "reopened", after: 3)
                        } else {
                            truth.itemsSatisfied[committee, default: 0] += 1
                            try move(.closed, "closed", after: 3)
                        }
                    }
                }
            }
            truth.itemsByState[committee, default: [:]][Int32(i.state.rawValue), default: 0] += 1
            if i.bringingMemberId != 0 && i.state == .closed { reportItems.append((i.id, i.bringingMemberId)) }
            if reportItems.count == 5 {
                try report(committee, reportItems, on: day)
                reportItems.removeAll()
            }
        }
    }

    private mutating func report(_ committee: Int64, _ items: [(id: Int64, member: Int64)], on start: CivilDate) throws {
        var r = Xieshang_Intake_V1_OpinionReport()
        r.id = next("report")
        r.committeeId = committee
        r.title = "社情民意信息第\(r.id)期"
        r.body = "综合反映"
        r.itemIds = items.map(\.id)
        r.state = .draft
        var day = start
        try record(.intake, "report", r.id, "report.created", committee: committee, on: day, before: nil, after: r)
        var prev = r
        r.state = .issued
        r.bulletinLabel = "\(year)年第\(r.id)期"
        try record(.intake, "report", r.id, "report.issued", committee: committee, on: day, before: prev, after: r)
        prev = r
        r.state = .sent
        r.recipients = ["县委办"]
        try record(.intake, "report", r.id, "report.sent", committee: committee, on: day, before: prev, after: r)
        guard chance(60) else { return }
        let members = items.map(\.member).reduce(into: [Int64]()) { if !$0.contains($1) { $0.append($1) } }
        prev = r
        r.adopted = true
        r.adoptedBy = "县委办"
        r.adoptedOn = day.description
        try record(.intake, "report", r.id, "report.adopted", committee: committee, on: day, before: prev, after: r)
        truth.reportsAdopted[committee, default: 0] += 1
        for m in members { duty(m, .opinionAdopted) }
        guard chance(40) else { return }
        prev = r
        day = day.adding(days: 1)
        var ins = Xieshang_Intake_V1_Instruction()
        ins.leader = "县委书记"
        ins.date = day.description
        ins.text = "请相关部门办理"
        r.instructions.append(ins)
        try record(.intake, "report", r.id, "report.instructed", committee: committee, on: day, before: prev, after: r)
        for m in members { duty(m, .instructionWon) }
    }

    // MARK: Proposals

    private mutating func proposals(_ committee: Int64, members: [Int64]) throws {
        for _ in 0..<proposalsPerCounty {
            var day = date(Int.random(in: 0..<300, using: &rng))
            var p = Xieshang_Proposal_V1_Proposal()
            p.id = next("proposal")
            p.committeeId = committee
            p.leadMemberId = pick(members)
            p.proposerKind = chance(20) ? .joint : .member
            p.sectorId = Int64(Int.random(in: 1...12, using: &rng))
            p.title = "关于改善农村供水的提案"
            p.reasons = "供水不稳定，群众反映强烈。"
            p.suggestions = "改造管网，建设蓄水池。"
            p.category = pick(Self.categories)
            var prev: Xieshang_Proposal_V1_Proposal?
            func move(_ s: Xieshang_Proposal_V1_ProposalState, _ type: String, after days: Int) throws {
                day = day.adding(days: days)
                p.state = s
                try record(.proposals, "proposal", p.id, "proposal.\(type)", committee: committee, on: day, before: prev, after: p)
                prev = p
            }
            if p.proposerKind == .joint {
                for _ in 0..<2 {
                    var s = Xieshang_Proposal_V1_CoSigner()
                    s.memberId = pick(members)
                    s.status = .pending
                    if !p.coSigners.contains(where: { $0.memberId == s.memberId }) && s.memberId != p.leadMemberId { p.coSigners.append(s) }
                }
                try move(.signing, "created", after: 0)
                for k in p.coSigners.indices {
                    p.coSigners[k].status = .confirmed
                    p.coSigners[k].answeredAtUnixMs = ms(day)
                    duty(p.coSigners[k].memberId, .proposalCosigned)
                }
                try move(.signing, "signed", after: 1)
            }
            p.submittedAtUnixMs = ms(day)
            p.submittedOn = day.description
            try move(.submitted, prev == nil ? "created" : "submitted", after: 0)
            duty(p.leadMemberId, .proposalLead)
            truth.proposalsSubmitted[committee, default: 0] += 1
            if chance(15) {
                p.declineReason = "不符合立案条件"
                try move(.notRegistered, "declined", after: 5)
                continue
            }
            p.registeredOn = day.adding(days: 5).description
            p.number = Int32(p.id)
            try move(.registered, "registered", after: 5)
            duty(p.leadMemberId, .proposalRegistered)
            truth.proposalsRegistered[committee, default: 0] += 1
            p.leadUnitId = Int64(Int.random(in: 1...40, using: &rng))
            p.assignedOn = day.adding(days: 3).description
            p.dueDate = day.adding(days: 90).description
            p.key = chance(5)
            try move(.assigned, "assigned", after: 3)
            try move(.handling, "acknowledged", after: 2)
            var reply = Xieshang_Proposal_V1_Reply()
            reply.unitId = p.leadUnitId
            reply.text = "已列入计划"
            reply.grade = .a
            reply.onTime = chance(85)
            day = day.adding(days: Int.random(in: 20...60, using: &rng))
            reply.repliedOn = day.description
            p.reply = reply
            try move(.replied, "replied", after: 0)
            if chance(90) {
                let roll = Int.random(in: 0..<100, using: &rng)
                p.satisfaction = roll < 75 ? .satisfied : roll < 95 ? .basicallySatisfied : .dissatisfied
                try move(.evaluated, "evaluated", after: 7)
            }
        }
    }

    // MARK: Consultation

    private mutating func consultations(_ committee: Int64, towns: [Int64], members: [Int64]) throws {
        for n in 0..<consultationsPerCounty {
            var day = date(Int.random(in: 0..<300, using: &rng))
            var t = Xieshang_Consultation_V1_Topic()
            t.id = next("topic")
            t.committeeId = committee
            t.title = "农村饮水安全第\(n + 1)号议题"
            t.category = pick(Self.categories)
            t.state = .proposed
            if chance(30) {
                t.proposerMemberId = pick(members)
                duty(t.proposerMemberId, .topicSuggested)
            }
            try record(.consultation, "consultation_topic", t.id, "consultation_topic.created", committee: committee, on: day, before: nil, after: t)
            var prevTopic = t
            t.state = .chosen
            try record(.consultation, "consultation_topic", t.id, "consultation_topic.chosen", committee: committee, on: day, before: prevTopic, after: t)
            prevTopic = t

            var c = Xieshang_Consultation_V1_Consultation()
            c.id = next("consultation")
            c.committeeId = committee
            c.topicId = t.id
            c.title = t.title
            c.form = pick([.thematic, .counterpart, .sector, .courtyard, .micro])
            c.level = .county
            c.hostMemberId = pick(members)
            c.townId = c.form == .courtyard ? pick(towns) : 0
            c.sectorId = c.form == .sector ? Int64(Int.random(in: 1...12, using: &rng)) : 0
            c.step = .topicChosen
            var created = Xieshang_Consultation_V1_StepRecord()
            created.action = "created"
            created.atUnixMs = ms(day)
            c.history = [created]
            var prev: Xieshang_Consultation_V1_Consultation?
            func move(_ s: Xieshang_Consultation_V1_Step, _ type: String, after days: Int) throws {
                day = day.adding(days: days)
                c.step = s
                var h = Xieshang_Consultation_V1_StepRecord()
                h.action = type
                h.atUnixMs = ms(day)
                c.history.append(h)
                try record(.consultation, "consultation", c.id, "consultation.\(type)", committee: committee, on: day, before: prev, after: c)
                prev = c
            }
            try move(.topicChosen, "created", after: 0)
            c.workPlan = "调研后协商"
            try move(.planned, "planned", after: 3)
            var activity = Xieshang_Consultation_V1_ResearchActivity()
            activity.on = day.adding(days: 5).description
            activity.place = "各乡镇"
            activity.memberIds = Array(Set((0..<3).map { _ in pick(members) })).sorted()
            for m in activity.memberIds { duty(m, .research) }
            c.research.append(activity)
            try move(.planned, "research_recorded", after: 5)
            c.researchReport = "调研报告"
            c.researchReportOn = day.adding(days: 3).description
            try move(.researched, "researched", after: 3)

            var m = Xieshang_Consultation_V1_Meeting()
            m.id = next("meeting")
            m.committeeId = committee
            m.consultationId = c.id
            m.title = c.title
            m.venueId = 1
            let meetingDay = day.adding(days: 7)
            m.startsAt = meetingDay.description + "T09:00"
            m.endsAt = meetingDay.description + "T11:00"
            m.hostMemberId = c.hostMemberId
            m.state = .scheduled
            var invited: [Int64] = []
            while invited.count < 8 {
                let who = pick(members)
                if who != m.hostMemberId && !invited.contains(who) { invited.append(who) }
            }
            m.invitations = invited.enumerated().map { k, who in
                var inv = Xieshang_Consultation_V1_Invitation()
                inv.number = Int32(k + 1)
                inv.kind = .member
                inv.memberId = who
                inv.required = true
                return inv
            }
            try record(.consultation, "meeting", m.id, "meeting.scheduled", committee: committee, on: day, before: nil, after: m)
            var prevMeeting = m
            if chance(10) {
                m.state = .cancelled
                c.cancelReason = "议题调整"
                try record(.consultation, "meeting", m.id, "meeting.cancelled", committee: committee, on: day, before: prevMeeting, after: m)
                try move(.cancelled, "cancelled", after: 0)
                continue
            }
            for k in m.invitations.indices {
                let roll = Int.random(in: 0..<100, using: &rng)
                if roll < 70 {
                    m.invitations[k].signedInAtUnixMs = ms(meetingDay)
                    duty(m.invitations[k].memberId, .consultationAttended)
                } else if roll < 85 {
                    m.invitations[k].leave = .approved
                } else {
                    m.invitations[k].talkNeeded = true
                    duty(m.invitations[k].memberId, .absenceUnexcused)
                    truth.absences[committee, default: 0] += 1
                }
            }
            m.state = .held
            try record(.consultation, "meeting", m.id, "meeting.held", committee: committee, on: meetingDay, before: prevMeeting, after: m)
            prevMeeting = m
            duty(m.hostMemberId, .consultationHosted)
            truth.meetingsHeld[committee, default: 0] += 1
            c.heldMeetingId = m.id
            c.heldOn = meetingDay.description
            day = meetingDay
            try move(.meetingHeld, "meeting_held", after: 0)
            c.resultsOn = day.adding(days: 2).description
            c.resultsOnTime = chance(80)
            var s = Xieshang_Consultation_V1_Suggestion()
            s.number = 1
            s.text = "统一改造供水管网"
            c.suggestions = [s]
            try move(.resultsSubmitted, "results_submitted", after: 2)
        }
    }

    private mutating func rosters(_ committee: Int64, stations: [Int64], ofStation: [Int64: [Int64]]) throws {
        for station in stations {
            let people = ofStation[station] ?? []
            guard !people.isEmpty else { continue }
            for month in 1...12 {
                let first = CivilDate(year: year, month: month, day: 1)!
                let days = (0..<31).map { first.adding(days: $0) }.filter { $0.parts.month == month && !$0.isWeekend }
                // Some months are planned twice; the second plan replaces the first.
                let plans = chance(10) ? 2 : 1
                var lastOffset = 0
                for _ in 0..<plans {
                    var r = Xieshang_Consultation_V1_Roster()
                    r.stationId = station
                    r.stationName = "委员工作站"
                    let offset = Int.random(in: 0..<people.count, using: &rng)
                    lastOffset = offset
                    for (k, d) in days.enumerated() {
                        var shift = Xieshang_Consultation_V1_DutyShift()
                        shift.memberId = people[(k + offset) % people.count]
                        shift.date = d.description
                        shift.hours = "08:30-17:30"
                        r.shifts.append(shift)
                    }
                    try record(.consultation, "roster", station, "roster.planned", committee: committee, on: first, before: nil, after: r)
                }
                // Of the final plan's shifts, most are worked (signed in): only those count.
                var worked: [Int64: Int64] = [:]
                for (k, d) in days.enumerated() where chance(85) {
                    var w = Xieshang_Consultation_V1_Roster()
                    w.stationId = station
                    w.stationName = "委员工作站"
                    var shift = Xieshang_Consultation_V1_DutyShift()
                    shift.memberId = people[(k + lastOffset) % people.count]
                    shift.date = d.description
                    shift.hours = "08:30-17:30"
                    shift.worked = true
                    w.shifts = [shift]
                    try record(.consultation, "roster", station, "roster.shift_worked", committee: committee, on: d, before: nil, after: w)
                    worked[shift.memberId, default: 0] += 1
                }
                for (m, n) in worked { duty(m, .stationDuty, n) }
            }
        }
    }
}

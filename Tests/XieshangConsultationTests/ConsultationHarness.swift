import NIOConcurrencyHelpers
import XCTest
import XieshangAPI
import XieshangConsultation
import XieshangKit
import XieshangRPC
import XieshangStore
import XieshangTestSupport

/// A directory and a consultation service on loopback over one engine, the service checking
/// references against the directory over real HTTP/2. Its clock starts on Monday 2026-03-02 at
/// 08:00 China time.
final class ConsultationHarness {
    let directory: DirectoryFixture
    let database: Database
    let loopback: LoopbackServer
    var channel: RPCChannel { loopback.channel }
    static let start = ChinaTime(date: CivilDate("2026-03-02")!, minuteOfDay: 8 * 60)
    let now = NIOLockedValueBox<Int64>(ConsultationHarness.start.minutes * 60_000)

    var committee: Int64 { directory.committee }

    static func each(_ name: String, _ body: (ConsultationHarness) async throws -> Void) async throws {
        try await TestEngines.each(name, make: { try await ConsultationHarness($0) }, close: { await $0.close() }, body)
    }

    init(_ config: DatabaseConfiguration) async throws {
        directory = try await DirectoryFixture(beside: config)
        database = try Database(configuration: config)
        let store = ConsultationStore(database: database)
        try await store.migrate()
        let clock = now
        loopback = try await LoopbackServer([
            ConsultationService(store: store, directory: RemoteDirectory(channel: directory.channel, serviceName: "consultation", ttl: 0),
                                clock: { clock.withLockedValue { $0 } }),
        ])
    }

    func close() async {
        await loopback.close()
        await database.close()
        await directory.close()
    }

    /// Sets the service's clock to `time` (YYYY-MM-DDTHH:MM, China time).
    func set(_ time: String) {
        now.withLockedValue { $0 = ChinaTime(time)!.minutes * 60_000 }
    }

    var client: Xieshang_Consultation_V1_ConsultationServiceClient { Xieshang_Consultation_V1_ConsultationServiceClient(channel: channel) }

    func `as`(_ role: Xieshang_Common_V1_Role, member: Int64 = 0, unit: Int64 = 0, committee: Int64? = nil) -> CallOptions {
        DirectoryFixture.options(role, committee: committee ?? self.committee, member: member, unit: unit)
    }

    var staff: CallOptions { self.as(.committeeStaff) }
    var admin: CallOptions { self.as(.committeeAdmin) }

    /// A topic entered by staff and chosen.
    func chosenTopic(_ title: String, source: Xieshang_Consultation_V1_TopicSource = .partyCommittee) async throws -> Topic {
        var t = Topic()
        t.title = title
        t.source = source
        t.category = "民生"
        let topic = try await client.proposeTopic(t, options: staff)
        var a = Xieshang_Consultation_V1_TopicAction()
        a.id = topic.id
        return try await client.chooseTopic(a, options: staff)
    }

    /// A consultation started from a new chosen topic.
    func consultation(_ title: String, form: Xieshang_Consultation_V1_Form = .thematic, level: Xieshang_Consultation_V1_Level = .county,
                      configure: (inout Consultation) -> Void = { _ in }) async throws -> Consultation {
        var c = Consultation()
        c.topicId = try await chosenTopic(title).id
        c.form = form
        c.level = level
        c.hostMemberId = directory.member
        configure(&c)
        return try await client.createConsultation(c, options: staff)
    }

    /// A consultation with its plan and research report in (ready for its meeting).
    func researched(_ title: String, form: Xieshang_Consultation_V1_Form = .thematic) async throws -> Consultation {
        let c = try await consultation(title, form: form)
        var plan = Xieshang_Consultation_V1_MakePlanRequest()
        plan.id = c.id
        plan.workPlan = "实地调研、座谈、形成报告。"
        _ = try await client.makeConsultationPlan(plan, options: staff)
        var research = Xieshang_Consultation_V1_ResearchRequest()
        research.id = c.id
        var a = Xieshang_Consultation_V1_ResearchActivity()
        a.summary = "走访两个社区。"
        research.activity = a
        _ = try await client.recordResearch(research, options: staff)
        var report = Xieshang_Consultation_V1_ReportRequest()
        report.id = c.id
        report.text = "调研报告。"
        return try await client.submitResearchReport(report, options: staff)
    }

    func invitation(member: Int64, required: Bool = true) -> Invitation {
        var i = Invitation()
        i.kind = .member
        i.memberId = member
        i.required = required
        return i
    }

    /// Schedules a meeting of consultation `id` in the room.
    func meeting(_ id: Int64, _ starts: String, _ ends: String, venue: Int64? = nil, invite: [Invitation] = []) async throws -> Meeting {
        var m = Meeting()
        m.consultationId = id
        m.venueId = venue ?? directory.room
        m.startsAt = starts
        m.endsAt = ends
        m.invitations = invite
        return try await client.scheduleMeeting(m, options: staff)
    }

    /// Events of one entity, oldest first.
    func history(_ kind: String, _ id: Int64) async throws -> [String] {
        var r = Xieshang_Events_V1_HistoryRequest()
        r.entityKind = kind
        r.entityId = "\(id)"
        return try await client.history(r, options: staff).events.map(\.eventType)
    }

    /// Rows of `table` and events stored so far (to show a refusal wrote nothing).
    func rows(_ table: String) async throws -> Int64 {
        try await database.read { try $0.query("SELECT COUNT(*) AS n FROM \(table)", []).first?.int("n") ?? 0 }
    }
}

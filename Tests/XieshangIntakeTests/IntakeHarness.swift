import NIOConcurrencyHelpers
import XCTest
import XieshangAPI
import XieshangDirectory
import XieshangIntake
import XieshangKit
import XieshangRPC
import XieshangStore
import XieshangTestSupport

/// A directory and an intake service on loopback over one engine, intake checking references
/// against the directory over real HTTP/2; a county with a town, a village, two units and members.
final class IntakeHarness {
    let dialect: SQLDialect
    let directory: DirectoryFixture
    let intakeDB: Database
    let loopback: LoopbackServer
    var channel: RPCChannel { loopback.channel }
    /// Milliseconds the intake service believes it is (moved by tests).
    let now = NIOLockedValueBox<Int64>(Clock.nowMilliseconds())

    var committee: Int64 { directory.committee }
    var otherCommittee: Int64 { directory.otherCommittee }
    var town: Int64 { directory.town }
    var village: Int64 { directory.village }
    var otherTown: Int64 { directory.otherTown }
    var unit: Int64 { directory.unit }
    var otherUnit: Int64 { directory.otherUnit }
    var member: Int64 { directory.member }
    /// A member who works in `unit` (for 直接领办).
    var unitMember: Int64 { directory.unitMember }

    static func each(_ name: String, _ body: (IntakeHarness) async throws -> Void) async throws {
        try await TestEngines.each(name, make: { try await IntakeHarness($0) }, close: { await $0.close() }, body)
    }

    init(_ config: DatabaseConfiguration) async throws {
        dialect = config.dialect
        directory = try await DirectoryFixture(beside: config)
        intakeDB = try Database(configuration: config)
        let store = IntakeStore(database: intakeDB)
        try await store.migrate()
        let clock = now
        loopback = try await LoopbackServer([
            IntakeService(store: store, directory: RemoteDirectory(channel: directory.channel, serviceName: "intake", ttl: 0),
                          clock: { clock.withLockedValue { $0 } }),
        ])
    }

    func close() async {
        await loopback.close()
        await intakeDB.close()
        await directory.close()
    }

    /// Moves intake's clock by `days`.
    func advance(days: Int) {
        now.withLockedValue { $0 += Int64(days) * 86_400_000 }
    }

    var client: Xieshang_Intake_V1_IntakeServiceClient { Xieshang_Intake_V1_IntakeServiceClient(channel: channel) }

    /// Call options as `role` (with the member or unit bound to the account) in the county.
    func `as`(_ role: Xieshang_Common_V1_Role, member: Int64 = 0, unit: Int64 = 0, committee: Int64? = nil) -> CallOptions {
        DirectoryFixture.options(role, committee: committee ?? self.committee, member: member, unit: unit)
    }

    var staff: CallOptions { self.as(.liaisonStaff) }
    var unitCaller: CallOptions { self.as(.handlingUnit, unit: unit) }

    /// A public submission.
    func submit(_ text: String, category: String = "", town: Int64 = 0) async throws -> Xieshang_Intake_V1_Ticket {
        var s = Xieshang_Intake_V1_PublicSubmission()
        s.text = text
        s.category = category
        s.townId = town
        s.name = "张三"
        s.phone = "13800000000"
        return try await client.submitPublic(s, options: self.as(.public))
    }

    /// The item behind a ticket (as staff).
    func item(_ ticket: Xieshang_Intake_V1_Ticket) async throws -> Xieshang_Intake_V1_Item {
        var r = Xieshang_Intake_V1_ListItemsRequest()
        r.pageSize = 1000
        let all = try await client.listItems(r, options: staff).items
        return try XCTUnwrap(all.first { $0.ticketCode == ticket.ticketCode })
    }

    func register(_ id: Int64, category: String = "民生") async throws -> Xieshang_Intake_V1_Item {
        var r = Xieshang_Intake_V1_RegisterRequest()
        r.id = id
        r.category = category
        r.townId = town
        return try await client.registerItem(r, options: staff)
    }

    func route(_ id: Int64, mode: Xieshang_Intake_V1_HandlingMode = .phone, unit: Int64? = nil, member: Int64 = 0, days: Int32 = 0) async throws -> Xieshang_Intake_V1_Item {
        var r = Xieshang_Intake_V1_RouteRequest()
        r.id = id
        r.mode = mode
        r.unitId = unit ?? self.unit
        r.handlingMemberId = member
        r.timeLimitDays = days
        return try await client.routeItem(r, options: staff)
    }

    func ref(_ id: Int64) -> Xieshang_Intake_V1_ItemRef {
        var r = Xieshang_Intake_V1_ItemRef()
        r.id = id
        return r
    }

    func reply(_ id: Int64, _ text: String, as options: CallOptions? = nil) async throws -> Xieshang_Intake_V1_Item {
        var r = Xieshang_Intake_V1_ReplyRequest()
        r.id = id
        r.reply = text
        return try await client.replyItem(r, options: options ?? unitCaller)
    }

    func list(_ configure: (inout Xieshang_Intake_V1_ListItemsRequest) -> Void, as options: CallOptions? = nil) async throws -> Xieshang_Intake_V1_ListItemsResponse {
        var r = Xieshang_Intake_V1_ListItemsRequest()
        configure(&r)
        return try await client.listItems(r, options: options ?? staff)
    }
}

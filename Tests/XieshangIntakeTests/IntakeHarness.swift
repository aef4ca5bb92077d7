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
    let directoryDB: Database
    let intakeDB: Database
    let secrets = Secrets(strength: .minimal)
    let directoryServer: RPCServer
    let intakeServer: RPCServer
    let directoryChannel: RPCChannel
    let channel: RPCChannel
    /// Milliseconds the intake service believes it is (moved by tests).
    let now = NIOLockedValueBox<Int64>(Clock.nowMilliseconds())

    var committee: Int64 = 0
    var otherCommittee: Int64 = 0
    var town: Int64 = 0
    var village: Int64 = 0
    var otherTown: Int64 = 0
    var unit: Int64 = 0
    var otherUnit: Int64 = 0
    var member: Int64 = 0
    /// A member who works in `unit` (for 直接领办).
    var unitMember: Int64 = 0

    static func each(_ name: String, _ body: (IntakeHarness) async throws -> Void) async throws {
        try await TestEngines.each(name, make: { try await IntakeHarness($0) }, close: { await $0.close() }, body)
    }

    init(_ config: DatabaseConfiguration) async throws {
        dialect = config.dialect
        var dirConfig = config
        if case .postgres(let conninfo, let schema) = config.engine { dirConfig.engine = .postgres(conninfo: conninfo, schema: schema + "_dir") }
        if case .sqlite(let path) = config.engine { dirConfig.engine = .sqlite(path: path + ".directory") }
        directoryDB = try Database(configuration: dirConfig)
        let directoryStore = DirectoryStore(database: directoryDB)
        try await directoryStore.migrate()
        intakeDB = try Database(configuration: config)
        let store = IntakeStore(database: intakeDB)
        try await store.migrate()
        var c = ServerConfiguration()
        c.threads = 1
        c.handlersOnEventLoop = false
        directoryServer = RPCServer(configuration: c, services: [DirectoryService(store: directoryStore, secrets: secrets)])
        directoryChannel = RPCChannel(host: "127.0.0.1", port: try await directoryServer.start())
        let clock = now
        intakeServer = RPCServer(configuration: c, services: [
            IntakeService(store: store, directory: RemoteDirectory(channel: directoryChannel, serviceName: "intake", ttl: 0), clock: { clock.withLockedValue { $0 } }),
        ])
        channel = RPCChannel(host: "127.0.0.1", port: try await intakeServer.start())
        try await seedDirectory()
    }

    private func seedDirectory() async throws {
        let dir = Xieshang_Directory_V1_DirectoryServiceClient(channel: directoryChannel)
        func opts(_ role: Xieshang_Common_V1_Role, _ committee: Int64) -> CallOptions {
            var p = Xieshang_Common_V1_Principal()
            p.committeeId = committee
            p.roles = [role]
            p.displayName = "管理员"
            return CallOptions(metadata: Caller.metadata(for: p), timeout: 30)
        }
        var pre = Xieshang_Directory_V1_Committee()
        pre.code = "qn"
        pre.name = "政协黔南州委员会"
        pre.level = .prefecture
        let prefecture = try await dir.createCommittee(pre, options: opts(.system, 1))
        var county = Xieshang_Directory_V1_Committee()
        county.code = "cs"
        county.name = "政协长顺县委员会"
        county.level = .county
        county.parentId = prefecture.id
        committee = try await dir.createCommittee(county, options: opts(.system, 1)).id
        county.code = "ds"
        county.name = "政协独山县委员会"
        otherCommittee = try await dir.createCommittee(county, options: opts(.system, 1)).id
        let admin = opts(.committeeAdmin, committee)
        var area = Xieshang_Directory_V1_Area()
        area.level = .town
        area.name = "长寨街道"
        area.kind = "街道"
        town = try await dir.createArea(area, options: admin).id
        area.name = "广顺镇"
        otherTown = try await dir.createArea(area, options: admin).id
        area.level = .village
        area.name = "营盘社区"
        area.kind = "社区"
        area.parentId = town
        village = try await dir.createArea(area, options: admin).id
        var u = Xieshang_Directory_V1_Unit()
        u.name = "县住建局"
        u.kind = .department
        unit = try await dir.createUnit(u, options: admin).id
        u.name = "县交警队"
        otherUnit = try await dir.createUnit(u, options: admin).id
        var s = Xieshang_Directory_V1_Sector()
        s.name = "经济界"
        let sector = try await dir.createSector(s, options: admin).id
        var m = Xieshang_Directory_V1_Member()
        m.code = "001"
        m.name = "王芳"
        m.sectorId = sector
        member = try await dir.createMember(m, options: admin).id
        m.code = "002"
        m.name = "李强"
        m.unitId = unit
        unitMember = try await dir.createMember(m, options: admin).id
    }

    func close() async {
        await channel.close()
        await intakeServer.shutdown()
        await directoryChannel.close()
        await directoryServer.shutdown()
        await intakeDB.close()
        await directoryDB.close()
        await secrets.shutdown()
    }

    /// Moves intake's clock by `days`.
    func advance(days: Int) {
        now.withLockedValue { $0 += Int64(days) * 86_400_000 }
    }

    var client: Xieshang_Intake_V1_IntakeServiceClient { Xieshang_Intake_V1_IntakeServiceClient(channel: channel) }

    /// Call options as `role` (with the member or unit bound to the account) in the county.
    func `as`(_ role: Xieshang_Common_V1_Role, member: Int64 = 0, unit: Int64 = 0, committee: Int64? = nil) -> CallOptions {
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = committee ?? self.committee
        p.roles = [role]
        p.accountId = role == .public ? 0 : 7
        p.memberId = member
        p.unitId = unit
        p.displayName = role == .public ? "" : "\(role)"
        return CallOptions(metadata: Caller.metadata(for: p), timeout: 30)
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

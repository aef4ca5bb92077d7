import XieshangAPI
import XieshangDirectory
import XieshangKit
import XieshangRPC
import XieshangStore

/// A directory service on loopback over one engine (its own SQLite file or PostgreSQL schema beside
/// the service under test), seeded with a county: two towns and a village, three units, a sector,
/// a party, a special committee, a current term, members and a leader account; and a neighbouring
/// county for cross-committee checks.
public final class DirectoryFixture {
    public let database: Database
    public let secrets = Secrets(strength: .minimal)
    let loopback: LoopbackServer
    /// The channel services under test reach the directory by.
    public var channel: RPCChannel { loopback.channel }

    public var committee: Int64 = 0
    public var otherCommittee: Int64 = 0
    public var town: Int64 = 0
    public var village: Int64 = 0
    public var otherTown: Int64 = 0
    public var unit: Int64 = 0
    public var otherUnit: Int64 = 0
    public var thirdUnit: Int64 = 0
    public var sector: Int64 = 0
    public var party: Int64 = 0
    public var specialCommittee: Int64 = 0
    public var term: Int64 = 0
    public var member: Int64 = 0
    /// A member who works in `unit` (for 直接领办).
    public var unitMember: Int64 = 0
    public var thirdMember: Int64 = 0
    /// A town work station (李强 and 张丽 report to it) and a county meeting room.
    public var station: Int64 = 0
    public var room: Int64 = 0
    /// An account with the leader role (县政协主席).
    public var leaderAccount: Int64 = 0

    /// Starts the directory on the engine of `config` (a sibling database) and seeds it.
    public init(beside config: DatabaseConfiguration) async throws {
        var dirConfig = config
        if case .postgres(let conninfo, let schema) = config.engine { dirConfig.engine = .postgres(conninfo: conninfo, schema: schema + "_dir") }
        if case .sqlite(let path) = config.engine { dirConfig.engine = .sqlite(path: path + ".directory") }
        database = try Database(configuration: dirConfig)
        let store = DirectoryStore(database: database)
        try await store.migrate()
        loopback = try await LoopbackServer([DirectoryService(store: store, secrets: secrets)])
        try await seed()
    }

    /// Call options as a principal of `committee` with `role`.
    /// Working days in (from, to] on the committee's calendar, as the directory counts them.
    public func workingDays(from: String, to: String) async throws -> Int32 {
        var r = Xieshang_Directory_V1_CountWorkingDaysRequest()
        r.from = from
        r.to = to
        return try await Xieshang_Directory_V1_DirectoryServiceClient(channel: channel)
            .countWorkingDays(r, options: Self.options(.liaisonStaff, committee: committee)).days
    }

    public static func options(_ role: Xieshang_Common_V1_Role, committee: Int64, member: Int64 = 0, unit: Int64 = 0,
                               account: Int64? = nil) -> CallOptions {
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = committee
        p.roles = [role]
        p.accountId = account ?? (role == .public ? 0 : 7)
        p.memberId = member
        p.unitId = unit
        p.displayName = role == .public ? "" : "\(role)"
        return CallOptions(metadata: Caller.metadata(for: p), timeout: 30)
    }

    private func seed() async throws {
        let dir = Xieshang_Directory_V1_DirectoryServiceClient(channel: channel)
        let system = Self.options(.system, committee: 1)
        var pre = Xieshang_Directory_V1_Committee()
        pre.code = "qn"
        pre.name = "政协黔南州委员会"
        pre.level = .prefecture
        let prefecture = try await dir.createCommittee(pre, options: system)
        var county = Xieshang_Directory_V1_Committee()
        county.code = "cs"
        county.name = "政协长顺县委员会"
        county.level = .county
        county.parentId = prefecture.id
        committee = try await dir.createCommittee(county, options: system).id
        county.code = "ds"
        county.name = "政协独山县委员会"
        otherCommittee = try await dir.createCommittee(county, options: system).id
        let admin = Self.options(.committeeAdmin, committee: committee)
        var t = Xieshang_Directory_V1_Term()
        t.number = 9
        t.name = "第九届"
        t.startDate = "2022-01-01"
        t.endDate = "2026-12-31"
        t.current = true
        term = try await dir.createTerm(t, options: admin).id
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
        u.name = "县教育局"
        thirdUnit = try await dir.createUnit(u, options: admin).id
        var s = Xieshang_Directory_V1_Sector()
        s.name = "经济界"
        sector = try await dir.createSector(s, options: admin).id
        var pt = Xieshang_Directory_V1_Party()
        pt.name = "民盟"
        party = try await dir.createParty(pt, options: admin).id
        var sc = Xieshang_Directory_V1_SpecialCommittee()
        sc.name = "提案委员会"
        specialCommittee = try await dir.createSpecialCommittee(sc, options: admin).id
        var ws = Xieshang_Directory_V1_WorkStation()
        ws.name = "长寨街道委员工作站"
        ws.level = .town
        ws.townId = town
        ws.kind = "委员工作站"
        station = try await dir.createWorkStation(ws, options: admin).id
        ws.name = "县政协三楼会议室"
        ws.level = .county
        ws.townId = 0
        ws.kind = "协商议事室"
        room = try await dir.createWorkStation(ws, options: admin).id
        var m = Xieshang_Directory_V1_Member()
        m.code = "001"
        m.name = "王芳"
        m.sectorId = sector
        m.termId = term
        member = try await dir.createMember(m, options: admin).id
        m.code = "002"
        m.name = "李强"
        m.unitId = unit
        m.stationId = station
        unitMember = try await dir.createMember(m, options: admin).id
        m.code = "003"
        m.name = "张丽"
        m.unitId = 0
        thirdMember = try await dir.createMember(m, options: admin).id
        var a = Xieshang_Directory_V1_CreateAccountRequest()
        var account = Xieshang_Directory_V1_Account()
        account.username = "zhuxi-\(committee)"
        account.displayName = "刘主席"
        account.roles = [.leader]
        a.account = account
        leaderAccount = try await dir.createAccount(a, options: admin).id
    }

    public func close() async {
        await loopback.close()
        await database.close()
        await secrets.shutdown()
    }
}

import XCTest
import XieshangAPI
import XieshangDirectory
import XieshangKit
import XieshangRPC
import XieshangStore
import XieshangTestSupport

/// A directory service on loopback over one engine, with two committees and a client per role.
final class DirectoryHarness {
    let dialect: SQLDialect
    let database: Database
    let store: DirectoryStore
    let secrets = Secrets(strength: .minimal)
    let loopback: LoopbackServer
    var channel: RPCChannel { loopback.channel }
    var committeeA = Xieshang_Directory_V1_Committee()
    var committeeB = Xieshang_Directory_V1_Committee()

    static func each(_ name: String, _ body: (DirectoryHarness) async throws -> Void) async throws {
        try await TestEngines.each(name, make: { try await DirectoryHarness($0) }, close: { await $0.close() }, body)
    }

    init(_ config: DatabaseConfiguration) async throws {
        dialect = config.dialect
        database = try Database(configuration: config)
        store = DirectoryStore(database: database)
        try await store.migrate()
        loopback = try await LoopbackServer([DirectoryService(store: store, secrets: secrets)])
        var a = Xieshang_Directory_V1_Committee()
        a.code = "prefecture"
        a.name = "政协某州委员会"
        a.level = .prefecture
        committeeA = try await client(.system).createCommittee(a)
        var b = Xieshang_Directory_V1_Committee()
        b.code = "county"
        b.name = "政协某县委员会"
        b.level = .county
        b.parentId = committeeA.id
        committeeB = try await client(.system).createCommittee(b)
    }

    func close() async {
        await loopback.close()
        await database.close()
        await secrets.shutdown()
    }

    func principal(_ roles: [Xieshang_Common_V1_Role], committee: Int64? = nil, account: Int64 = 99) -> Xieshang_Common_V1_Principal {
        var p = Xieshang_Common_V1_Principal()
        p.committeeId = committee ?? committeeA.id
        p.roles = roles
        p.accountId = account
        p.displayName = "测试管理员"
        return p
    }

    /// A typed client that calls as `role` in committee A (or `committee`).
    func client(_ role: Xieshang_Common_V1_Role, committee: Int64? = nil, account: Int64 = 99) -> Client {
        Client(stub: Xieshang_Directory_V1_DirectoryServiceClient(channel: channel),
               options: CallOptions(metadata: Caller.metadata(for: principal([role], committee: committee ?? (committeeA.id == 0 ? 1 : committeeA.id), account: account)), timeout: 30))
    }

    /// The stub with call options bound, so tests read as plain calls.
    struct Client {
        let stub: Xieshang_Directory_V1_DirectoryServiceClient
        let options: CallOptions

        func createCommittee(_ r: Xieshang_Directory_V1_Committee) async throws -> Xieshang_Directory_V1_Committee { try await stub.createCommittee(r, options: options) }
        func createSector(_ name: String) async throws -> Xieshang_Directory_V1_Sector {
            var s = Xieshang_Directory_V1_Sector()
            s.name = name
            return try await stub.createSector(s, options: options)
        }
        func createTown(_ name: String) async throws -> Xieshang_Directory_V1_Area {
            var a = Xieshang_Directory_V1_Area()
            a.level = .town
            a.name = name
            a.kind = "镇"
            return try await stub.createArea(a, options: options)
        }
        func createMember(_ code: String, _ name: String, sector: Int64, town: Int64 = 0) async throws -> Xieshang_Directory_V1_Member {
            var m = Xieshang_Directory_V1_Member()
            m.code = code
            m.name = name
            m.sectorId = sector
            m.residenceTownId = town
            return try await stub.createMember(m, options: options)
        }
    }
}

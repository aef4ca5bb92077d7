import XieshangAPI
import XieshangKit
import XieshangStore

/// A realistic prefecture for demos and benchmarks: the prefecture committee and eight county
/// committees, each with ~17 sectors, 250–300 members, towns, villages, groups, work stations,
/// handling units, a calendar, and an account for every role. Deterministic: the same seed gives
/// the same data.
public struct DemoDirectory: Sendable {
    /// What was created (or found, when the directory already had data).
    public struct Summary: Sendable {
        public var committees: [Xieshang_Directory_V1_Committee] = []
        public var members = 0
        /// (username, roles, committee code) of every demo account.
        public var accounts: [(String, [Xieshang_Common_V1_Role], String)] = []
        /// The demo accounts' password.
        public var password = ""
        /// An API token of the prefecture admin, when this run created the data.
        public var adminToken: String?
        /// Whether the directory already had committees (nothing was created).
        public var existed = false
    }

    public let store: DirectoryStore
    public let secrets: Secrets
    public var seed: UInt64 = 2026
    public var password = "xieshang-demo"

    public init(store: DirectoryStore, secrets: Secrets) {
        self.store = store
        self.secrets = secrets
    }

    /// Creates the demo prefecture unless the directory already has committees; `progress` hears
    /// about each committee as it is done.
    public func generate(progress: @Sendable (String) -> Void = { _ in }) async throws -> Summary {
        var summary = Summary()
        summary.password = password
        let existing = try await store.database.read { try $0.query("SELECT COUNT(*) AS n FROM committees", [])[0].int("n") }
        if existing > 0 {
            summary.existed = true
            return summary
        }
        // One hash for every demo account: hashing is deliberately slow, and these share a password.
        let hash = try await secrets.hash(password: password)
        var rng = DemoRandom(seed: seed)
        let v = DemoVocabulary.self
        var prefecture = Xieshang_Directory_V1_Committee()
        prefecture.code = v.prefecture.code
        prefecture.name = v.prefecture.name
        prefecture.region = v.prefecture.region
        prefecture.level = .prefecture
        prefecture = try await store.createCommittee(prefecture, actor: .system)
        summary.committees.append(prefecture)
        var plans: [Xieshang_Directory_V1_Committee] = [prefecture]
        for (code, name, region) in v.counties {
            var c = Xieshang_Directory_V1_Committee()
            c.code = code
            c.name = name
            c.region = region
            c.level = .county
            c.parentId = prefecture.id
            c = try await store.createCommittee(c, actor: .system)
            summary.committees.append(c)
            plans.append(c)
        }
        for committee in plans {
            let memberCount = rng.int(250...300)
            let localSeed = rng.next()
            let accounts = try await store.database.write { tx in
                var r = DemoRandom(seed: localSeed)
                return try CommitteeBuilder(tx: tx, committee: committee, hash: hash)
                    .build(members: memberCount, rng: &r)
            }
            summary.members += memberCount
            summary.accounts += accounts.map { ($0.0, $0.1, committee.code) }
            progress("\(committee.name): \(memberCount) members, \(accounts.count) accounts")
        }
        // A token for the prefecture admin, so a demo can call at once.
        if let admin = try await store.account(username: "\(v.prefecture.code).admin")?.0 {
            var t = Xieshang_Directory_V1_ApiToken()
            t.accountId = admin.id
            t.name = "demo"
            summary.adminToken = try await store.issueToken(t, committee: admin.committeeId, actor: .system).1
        }
        return summary
    }
}

import XieshangAPI
import XieshangKit
import XieshangStore

extension DemoDirectory {
    /// The demo accounts a token is issued for: one per role of the first county (长顺县), and the
    /// prefecture's admin, as (role label, username).
    public static var tokenAccounts: [(role: String, username: String)] {
        let county = DemoVocabulary.counties[0].0
        return [
            ("committee admin", "\(county).admin"), ("liaison staff", "\(county).liaison"),
            ("committee staff", "\(county).staff"), ("leader", "\(county).leader"),
            ("member", "\(county).member1"), ("handling unit", "\(county).unit1"),
            ("prefecture admin", "\(DemoVocabulary.prefecture.code).admin"),
        ]
    }

    /// Issues an API token (no expiry) for each of ``tokenAccounts``: (role, username, secret).
    public func issueDemoTokens() async throws -> [(role: String, username: String, token: String)] {
        var out: [(role: String, username: String, token: String)] = []
        for (role, username) in Self.tokenAccounts {
            guard let account = try await store.account(username: username)?.0 else { continue }
            var t = Xieshang_Directory_V1_ApiToken()
            t.accountId = account.id
            t.name = "demo"
            out.append((role, username, try await store.issueToken(t, committee: account.committeeId, actor: .system).1))
        }
        return out
    }
}

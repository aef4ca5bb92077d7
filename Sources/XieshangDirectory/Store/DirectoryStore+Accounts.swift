import XieshangAPI
import XieshangKit
import XieshangStore

extension DirectoryStore {
    /// Creates an account, with its password hash when one is given.
    public func createAccount(_ account: Xieshang_Directory_V1_Account, passwordHash: String?, committee: Int64, actor: Actor) async throws -> Xieshang_Directory_V1_Account {
        var a = try account.validated()
        a.committeeId = committee
        a.hasPassword = passwordHash != nil
        let ready = a
        return try await database.write { tx in
            try References.account(ready, on: tx.connection)
            let stored = try EntityTable<Xieshang_Directory_V1_Account>().insert(ready, in: tx, actor: actor)
            if let passwordHash {
                try Self.storePasswordHash(passwordHash, account: stored.id, in: tx)
            }
            return stored
        }
    }

    /// Stores a new password hash for an account of `committee`; records `account.password_set`
    /// (the event carries the account, never the hash).
    public func setPasswordHash(_ hash: String, account id: Int64, committee: Int64, actor: Actor) async throws -> Xieshang_Directory_V1_Account {
        try await database.write { tx in
            let table = EntityTable<Xieshang_Directory_V1_Account>()
            let current = try table.get(id, committee: committee, on: tx.connection)
            var next = current
            next.hasPassword = true
            // Forced: a second password change leaves the record as it was, but is still recorded.
            let stored = try table.replace(current, with: next, in: tx, actor: actor, eventType: "account.password_set", force: true)
            try Self.storePasswordHash(hash, account: id, in: tx)
            return stored
        }
    }

    /// Keeps a password hash beside the account row (never in its body, so never in an event).
    static func storePasswordHash(_ hash: String, account id: Int64, in tx: Transaction) throws {
        try tx.execute("UPDATE accounts SET password_hash = ? WHERE id = ?", [.text(hash), .integer(id)])
    }

    /// The account with `username` (any committee) and its password hash ("" when none).
    public func account(username: String) async throws -> (Xieshang_Directory_V1_Account, String)? {
        try await database.read { conn in
            guard let row = try conn.query("SELECT committee_id, id, password_hash FROM accounts WHERE username = ?",
                                           [.text(username.trimmedSpaces.lowercased())]).first else { return nil }
            let a = try EntityTable<Xieshang_Directory_V1_Account>().get(row.int("id"), committee: row.int("committee_id"), on: conn)
            return (a, row.text("password_hash"))
        }
    }

    /// The wrong-password state of `username` (lower-cased as accounts keep it).
    public func loginLock(username: String) async throws -> LoginLock {
        let key = username.trimmedSpaces.lowercased()
        return try await database.read { conn in
            guard let row = try conn.query("SELECT failures, last_ms, locked_until_ms FROM login_failures WHERE username = ?",
                                           [.text(key)]).first else { return LoginLock() }
            return LoginLock(failures: row.int("failures"), lastMs: row.int("last_ms"), lockedUntilMs: row.int("locked_until_ms"))
        }
    }

    /// Counts a wrong password for `username`; returns the state it leads to.
    public func recordLoginFailure(username: String) async throws -> LoginLock {
        let key = username.trimmedSpaces.lowercased()
        return try await database.write { tx in
            let row = try tx.query("SELECT failures, last_ms, locked_until_ms FROM login_failures WHERE username = ?", [.text(key)]).first
            let before = row.map { LoginLock(failures: $0.int("failures"), lastMs: $0.int("last_ms"), lockedUntilMs: $0.int("locked_until_ms")) }
            let next = (before ?? LoginLock()).failed(now: tx.nowMilliseconds)
            let binds: [SQLValue] = [.integer(next.failures), .integer(next.lastMs), .integer(next.lockedUntilMs), .text(key)]
            if before == nil {
                try tx.execute("INSERT INTO login_failures (failures, last_ms, locked_until_ms, username) VALUES (?, ?, ?, ?)", binds)
            } else {
                try tx.execute("UPDATE login_failures SET failures = ?, last_ms = ?, locked_until_ms = ? WHERE username = ?", binds)
            }
            return next
        }
    }

    /// A right password: the count starts again.
    public func clearLoginFailures(username: String) async throws {
        let key = username.trimmedSpaces.lowercased()
        try await database.write { tx in
            _ = try tx.execute("DELETE FROM login_failures WHERE username = ?", [.text(key)])
        }
    }

    /// Issues a token for `token.accountId` of `committee`: a new secret, kept only as its hash.
    /// Returns the stored token and the secret (to be shown once).
    public func issueToken(_ token: Xieshang_Directory_V1_ApiToken, committee: Int64, actor: Actor) async throws -> (Xieshang_Directory_V1_ApiToken, String) {
        let secret = Secrets.newTokenSecret()
        var t = token
        t.committeeId = committee
        t.prefix = String(secret.prefix(10))
        t.createdAtUnixMs = Clock.nowMilliseconds()
        let ready = t
        let hash = Secrets.tokenHash(secret)
        let stored = try await database.write { tx in
            let account = try EntityTable<Xieshang_Directory_V1_Account>().find(ready.accountId, committee: committee, on: tx.connection)
            guard account != nil else { throw DomainError.invalid(field: "account_id", message: "no account \(ready.accountId) in this committee") }
            let stored = try EntityTable<Xieshang_Directory_V1_ApiToken>().insert(ready, in: tx, actor: actor)
            try tx.execute("UPDATE api_tokens SET token_hash = ? WHERE id = ?", [.text(hash), .integer(stored.id)])
            return stored
        }
        return (stored, secret)
    }

    /// The live token with this hash and its account, if any (revoked, expired and disabled ones are not).
    public func token(hash: String, now: Int64) async throws -> (Xieshang_Directory_V1_ApiToken, Xieshang_Directory_V1_Account)? {
        try await database.read { conn in
            guard let row = try conn.query(
                "SELECT id, committee_id FROM api_tokens WHERE token_hash = ? AND revoked = 0 AND (expires_at_ms = 0 OR expires_at_ms > ?)",
                [.text(hash), .integer(now)]).first else { return nil }
            let committee = row.int("committee_id")
            let token = try EntityTable<Xieshang_Directory_V1_ApiToken>().get(row.int("id"), committee: committee, on: conn)
            guard let account = try EntityTable<Xieshang_Directory_V1_Account>().find(token.accountId, committee: committee, on: conn),
                  !account.disabled else { return nil }
            return (token, account)
        }
    }

    /// Revokes a token of `committee`.
    public func revokeToken(_ id: Int64, committee: Int64, actor: Actor, allowed: @escaping @Sendable (Xieshang_Directory_V1_ApiToken) throws -> Void) async throws -> Xieshang_Directory_V1_ApiToken {
        try await database.write { tx in
            let table = EntityTable<Xieshang_Directory_V1_ApiToken>()
            let current = try table.get(id, committee: committee, on: tx.connection)
            try allowed(current)
            var next = current
            next.revoked = true
            return try table.replace(current, with: next, in: tx, actor: actor, eventType: "api_token.revoked")
        }
    }
}

extension Xieshang_Directory_V1_Account {
    /// The answer to a successful login or token resolution: the account and its principal.
    public var authenticated: Xieshang_Directory_V1_AuthenticateResponse {
        var r = Xieshang_Directory_V1_AuthenticateResponse()
        r.account = self
        r.principal = principal
        return r
    }

    /// The principal this account acts as.
    public var principal: Xieshang_Common_V1_Principal {
        var p = Xieshang_Common_V1_Principal()
        p.accountId = id
        p.committeeId = committeeId
        p.roles = roles
        p.memberId = memberId
        p.unitId = unitId
        p.displayName = displayName
        return p
    }
}

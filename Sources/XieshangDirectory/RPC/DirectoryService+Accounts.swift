import XieshangAPI
import XieshangKit
import XieshangRPC
import XieshangStore

extension DirectoryService {
    public func createAccount(request: Xieshang_Directory_V1_CreateAccountRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_Account {
        let caller = try admin(context, to: "managing accounts")
        let account = request.account ?? Xieshang_Directory_V1_Account()
        try Self.checkGrant(caller, from: [], to: account.roles)
        var hash: String?
        if !request.password.isEmpty {
            try PasswordPolicy.check(request.password)
            hash = try await secrets.hash(password: request.password)
        }
        return try await store.createAccount(account, passwordHash: hash, committee: caller.committeeID, actor: caller.actor)
    }

    public func updateAccount(request: Xieshang_Directory_V1_Account, context: ServerContext) async throws -> Xieshang_Directory_V1_Account {
        let caller = try admin(context, to: "managing accounts")
        return try await store.update(request, committee: caller.committeeID, actor: caller.actor) { current, next, conn in
            try Self.checkGrant(caller, from: current.roles, to: next.roles)
            if current.username != next.username { throw DomainError.invalid(field: "username", message: "cannot change") }
            if current.hasPassword != next.hasPassword { throw DomainError.invalid(field: "has_password", message: "set by SetPassword only") }
            try References.account(next, on: conn)
        }
    }

    /// The account a request names: 0 is the caller's own.
    static func account(_ id: Int64, of caller: Caller) -> Int64 {
        id == 0 ? caller.principal.accountId : id
    }

    /// Roles an admin may give: the prefecture admin role (which reads across every county) only
    /// from a prefecture admin, whether an account is created with it or updated to it.
    static func checkGrant(_ caller: Caller, from current: [Xieshang_Common_V1_Role], to next: [Xieshang_Common_V1_Role]) throws {
        if next.contains(.prefectureAdmin) && !current.contains(.prefectureAdmin) && !caller.isSystem && !caller.has(.prefectureAdmin) {
            throw DomainError.forbidden("only a prefecture admin grants the prefecture admin role")
        }
    }

    public func getAccount(request: Xieshang_Directory_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_Account {
        let caller = try Caller(context: context)
        if request.id != caller.principal.accountId { try caller.require(.committeeAdmin, to: "reading another account") }
        return try await store.get(Xieshang_Directory_V1_Account.self, id: request.id, committee: caller.committeeID)
    }

    public func listAccounts(request: Xieshang_Directory_V1_ListAccountsRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListAccountsResponse {
        let caller = try admin(context, to: "listing accounts")
        var f = baseFilter(query: request.query, includeArchived: request.includeArchived, archivedColumn: "disabled",
                           nameColumns: ["username", "display_name"])
        f.hasKey("roles", Int64(request.role.rawValue))
        let p = try await store.list(Xieshang_Directory_V1_Account.self, committee: caller.committeeID, filter: f,
                                     page: PageRequest(size: request.pageSize, token: request.pageToken))
        var r = Xieshang_Directory_V1_ListAccountsResponse()
        r.accounts = p.items
        r.nextPageToken = p.nextToken
        r.total = Int32(p.total)
        return r
    }

    public func setPassword(request: Xieshang_Directory_V1_SetPasswordRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_Account {
        let caller = try Caller(context: context)
        let accountID = Self.account(request.accountId, of: caller)
        if accountID != caller.principal.accountId { try caller.require(.committeeAdmin, to: "setting another account's password") }
        try PasswordPolicy.check(request.password)
        _ = try await store.get(Xieshang_Directory_V1_Account.self, id: accountID, committee: caller.committeeID)
        let hash = try await secrets.hash(password: request.password)
        return try await store.setPasswordHash(hash, account: accountID, committee: caller.committeeID, actor: caller.actor)
    }

    public func authenticate(request: Xieshang_Directory_V1_AuthenticateRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_AuthenticateResponse {
        let caller = try Caller(context: context)
        guard caller.isSystem else { throw DomainError.forbidden("authentication is the gateway's") }
        // A locked username is refused before its password is looked at (LoginLock).
        let lock = try await store.loginLock(username: request.username)
        if let left = lock.remaining(now: Clock.nowMilliseconds()) {
            throw RPCError(.resourceExhausted, LoginLock.message(remainingMs: left, failures: lock.failures))
        }
        let found = try await store.account(username: request.username)
        // The hash is checked (or a throwaway one) either way, so timing does not reveal usernames.
        let ok = try await secrets.verify(password: request.password, hash: found?.1 ?? "")
        guard ok, let account = found?.0, !account.disabled else {
            let next = try await store.recordLoginFailure(username: request.username)
            if let left = next.remaining(now: next.lastMs) {
                SecurityLog.warning("directory: username '\(request.username.prefix(60))' locked for \(left / 1000) s after \(next.failures) wrong passwords in a row")
                throw DomainError.unauthenticated("wrong username or password; \(LoginLock.message(remainingMs: left, failures: next.failures))")
            }
            throw DomainError.unauthenticated("wrong username or password")
        }
        if lock.failures > 0 { try await store.clearLoginFailures(username: request.username) }
        return account.authenticated
    }

    public func createToken(request: Xieshang_Directory_V1_CreateTokenRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_CreateTokenResponse {
        let caller = try Caller(context: context)
        let accountID = Self.account(request.accountId, of: caller)
        if accountID != caller.principal.accountId { try caller.require(.committeeAdmin, to: "issuing tokens for another account") }
        var t = Xieshang_Directory_V1_ApiToken()
        t.accountId = accountID
        t.name = try Check.text(request.name, "name", max: 60)
        if request.expiresAtUnixMs != 0 && request.expiresAtUnixMs <= Clock.nowMilliseconds() {
            throw DomainError.invalid(field: "expires_at_unix_ms", message: "in the past")
        }
        t.expiresAtUnixMs = request.expiresAtUnixMs
        var r = Xieshang_Directory_V1_CreateTokenResponse()
        (r.token, r.secret) = try await store.issueToken(t, committee: caller.committeeID, actor: caller.actor)
        return r
    }

    public func listTokens(request: Xieshang_Directory_V1_ListTokensRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ListTokensResponse {
        let caller = try Caller(context: context)
        var f = SQLFilter()
        let accountID = Self.account(request.accountId, of: caller)
        if accountID != caller.principal.accountId || accountID == 0 {
            try caller.require(.committeeAdmin, to: "listing other accounts' tokens")
        }
        f.equal("account_id", accountID)
        var r = Xieshang_Directory_V1_ListTokensResponse()
        r.tokens = try await store.all(Xieshang_Directory_V1_ApiToken.self, committee: caller.committeeID, filter: f)
        return r
    }

    public func revokeToken(request: Xieshang_Directory_V1_GetRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_ApiToken {
        let caller = try Caller(context: context)
        let isAdmin = caller.isSystem || caller.has(.committeeAdmin)
        let own = caller.principal.accountId
        return try await store.revokeToken(request.id, committee: caller.committeeID, actor: caller.actor) { token in
            if !isAdmin && token.accountId != own { throw DomainError.notFound(kind: "api_token", id: "\(request.id)") }
        }
    }

    public func resolveToken(request: Xieshang_Directory_V1_ResolveTokenRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_AuthenticateResponse {
        let caller = try Caller(context: context)
        guard caller.isSystem else { throw DomainError.forbidden("resolving tokens is the gateway's") }
        guard let (token, account) = try await store.token(hash: Secrets.tokenHash(request.secret), now: Clock.nowMilliseconds()) else {
            throw DomainError.unauthenticated("unknown, revoked or expired token")
        }
        var r = account.authenticated
        r.tokenExpiresAtUnixMs = token.expiresAtUnixMs
        return r
    }

    // MARK: Calendar

    public func setCalendarYear(request: Xieshang_Directory_V1_CalendarYear, context: ServerContext) async throws -> Xieshang_Directory_V1_CalendarYear {
        let caller = try admin(context, to: "maintaining the calendar")
        return try await store.setCalendarYear(request, committee: caller.committeeID, actor: caller.actor)
    }

    public func getCalendarYear(request: Xieshang_Directory_V1_GetCalendarYearRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_CalendarYear {
        try await store.calendarYear(request.year, committee: try Caller(context: context).committeeID)
    }

    public func addWorkingDays(request: Xieshang_Directory_V1_AddWorkingDaysRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_AddWorkingDaysResponse {
        let caller = try Caller(context: context)
        let date = try Self.date(request.date, field: "date")
        guard abs(request.days) <= 3660 else { throw DomainError.invalid(field: "days", message: "at most 3660 working days either way") }
        let (d, missing) = try await store.calendar(committee: caller.committeeID).adding(workingDays: Int(request.days), to: date)
        var r = Xieshang_Directory_V1_AddWorkingDaysResponse()
        r.date = d.description
        r.yearsWithoutTable = missing.map(Int32.init)
        return r
    }

    public func countWorkingDays(request: Xieshang_Directory_V1_CountWorkingDaysRequest, context: ServerContext) async throws -> Xieshang_Directory_V1_CountWorkingDaysResponse {
        let caller = try Caller(context: context)
        let from = try Self.date(request.from, field: "from"), to = try Self.date(request.to, field: "to")
        guard abs(to.dayNumber - from.dayNumber) <= 3660 * 2 else { throw DomainError.invalid(field: "to", message: "at most 20 years from 'from'") }
        let (n, missing) = try await store.calendar(committee: caller.committeeID).workingDays(from: from, to: to)
        var r = Xieshang_Directory_V1_CountWorkingDaysResponse()
        r.days = Int32(n)
        r.yearsWithoutTable = missing.map(Int32.init)
        return r
    }
}

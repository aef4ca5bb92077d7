import XCTest
import XieshangAPI
import XieshangDirectory
import XieshangKit
import XieshangRPC
import XieshangStore
import XieshangTestSupport

final class DirectoryServiceTests: XCTestCase {
    func testTenancyValidationDuplicatesAndVersions() async throws {
        try await DirectoryHarness.each("tenancy") { h in
            let admin = h.client(.committeeAdmin)
            let sector = try await admin.createSector("  教育  ")
            XCTAssertEqual(sector.name, "教育", "names are trimmed")
            XCTAssertEqual(sector.committeeId, h.committeeA.id, "the committee comes from the principal")
            let town = try await admin.createTown("长寨街道")
            let m = try await admin.createMember("CS001", "欧阳娜娜", sector: sector.id, town: town.id)
            XCTAssertEqual(m.version, 1)
            XCTAssertEqual(m.status, .active)

            // Another committee sees NOT_FOUND, never the record, even as its admin.
            let other = h.client(.committeeAdmin, committee: h.committeeB.id)
            await assertStatus(.notFound, "read across committees") {
                _ = try await other.stub.getMember(.with(id: m.id), options: other.options)
            }
            let otherList = try await other.stub.listMembers(Xieshang_Directory_V1_ListMembersRequest(), options: other.options)
            XCTAssertEqual(otherList.members, [])
            // Nor can it point at this committee's records.
            let otherSector = try await other.createSector("教育")
            await assertStatus(.invalidArgument, mentioning: "residence_town_id", "foreign town") {
                _ = try await other.createMember("X1", "张三", sector: otherSector.id, town: town.id)
            }

            await assertStatus(.invalidArgument, mentioning: "name", "empty name") {
                _ = try await admin.createMember("CS002", "  ", sector: sector.id)
            }
            await assertStatus(.invalidArgument, mentioning: "sector_id", "missing sector") {
                _ = try await admin.createMember("CS002", "李四", sector: 0)
            }
            await assertStatus(.alreadyExists, mentioning: "code", "duplicate code") {
                _ = try await admin.createMember("CS001", "王五", sector: sector.id)
            }
            await assertStatus(.alreadyExists, mentioning: "name", "duplicate sector") {
                _ = try await admin.createSector("教育")
            }

            var edit = m
            edit.phone = "13900000000"
            let saved = try await admin.stub.updateMember(edit, options: admin.options)
            XCTAssertEqual(saved.version, 2)
            await assertStatus(.aborted, mentioning: "version", "stale update") {
                _ = try await admin.stub.updateMember(edit, options: admin.options)
            }

            // Roles: a member may read, not write; no principal is UNAUTHENTICATED.
            let member = h.client(.member)
            _ = try await member.stub.getMember(.with(id: m.id), options: member.options)
            await assertStatus(.permissionDenied, "member writes") { _ = try await member.createSector("农业") }
            await assertStatus(.permissionDenied, "public reads") {
                let p = h.client(.public)
                _ = try await p.stub.getMember(.with(id: m.id), options: p.options)
            }
            await assertStatus(.unauthenticated, "no principal") {
                _ = try await admin.stub.getMember(.with(id: m.id))
            }

            // History keeps who, when, before and after.
            let history = try await admin.stub.history(.with(kind: "member", id: "\(m.id)"), options: admin.options)
            XCTAssertEqual(history.events.map(\.eventType), ["member.created", "member.updated"])
            XCTAssertEqual(history.events[1].actorName, "测试管理员")
            XCTAssertEqual(try Xieshang_Directory_V1_Member(serializedBytes: history.events[1].before).phone, "")
            XCTAssertEqual(try Xieshang_Directory_V1_Member(serializedBytes: history.events[1].after).phone, "13900000000")
            await assertStatus(.notFound, "history across committees") {
                _ = try await other.stub.history(.with(kind: "member", id: "\(m.id)"), options: other.options)
            }
        }
    }

    func testFilteredListingWithStableCursorPaging() async throws {
        try await DirectoryHarness.each("paging") { h in
            let admin = h.client(.committeeAdmin)
            let edu = try await admin.createSector("教育"), farm = try await admin.createSector("农业")
            let town = try await admin.createTown("广顺镇")
            for i in 1...45 {
                _ = try await admin.createMember(String(format: "M%03d", i), "委员\(i)号", sector: i % 3 == 0 ? farm.id : edu.id,
                                                 town: i % 5 == 0 ? town.id : 0)
            }
            var request = Xieshang_Directory_V1_ListMembersRequest()
            request.sectorId = edu.id
            request.pageSize = 7
            var seen: [String] = []
            var pages = 0
            repeat {
                let page = try await admin.stub.listMembers(request, options: admin.options)
                if pages == 0 { XCTAssertEqual(page.total, 30) }
                seen += page.members.map(\.code)
                request.pageToken = page.nextPageToken
                pages += 1
                if pages == 2 {
                    // A record added mid-way (with a higher id) shows up once, at the end.
                    _ = try await admin.createMember("M999", "新委员", sector: edu.id)
                }
            } while !request.pageToken.isEmpty && pages < 20
            XCTAssertEqual(seen.count, Set(seen).count, "no record twice")
            XCTAssertEqual(seen.count, 31)
            XCTAssertEqual(seen.last, "M999")

            var byTown = Xieshang_Directory_V1_ListMembersRequest()
            byTown.townId = town.id
            let v1 = try await admin.stub.listMembers(byTown, options: admin.options).total
            XCTAssertEqual(v1, 9)
            var byName = Xieshang_Directory_V1_ListMembersRequest()
            byName.query = "员4号"
            let named = try await admin.stub.listMembers(byName, options: admin.options).members.map(\.name)
            XCTAssertEqual(named, ["委员4号"])
            byName.query = "%"
            let v2 = try await admin.stub.listMembers(byName, options: admin.options).members
            XCTAssertEqual(v2, [], "LIKE wildcards are literal")

            var bad = Xieshang_Directory_V1_ListMembersRequest()
            bad.pageToken = "garbage"
            await assertStatus(.invalidArgument, mentioning: "page_token", "bad token") {
                _ = try await admin.stub.listMembers(bad, options: admin.options)
            }
        }
    }

    func testMemberCSVImportIsAllOrNothingAndRoundTrips() async throws {
        try await DirectoryHarness.each("csv") { h in
            let admin = h.client(.committeeAdmin)
            _ = try await admin.createSector("教育")
            _ = try await admin.createSector("经济")
            _ = try await admin.createTown("威远镇")
            var good = "\u{FEFF}编号,姓名,性别,界别,常委,居住地乡镇,手机\n"
            good += "A001,张伟,男,教育,是,威远镇,13800000001\n"
            good += "A002,\"李,娜\",女,经济,否,,\n"
            let bad = good + "A003,王芳,女,不存在的界别,是,,\nA001,重复,男,教育,否,,\nA004,,男,教育,maybe,,\n"
            var req = Xieshang_Directory_V1_ImportRequest()
            req.csv = Array(bad.utf8)
            let rejected = try await admin.stub.importMembers(req, options: admin.options)
            XCTAssertEqual(rejected.created, 0)
            XCTAssertEqual(rejected.errors.map(\.row), [4, 5, 6, 6])
            XCTAssertEqual(rejected.errors.map(\.column), ["界别", "编号", "姓名", "常委"])
            XCTAssertTrue(rejected.errors[0].message.contains("不存在的界别"))
            let v3 = try await admin.stub.listMembers(Xieshang_Directory_V1_ListMembersRequest(), options: admin.options).total
            XCTAssertEqual(v3, 0,
                           "nothing is imported when any row fails")

            req.csv = Array(good.utf8)
            req.dryRun = true
            let v4 = try await admin.stub.importMembers(req, options: admin.options).created
            XCTAssertEqual(v4, 2)
            let v5 = try await admin.stub.listMembers(Xieshang_Directory_V1_ListMembersRequest(), options: admin.options).total
            XCTAssertEqual(v5, 0,
                           "a dry run stores nothing")
            req.dryRun = false
            let v6 = try await admin.stub.importMembers(req, options: admin.options).created
            XCTAssertEqual(v6, 2)
            let again = try await admin.stub.importMembers(req, options: admin.options)
            XCTAssertEqual(again.errors.map(\.row), [2, 3], "existing members are reported unless updating")

            let exported = try await admin.stub.exportMembers(Xieshang_Directory_V1_ListMembersRequest(), options: admin.options)
            XCTAssertEqual(exported.rows, 2)
            let text = String(decoding: exported.csv, as: UTF8.self)
            XCTAssertTrue(text.contains("\"李,娜\""), text)
            XCTAssertTrue(text.contains("威远镇"), text)
            // The export imports back (as updates) unchanged.
            req.csv = exported.csv
            req.updateExisting = true
            let back = try await admin.stub.importMembers(req, options: admin.options)
            XCTAssertEqual(back.errors, [])
            XCTAssertEqual(back.updated, 0, "re-importing the export changes nothing")

            var units = Xieshang_Directory_V1_ImportRequest()
            units.csv = Array("单位名称,类别,联系人,联系电话\n县住建局,政府部门,王主任,0854-1234567\n县住建局,政府部门,李科长,0854-7654321\n县教育局,政府部门,,\n".utf8)
            let u = try await admin.stub.importUnits(units, options: admin.options)
            XCTAssertEqual(u.created, 2)
            let list = try await admin.stub.listUnits(Xieshang_Directory_V1_ListUnitsRequest(), options: admin.options)
            XCTAssertEqual(list.units.first { $0.name == "县住建局" }?.contacts.map(\.name), ["王主任", "李科长"])
        }
    }

    func testPasswordsTokensAndAuthentication() async throws {
        try await DirectoryHarness.each("accounts") { h in
            let admin = h.client(.committeeAdmin)
            let system = h.client(.system)
            var create = Xieshang_Directory_V1_CreateAccountRequest()
            var account = Xieshang_Directory_V1_Account()
            account.username = "Liaison.One"
            account.displayName = "联络员"
            account.roles = [.liaisonStaff]
            create.account = account
            create.password = "short"
            await assertStatus(.invalidArgument, mentioning: "password", "weak password") {
                _ = try await admin.stub.createAccount(create, options: admin.options)
            }
            create.password = "正确的密码-2026"
            let stored = try await admin.stub.createAccount(create, options: admin.options)
            XCTAssertEqual(stored.username, "liaison.one")
            XCTAssertTrue(stored.hasPassword)
            let hash = try await h.database.read {
                try $0.query("SELECT password_hash FROM accounts WHERE id = ?", [.integer(stored.id)])[0].text("password_hash")
            }
            XCTAssertTrue(hash.hasPrefix("$argon2id$"), hash)

            let ok = try await system.stub.authenticate(.with(user: "LIAISON.ONE", password: "正确的密码-2026"), options: system.options)
            XCTAssertEqual(ok.principal?.committeeId, h.committeeA.id)
            XCTAssertEqual(ok.principal?.roles, [.liaisonStaff])
            await assertStatus(.unauthenticated, "wrong password") {
                _ = try await system.stub.authenticate(.with(user: "liaison.one", password: "错误的密码-2026"), options: system.options)
            }
            await assertStatus(.unauthenticated, "unknown user") {
                _ = try await system.stub.authenticate(.with(user: "nobody", password: "正确的密码-2026"), options: system.options)
            }
            await assertStatus(.permissionDenied, "authenticate is for the gateway") {
                _ = try await admin.stub.authenticate(.with(user: "liaison.one", password: "正确的密码-2026"), options: admin.options)
            }
            // A committee admin grants the prefecture admin role neither on creating an account nor
            // by updating one (UpdateAccount used to let a county admin promote anyone).
            var promote = create
            promote.account?.username = "would.be.prefecture"
            promote.account?.roles = [.liaisonStaff, .prefectureAdmin]
            await assertStatus(.permissionDenied, mentioning: "prefecture admin", "create with prefecture admin") {
                _ = try await admin.stub.createAccount(promote, options: admin.options)
            }
            var promoted = stored
            promoted.roles = [.liaisonStaff, .prefectureAdmin]
            await assertStatus(.permissionDenied, mentioning: "prefecture admin", "update to prefecture admin") {
                _ = try await admin.stub.updateAccount(promoted, options: admin.options)
            }
            let unchanged = try await admin.stub.getAccount(.with(id: stored.id), options: admin.options)
            XCTAssertEqual(unchanged.roles, [.liaisonStaff])
            var renamed = stored
            renamed.displayName = "联络员甲"
            let renamedStored = try await admin.stub.updateAccount(renamed, options: admin.options)
            XCTAssertEqual(renamedStored.displayName, "联络员甲", "other changes still go")

            // Wrong passwords lock the username (existing or not) before any password is checked.
            let counted = try await h.store.loginLock(username: "LIAISON.ONE")
            XCTAssertEqual(counted.failures, 1, "the wrong password above was counted")
            try await h.database.write { tx in _ = try tx.execute("DELETE FROM login_failures", []) }
            for username in ["liaison.one", "no.such.user"] {
                for i in 1...LoginLock.threshold {
                    await assertStatus(.unauthenticated, mentioning: i == LoginLock.threshold ? "locked for 30 s" : "wrong username", "wrong password \(i)") {
                        _ = try await system.stub.authenticate(.with(user: username, password: "错误的密码-\(i)"), options: system.options)
                    }
                }
                await assertStatus(.resourceExhausted, mentioning: "locked", "locked: even the right password is refused") {
                    _ = try await system.stub.authenticate(.with(user: username.uppercased(), password: "正确的密码-2026"), options: system.options)
                }
            }
            try await h.database.write { tx in _ = try tx.execute("UPDATE login_failures SET locked_until_ms = 0", []) }
            let back = try await system.stub.authenticate(.with(user: "liaison.one", password: "正确的密码-2026"), options: system.options)
            XCTAssertEqual(back.account?.id, stored.id, "the lock passed: the right password works and clears the count")
            let cleared = try await h.store.loginLock(username: "liaison.one")
            XCTAssertEqual(cleared.failures, 0)

            var dup = create
            dup.account?.username = "liaison.one"
            await assertStatus(.alreadyExists, mentioning: "username", "duplicate username") {
                _ = try await admin.stub.createAccount(dup, options: admin.options)
            }

            // account_id 0 is the caller's own: an account issues and lists its own tokens without knowing its id.
            let liaison = h.client(.liaisonStaff, account: stored.id)
            var own = Xieshang_Directory_V1_CreateTokenRequest()
            own.name = "自己的令牌"
            let mine = try await liaison.stub.createToken(own, options: liaison.options)
            XCTAssertEqual(mine.token?.accountId, stored.id)
            let listed = try await liaison.stub.listTokens(Xieshang_Directory_V1_ListTokensRequest(), options: liaison.options).tokens.map(\.id)
            XCTAssertEqual(listed, [mine.token?.id ?? 0])

            var tokenRequest = Xieshang_Directory_V1_CreateTokenRequest()
            tokenRequest.accountId = stored.id
            tokenRequest.name = "对接系统"
            let token = try await admin.stub.createToken(tokenRequest, options: admin.options)
            XCTAssertTrue(token.secret.hasPrefix("xst_"))
            let tokenHash = try await h.database.read {
                try $0.query("SELECT token_hash FROM api_tokens WHERE id = ?", [.integer(token.token?.id ?? 0)])[0].text("token_hash")
            }
            XCTAssertFalse(tokenHash.contains(token.secret), "only a hash is stored")
            XCTAssertEqual(tokenHash, Secrets.tokenHash(token.secret))
            var resolve = Xieshang_Directory_V1_ResolveTokenRequest()
            resolve.secret = token.secret
            let v7 = try await system.stub.resolveToken(resolve, options: system.options).account?.id
            XCTAssertEqual(v7, stored.id)
            _ = try await admin.stub.revokeToken(.with(id: token.token?.id ?? 0), options: admin.options)
            await assertStatus(.unauthenticated, "revoked token") {
                _ = try await system.stub.resolveToken(resolve, options: system.options)
            }
        }
    }

    func testWorkingDayRPCs() async throws {
        try await DirectoryHarness.each("calendar") { h in
            let admin = h.client(.committeeAdmin)
            var year = Xieshang_Directory_V1_CalendarYear()
            year.year = 2026
            year.holidays = ChineseHolidays.years[2026]!.holidays
            year.workdays = ChineseHolidays.years[2026]!.workdays
            _ = try await admin.stub.setCalendarYear(year, options: admin.options)
            var add = Xieshang_Directory_V1_AddWorkingDaysRequest()
            add.date = "2026-09-30"
            add.days = 3
            let r = try await h.client(.member).stub.addWorkingDays(add, options: h.client(.member).options)
            // 1st–7th are off; the 8th and 9th count, and Saturday the 10th is a make-up working day.
            XCTAssertEqual(r.date, "2026-10-10")
            XCTAssertEqual(r.yearsWithoutTable, [])
            add.date = "2026-13-01"
            await assertStatus(.invalidArgument, mentioning: "date", "bad date") {
                _ = try await admin.stub.addWorkingDays(add, options: admin.options)
            }
            // Another committee has no table: weekends only, and it is told so.
            let other = h.client(.committeeAdmin, committee: h.committeeB.id)
            add.date = "2026-09-30"
            let plain = try await other.stub.addWorkingDays(add, options: other.options)
            XCTAssertEqual(plain.date, "2026-10-05")
            XCTAssertEqual(plain.yearsWithoutTable, [2026])
        }
    }
}

final class DirectoryWatchTests: XCTestCase {
    func testWatchSendsThePastThenLiveEventsOfTheCallersCommitteeOnly() async throws {
        try await DirectoryHarness.each("watch") { h in
            let admin = h.client(.committeeAdmin)
            let other = h.client(.committeeAdmin, committee: h.committeeB.id)
            _ = try await admin.createSector("教育")
            _ = try await other.createSector("农业")
            _ = try await admin.createSector("经济")
            var request = Xieshang_Events_V1_WatchRequest()
            request.entityKinds = ["sector"]
            let call = admin.stub.watch(request, options: admin.options)
            var iterator = call.responses.makeAsyncIterator()
            var got: [Xieshang_Events_V1_Event] = []
            for _ in 0..<2 { if let e = try await iterator.next() { got.append(e) } }
            XCTAssertEqual(got.map(\.eventType), ["sector.created", "sector.created"])
            XCTAssertEqual(try got.map { try Xieshang_Directory_V1_Sector(serializedBytes: $0.after).name }, ["教育", "经济"])
            XCTAssertTrue(got.allSatisfy { $0.committeeId == h.committeeA.id })
            // Live: a change after the stream caught up arrives on it.
            _ = try await other.createSector("工商联")
            _ = try await admin.createSector("妇联")
            let live = try await iterator.next()
            XCTAssertEqual(try live.map { try Xieshang_Directory_V1_Sector(serializedBytes: $0.after).name }, "妇联")
            call.cancel()

            // Resuming after a cursor sends only what came later; history_only ends the stream.
            request.afterCursor = got[0].sequence
            request.historyOnly = true
            var resumed: [String] = []
            for try await e in admin.stub.watch(request, options: admin.options).responses {
                resumed.append(try Xieshang_Directory_V1_Sector(serializedBytes: e.after).name)
            }
            XCTAssertEqual(resumed, ["经济", "妇联"])
            let member = h.client(.member)
            await assertStatus(.permissionDenied, "members do not watch the log") {
                for try await _ in member.stub.watch(request, options: member.options).responses {}
            }
        }
    }
}

extension Xieshang_Directory_V1_GetRequest {
    static func with(id: Int64) -> Self {
        var r = Self()
        r.id = id
        return r
    }
}

extension Xieshang_Events_V1_HistoryRequest {
    static func with(kind: String, id: String) -> Self {
        var r = Self()
        r.entityKind = kind
        r.entityId = id
        return r
    }
}

extension Xieshang_Directory_V1_AuthenticateRequest {
    static func with(user: String, password: String) -> Self {
        var r = Self()
        r.username = user
        r.password = password
        return r
    }
}

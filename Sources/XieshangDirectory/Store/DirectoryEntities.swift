import XieshangAPI
import XieshangKit
import XieshangStore

// Which columns of each record the tables keep beside its body (see DirectoryMigrations).

extension Xieshang_Directory_V1_Committee: StoredEntity {
    public static let entityKind = "committee"
    public static let table = "committees"
    /// A committee is its own tenant: for a new committee the store sets this to its id.
    public var committeeId: Int64 {
        get { id }
        set {}
    }
    public var indexColumns: [(String, SQLValue)] {
        [("code", .text(code)), ("name", .text(name)), ("parent_id", .integer(parentId))]
    }
}

extension Xieshang_Directory_V1_Term: StoredEntity {
    public static let entityKind = "term"
    public static let table = "terms"
    public var indexColumns: [(String, SQLValue)] {
        [("number", .integer(Int64(number))), ("name", .text(name)), ("archived", archived.sqlValue)]
    }
}

extension Xieshang_Directory_V1_Sector: StoredEntity {
    public static let entityKind = "sector"
    public static let table = "sectors"
    public var indexColumns: [(String, SQLValue)] { [("name", .text(name)), ("archived", archived.sqlValue)] }
}

extension Xieshang_Directory_V1_Party: StoredEntity {
    public static let entityKind = "party"
    public static let table = "parties"
    public var indexColumns: [(String, SQLValue)] { [("name", .text(name)), ("archived", archived.sqlValue)] }
}

extension Xieshang_Directory_V1_SpecialCommittee: StoredEntity {
    public static let entityKind = "special_committee"
    public static let table = "special_committees"
    public var indexColumns: [(String, SQLValue)] { [("name", .text(name)), ("archived", archived.sqlValue)] }
}

extension Xieshang_Directory_V1_Area: StoredEntity {
    public static let entityKind = "area"
    public static let table = "areas"
    public var indexColumns: [(String, SQLValue)] {
        [("level", .integer(Int64(level.rawValue))), ("parent_id", .integer(parentId)), ("name", .text(name)),
         ("archived", archived.sqlValue)]
    }
}

extension Xieshang_Directory_V1_WorkStation: StoredEntity {
    public static let entityKind = "work_station"
    public static let table = "work_stations"
    public var indexColumns: [(String, SQLValue)] {
        [("name", .text(name)), ("level", .integer(Int64(level.rawValue))), ("town_id", .integer(townId)),
         ("archived", archived.sqlValue)]
    }
}

extension Xieshang_Directory_V1_Unit: StoredEntity {
    public static let entityKind = "unit"
    public static let table = "units"
    public var indexColumns: [(String, SQLValue)] {
        [("name", .text(name)), ("kind", .integer(Int64(kind.rawValue))), ("archived", archived.sqlValue)]
    }
}

extension Xieshang_Directory_V1_Member: StoredEntity {
    public static let entityKind = "member"
    public static let table = "members"
    public var indexColumns: [(String, SQLValue)] {
        [("code", .text(code)), ("name", .text(name)), ("term_id", .integer(termId)), ("sector_id", .integer(sectorId)),
         ("party_id", .integer(partyId)), ("standing", standing.sqlValue), ("convenor", sectorConvenor.sqlValue),
         ("residence_town_id", .integer(residenceTownId)), ("work_town_id", .integer(workTownId)),
         ("contact_town_id", .integer(contactTownId)), ("assistance_town_id", .integer(assistanceTownId)),
         ("station_id", .integer(stationId)), ("unit_id", .integer(unitId)), ("retired", (status == .retired).sqlValue),
         // ",3,7," so that one special committee is a LIKE '%,3,%' match.
         ("special_committees", .text(SQLFilter.keyList(specialCommitteeIds)))]
    }
}

extension Xieshang_Directory_V1_Account: StoredEntity {
    public static let entityKind = "account"
    public static let table = "accounts"
    public var indexColumns: [(String, SQLValue)] {
        [("username", .text(username)), ("display_name", .text(displayName)),
         ("roles", .text(SQLFilter.keyList(roles.map { Int64($0.rawValue) }))),
         ("member_id", .integer(memberId)), ("unit_id", .integer(unitId)), ("disabled", disabled.sqlValue)]
    }
}

extension Xieshang_Directory_V1_ApiToken: StoredEntity {
    public static let entityKind = "api_token"
    public static let table = "api_tokens"
    public var indexColumns: [(String, SQLValue)] {
        [("account_id", .integer(accountId)), ("revoked", revoked.sqlValue), ("expires_at_ms", .integer(expiresAtUnixMs))]
    }
}

extension Xieshang_Directory_V1_CalendarYear: StoredEntity {
    public static let entityKind = "calendar_year"
    public static let table = "calendar_years"
    public var indexColumns: [(String, SQLValue)] { [("year", .integer(Int64(year)))] }
}

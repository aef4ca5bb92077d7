import XieshangAPI
import XieshangKit
import XieshangStore

/// Checks that the ids a record names are records of the same committee (and of the right level).
enum References {
    static func town(_ id: Int64, committee: Int64, field: String, on conn: SQLConnection) throws {
        try area(id, committee: committee, level: .town, field: field, on: conn)
    }

    static func area(_ id: Int64, committee: Int64, level: Xieshang_Directory_V1_AreaLevel, field: String, on conn: SQLConnection) throws {
        guard id != 0 else { return }
        guard let a = try EntityTable<Xieshang_Directory_V1_Area>().find(id, committee: committee, on: conn) else {
            throw DomainError.invalid(field: field, message: "no area \(id) in this committee")
        }
        if level != .unspecified && a.level != level {
            throw DomainError.invalid(field: field, message: "area \(id) (\(a.name)) is not a \(level)")
        }
    }

    static func member(_ m: Xieshang_Directory_V1_Member, on conn: SQLConnection) throws {
        let c = m.committeeId
        try EntityTable<Xieshang_Directory_V1_Term>().requireReference(m.termId, committee: c, field: "term_id", on: conn)
        try EntityTable<Xieshang_Directory_V1_Sector>().requireReference(m.sectorId, committee: c, field: "sector_id", on: conn)
        try EntityTable<Xieshang_Directory_V1_Party>().requireReference(m.partyId, committee: c, field: "party_id", on: conn)
        try town(m.residenceTownId, committee: c, field: "residence_town_id", on: conn)
        try town(m.workTownId, committee: c, field: "work_town_id", on: conn)
        try town(m.contactTownId, committee: c, field: "contact_town_id", on: conn)
        try town(m.assistanceTownId, committee: c, field: "assistance_town_id", on: conn)
        try EntityTable<Xieshang_Directory_V1_WorkStation>().requireReference(m.stationId, committee: c, field: "station_id", on: conn)
        try EntityTable<Xieshang_Directory_V1_Unit>().requireReference(m.unitId, committee: c, field: "unit_id", on: conn)
        for (i, s) in m.specialCommitteeIds.enumerated() {
            try EntityTable<Xieshang_Directory_V1_SpecialCommittee>().requireReference(
                s, committee: c, field: "special_committee_ids[\(i)]", on: conn)
        }
    }

    static func area(_ a: Xieshang_Directory_V1_Area, on conn: SQLConnection) throws {
        switch a.level {
        case .village: try area(a.parentId, committee: a.committeeId, level: .town, field: "parent_id", on: conn)
        case .group: try area(a.parentId, committee: a.committeeId, level: .village, field: "parent_id", on: conn)
        default: break
        }
    }

    static func station(_ w: Xieshang_Directory_V1_WorkStation, on conn: SQLConnection) throws {
        let c = w.committeeId
        try town(w.townId, committee: c, field: "town_id", on: conn)
        try area(w.areaId, committee: c, level: .unspecified, field: "area_id", on: conn)
        try EntityTable<Xieshang_Directory_V1_Sector>().requireReference(w.sectorId, committee: c, field: "sector_id", on: conn)
        for (i, shift) in w.roster.enumerated() {
            try EntityTable<Xieshang_Directory_V1_Member>().requireReference(
                shift.memberId, committee: c, field: "roster[\(i)].member_id", on: conn)
        }
    }

    static func unit(_ u: Xieshang_Directory_V1_Unit, on conn: SQLConnection) throws {
        try town(u.townId, committee: u.committeeId, field: "town_id", on: conn)
    }

    static func account(_ a: Xieshang_Directory_V1_Account, on conn: SQLConnection) throws {
        try EntityTable<Xieshang_Directory_V1_Member>().requireReference(a.memberId, committee: a.committeeId, field: "member_id", on: conn)
        try EntityTable<Xieshang_Directory_V1_Unit>().requireReference(a.unitId, committee: a.committeeId, field: "unit_id", on: conn)
    }
}

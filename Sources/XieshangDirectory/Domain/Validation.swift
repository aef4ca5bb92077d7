import XieshangKit
import XieshangAPI
import XieshangRPC

extension Xieshang_Directory_V1_Committee: Validatable {
    public func validated() throws -> Self {
        var c = self
        c.code = try Check.text(code, "code", max: 40)
        guard c.code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ValidationFailure(field: "code", message: "letters, digits, - and _ only")
        }
        c.code = c.code.lowercased()
        c.name = try Check.text(name, "name")
        c.region = try Check.text(region, "region", required: false)
        try Check.known(level, "level")
        try Check.id(parentId, "parent_id")
        if level == .county && parentId == 0 { throw ValidationFailure(field: "parent_id", message: "a county committee needs its prefecture") }
        if level == .prefecture && parentId != 0 { throw ValidationFailure(field: "parent_id", message: "a prefecture committee has no parent") }
        return c
    }
}

extension Xieshang_Directory_V1_Term: Validatable {
    public func validated() throws -> Self {
        var t = self
        guard number > 0 else { throw ValidationFailure(field: "number", message: "must be positive") }
        t.name = try Check.text(name, "name", max: 40)
        t.startDate = try Check.date(startDate, "start_date")
        t.endDate = try Check.date(endDate, "end_date")
        if !t.startDate.isEmpty, !t.endDate.isEmpty, t.endDate < t.startDate {
            throw ValidationFailure(field: "end_date", message: "before start_date")
        }
        return t
    }
}

extension Xieshang_Directory_V1_Sector: Validatable {
    public func validated() throws -> Self {
        var s = self
        s.name = try Check.text(name, "name", max: 60)
        return s
    }
}

extension Xieshang_Directory_V1_Party: Validatable {
    public func validated() throws -> Self {
        var p = self
        p.name = try Check.text(name, "name", max: 60)
        return p
    }
}

extension Xieshang_Directory_V1_SpecialCommittee: Validatable {
    public func validated() throws -> Self {
        var s = self
        s.name = try Check.text(name, "name", max: 60)
        return s
    }
}

extension Xieshang_Directory_V1_Area: Validatable {
    public func validated() throws -> Self {
        var a = self
        a.name = try Check.text(name, "name", max: 60)
        a.kind = try Check.text(kind, "kind", required: false, max: 10)
        try Check.known(level, "level")
        try Check.id(parentId, "parent_id", required: level != .town)
        if level == .town && parentId != 0 { throw ValidationFailure(field: "parent_id", message: "a town has no parent area") }
        return a
    }
}

extension Xieshang_Directory_V1_WorkStation: Validatable {
    public func validated() throws -> Self {
        var w = self
        w.name = try Check.text(name, "name", max: 100)
        w.kind = try Check.text(kind, "kind", required: false, max: 20)
        w.address = try Check.text(address, "address", required: false)
        w.openingHours = try Check.text(openingHours, "opening_hours", required: false)
        try Check.known(level, "level")
        try Check.id(townId, "town_id", required: [.town, .village, .group].contains(level))
        try Check.id(areaId, "area_id", required: [.village, .group].contains(level))
        try Check.id(sectorId, "sector_id", required: level == .sector)
        for (i, shift) in roster.enumerated() {
            try Check.id(shift.memberId, "roster[\(i)].member_id", required: true)
            guard CivilDate(shift.date) != nil else {
                throw ValidationFailure(field: "roster[\(i)].date", message: "'\(shift.date)' is not a YYYY-MM-DD date")
            }
            w.roster[i].hours = try Check.text(shift.hours, "roster[\(i)].hours", required: false, max: 40)
        }
        return w
    }
}

extension Xieshang_Directory_V1_Unit: Validatable {
    public func validated() throws -> Self {
        var u = self
        u.name = try Check.text(name, "name", max: 100)
        try Check.known(kind, "kind")
        try Check.id(townId, "town_id")
        for i in contacts.indices {
            u.contacts[i].name = try Check.text(contacts[i].name, "contacts[\(i)].name", max: 40)
            u.contacts[i].title = try Check.text(contacts[i].title, "contacts[\(i)].title", required: false, max: 60)
            u.contacts[i].phone = try Check.phone(contacts[i].phone, "contacts[\(i)].phone")
        }
        return u
    }
}

extension Xieshang_Directory_V1_Member: Validatable {
    public func validated() throws -> Self {
        var m = self
        m.code = try Check.text(code, "code", max: 40)
        m.name = try Check.text(name, "name", max: 40)
        m.ethnicity = try Check.text(ethnicity, "ethnicity", required: false, max: 20)
        m.birthDate = try Check.date(birthDate, "birth_date")
        m.phone = try Check.phone(phone, "phone")
        m.employer = try Check.text(employer, "employer", required: false)
        try Check.known(gender, "gender", required: false)
        if m.status == .unspecified { m.status = .active }
        try Check.known(m.status, "status")
        try Check.id(termId, "term_id")
        try Check.id(sectorId, "sector_id", required: true)
        try Check.id(partyId, "party_id")
        for (f, v) in [("residence_town_id", residenceTownId), ("work_town_id", workTownId),
                       ("contact_town_id", contactTownId), ("assistance_town_id", assistanceTownId),
                       ("station_id", stationId), ("unit_id", unitId)] {
            try Check.id(v, f)
        }
        var seen = Set<Int64>()
        m.specialCommitteeIds = []
        for (i, id) in specialCommitteeIds.enumerated() {
            try Check.id(id, "special_committee_ids[\(i)]", required: true)
            if seen.insert(id).inserted { m.specialCommitteeIds.append(id) }
        }
        return m
    }
}

extension Xieshang_Directory_V1_Account: Validatable {
    public func validated() throws -> Self {
        var a = self
        a.username = try Check.text(username, "username", max: 64).lowercased()
        guard a.username.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-@".contains($0)) }) else {
            throw ValidationFailure(field: "username", message: "letters, digits and . _ - @ only")
        }
        a.displayName = try Check.text(displayName, "display_name", max: 60)
        guard !roles.isEmpty else { throw ValidationFailure(field: "roles", message: "at least one role") }
        for (i, r) in roles.enumerated() { try Check.known(r, "roles[\(i)]") }
        a.roles = Array(Set(roles)).sorted { $0.rawValue < $1.rawValue }
        if roles.contains(.system) { throw ValidationFailure(field: "roles", message: "system is not an account role") }
        try Check.id(memberId, "member_id", required: roles.contains(.member))
        try Check.id(unitId, "unit_id", required: roles.contains(.handlingUnit))
        return a
    }
}

/// Password rules: 8 to 128 characters, not all of one kind of character.
public enum PasswordPolicy {
    /// Throws the reason a password is refused.
    public static func check(_ password: String, field: String = "password") throws {
        if password.count < 8 { throw ValidationFailure(field: field, message: "at least 8 characters") }
        if password.count > 128 { throw ValidationFailure(field: field, message: "at most 128 characters") }
        if password.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            throw ValidationFailure(field: field, message: "contains control characters")
        }
        if Set(password).count < 4 { throw ValidationFailure(field: field, message: "too repetitive") }
    }
}

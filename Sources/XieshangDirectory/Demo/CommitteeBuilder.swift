import XieshangAPI
import XieshangKit
import XieshangStore

/// Builds one committee's demo directory inside one transaction.
struct CommitteeBuilder {
    let tx: Transaction
    let committee: Xieshang_Directory_V1_Committee
    let hash: String
    let v = DemoVocabulary.self

    private func insert<E: StoredEntity>(_ e: E) throws -> E {
        var r = e
        r.committeeId = committee.id
        return try EntityTable<E>().insert(r, in: tx, actor: .system)
    }

    /// Creates everything; returns the accounts made (username, roles).
    func build(members count: Int, rng r: inout DemoRandom) throws -> [(String, [Xieshang_Common_V1_Role])] {
        let isPrefecture = committee.level == .prefecture
        var term = Xieshang_Directory_V1_Term()
        term.number = isPrefecture ? 13 : 9
        term.name = isPrefecture ? "第十三届" : "第九届"
        term.startDate = "2022-01-10"
        term.endDate = "2026-12-31"
        term.current = true
        term = try insert(term)

        var sectors: [Xieshang_Directory_V1_Sector] = []
        for (i, name) in v.sectors.enumerated() {
            var s = Xieshang_Directory_V1_Sector()
            s.name = name
            s.sortOrder = Int32(i + 1)
            sectors.append(try insert(s))
        }
        var parties: [String: Xieshang_Directory_V1_Party] = [:]
        for (i, name) in v.parties.enumerated() {
            var p = Xieshang_Directory_V1_Party()
            p.name = name
            p.sortOrder = Int32(i + 1)
            parties[name] = try insert(p)
        }
        var specials: [Xieshang_Directory_V1_SpecialCommittee] = []
        for name in v.specialCommittees {
            var s = Xieshang_Directory_V1_SpecialCommittee()
            s.name = name
            specials.append(try insert(s))
        }
        for (year, table) in ChineseHolidays.years {
            var y = Xieshang_Directory_V1_CalendarYear()
            y.year = year
            y.holidays = table.holidays
            y.workdays = table.workdays
            _ = try insert(y)
        }

        // Geography: towns, villages, groups.
        var towns: [Xieshang_Directory_V1_Area] = []
        var villagesByTown: [Int64: [Xieshang_Directory_V1_Area]] = [:]
        for stem in r.sample(v.townStems, r.int(8...14)) {
            var t = Xieshang_Directory_V1_Area()
            t.level = .town
            t.kind = r.chance(0.2) ? "街道" : (r.chance(0.2) ? "乡" : "镇")
            t.name = stem + t.kind
            t = try insert(t)
            towns.append(t)
            for vstem in r.sample(v.villageStems, r.int(5...10)) {
                var village = Xieshang_Directory_V1_Area()
                village.level = .village
                village.parentId = t.id
                village.kind = t.kind == "街道" ? "社区" : "村"
                village.name = vstem + village.kind
                village = try insert(village)
                villagesByTown[t.id, default: []].append(village)
                for g in r.sample(v.groupNames, r.int(0...3)) {
                    var group = Xieshang_Directory_V1_Area()
                    group.level = .group
                    group.parentId = village.id
                    group.kind = "组"
                    group.name = g
                    _ = try insert(group)
                }
            }
        }
        // "黔南州" for the prefecture, "长顺县" for a county.
        let prefix = isPrefecture ? "黔南州" : String(committee.region.split(separator: "州").last ?? "")

        // Handling units: departments, courts, and each town's government.
        var units: [Xieshang_Directory_V1_Unit] = []
        for name in v.departments + v.judicial {
            var u = Xieshang_Directory_V1_Unit()
            u.name = prefix + (isPrefecture && v.judicial.contains(name) ? "中级" : "") + name
            u.kind = v.judicial.contains(name) ? .judicial : .department
            u.contacts = [contact(&r, title: "办公室主任"), contact(&r, title: "联络员")]
            units.append(try insert(u))
        }
        for t in towns {
            var u = Xieshang_Directory_V1_Unit()
            u.name = t.name + (t.kind == "街道" ? "办事处" : "人民政府")
            u.kind = .townGovernment
            u.townId = t.id
            u.contacts = [contact(&r, title: "党政办主任")]
            units.append(try insert(u))
        }

        // Work stations: one for the committee, one per town, some in villages, an enterprise one
        // and a sector one.
        var stations: [Xieshang_Directory_V1_WorkStation] = []
        var stationByTown: [Int64: Int64] = [:]
        var county = Xieshang_Directory_V1_WorkStation()
        county.name = "\(prefix)政协委员工作室"
        county.level = .county
        county.kind = "委员工作站"
        county.openingHours = "周一至周五 9:00-17:00"
        stations.append(try insert(county))
        for t in towns {
            var s = Xieshang_Directory_V1_WorkStation()
            s.name = "\(t.name)政协委员工作站"
            s.level = .town
            s.townId = t.id
            s.kind = "委员工作站"
            s.address = "\(t.name)人民政府院内"
            s.openingHours = "每周三 9:00-12:00"
            s = try insert(s)
            stations.append(s)
            stationByTown[t.id] = s.id
            if let village = villagesByTown[t.id]?.first, r.chance(0.5) {
                var room = Xieshang_Directory_V1_WorkStation()
                room.name = "\(t.name)\(village.name)协商议事室"
                room.level = .village
                room.townId = t.id
                room.areaId = village.id
                room.kind = "协商议事室"
                stations.append(try insert(room))
            }
        }
        var enterprise = Xieshang_Directory_V1_WorkStation()
        enterprise.name = "\(prefix)工商联企业委员工作站"
        enterprise.level = .enterprise
        enterprise.kind = "委员工作站"
        stations.append(try insert(enterprise))
        var sectorStation = Xieshang_Directory_V1_WorkStation()
        sectorStation.name = "\(prefix)教育界别委员工作室"
        sectorStation.level = .sector
        sectorStation.sectorId = sectors.first { $0.name == "教育" }?.id ?? sectors[0].id
        sectorStation.kind = "委员工作站"
        stations.append(try insert(sectorStation))

        // Members.
        var members: [Xieshang_Directory_V1_Member] = []
        var convenors = Set<Int64>()
        let codePrefix = String(committee.code.prefix(2)).uppercased()
        for i in 1...count {
            var m = Xieshang_Directory_V1_Member()
            m.code = "\(codePrefix)\(term.number)\(String(1000 + i).suffix(3))"
            m.gender = r.chance(0.38) ? .female : .male
            m.name = r.weighted(v.surnames) + String((0..<(r.chance(0.7) ? 2 : 1)).map { _ in r.pick(v.givenChars) })
            m.ethnicity = r.weighted(v.ethnicities)
            m.birthDate = CivilDate(year: r.int(1962...1990), month: r.int(1...12), day: r.int(1...28))!.description
            m.phone = "1\(r.pick(["39", "38", "58", "87", "51", "85"]))\(String(r.int(10_000_000...99_999_999)))"
            let sector = r.pick(sectors)
            m.sectorId = sector.id
            let partyName = v.sectorParty[sector.name] ?? (r.chance(0.55) ? "中国共产党" : "群众")
            m.partyId = parties[partyName]?.id ?? 0
            m.termId = term.id
            m.standing = r.chance(0.15)
            m.specialCommitteeIds = r.sample(specials, r.int(0...2)).map(\.id)
            if !convenors.contains(sector.id) && r.chance(0.3) {
                m.sectorConvenor = true
                convenors.insert(sector.id)
            }
            let home = r.pick(towns)
            m.residenceTownId = home.id
            m.workTownId = r.chance(0.6) ? home.id : r.pick(towns).id
            m.contactTownId = r.chance(0.5) ? home.id : r.pick(towns).id
            m.assistanceTownId = r.pick(towns).id
            m.stationId = stationByTown[m.contactTownId] ?? stations[0].id
            if r.chance(0.2) {
                let unit = r.pick(units)
                m.unitId = unit.id
                m.employer = "\(unit.name)\(r.pick(["局长", "副局长", "主任", "科长"]))"
            } else {
                m.employer = "\(prefix)\(r.pick(v.employers))\(r.pick(v.posts))"
            }
            m.status = r.chance(0.03) ? .retired : .active
            members.append(try insert(m))
        }

        // Duty rosters: a few shifts per town station, by members who report to it.
        for s in stations where s.level == .town {
            let onDuty = members.filter { $0.stationId == s.id }.prefix(4)
            guard !onDuty.isEmpty else { continue }
            var next = s
            next.roster = onDuty.enumerated().map { i, m in
                var shift = Xieshang_Directory_V1_DutyShift()
                shift.memberId = m.id
                shift.date = CivilDate(year: 2026, month: 12, day: 2 + 7 * i)!.description
                shift.hours = "09:00-12:00"
                return shift
            }
            _ = try EntityTable<Xieshang_Directory_V1_WorkStation>().replace(s, with: next, in: tx, actor: .system)
        }

        // Accounts: one per role (and a few members and units).
        let code = committee.code
        var made: [(String, [Xieshang_Common_V1_Role])] = []
        func account(_ suffix: String, _ display: String, _ roles: [Xieshang_Common_V1_Role], member: Int64 = 0, unit: Int64 = 0) throws {
            var a = Xieshang_Directory_V1_Account()
            a.username = "\(code).\(suffix)"
            a.displayName = display
            a.roles = roles
            a.memberId = member
            a.unitId = unit
            a.hasPassword = true
            a = try insert(a)
            try DirectoryStore.storePasswordHash(hash, account: a.id, in: tx)
            made.append((a.username, roles))
        }
        try account("admin", "系统管理员", isPrefecture ? [.committeeAdmin, .prefectureAdmin] : [.committeeAdmin])
        try account("liaison", "委员联络服务中心", [.liaisonStaff])
        try account("staff", "提案委员会办公室", [.committeeStaff])
        try account("leader", "主席", [.leader])
        for (i, m) in members.filter({ $0.status == .active }).prefix(3).enumerated() {
            try account("member\(i + 1)", m.name, [.member], member: m.id)
        }
        for (i, u) in units.prefix(2).enumerated() {
            try account("unit\(i + 1)", u.name, [.handlingUnit], unit: u.id)
        }
        try account("public", "群众", [.public])
        return made
    }

    private func contact(_ r: inout DemoRandom, title: String) -> Xieshang_Directory_V1_Contact {
        var c = Xieshang_Directory_V1_Contact()
        c.name = r.weighted(v.surnames) + String((0..<2).map { _ in r.pick(v.givenChars) })
        c.title = title
        c.phone = "0854-\(r.int(7_000_000...8_999_999))"
        return c
    }
}

import XieshangKit
import XieshangAPI

/// The member file: one row per member, references by name. Headers may be Chinese or English.
public enum MemberCSV {
    /// Columns in export order: (Chinese header, English header).
    public static let columns: [(String, String)] = [
        ("编号", "code"), ("姓名", "name"), ("性别", "gender"), ("民族", "ethnicity"), ("出生日期", "birth_date"),
        ("手机", "phone"), ("工作单位及职务", "employer"), ("届次", "term"), ("界别", "sector"), ("党派", "party"),
        ("常委", "standing"), ("专委会", "special_committees"), ("界别召集人", "sector_convenor"),
        ("居住地乡镇", "residence_town"), ("工作地乡镇", "work_town"), ("联系乡镇", "contact_town"),
        ("帮扶乡镇", "assistance_town"), ("委员工作站", "station"), ("所在单位", "unit"), ("状态", "status"),
    ]

    /// The rows of a file as members (ids resolved through `names`), or every row error found.
    public static func read(_ csv: [UInt8], names: DirectoryNames) -> ([(line: Int, record: Xieshang_Directory_V1_Member)], [RowIssue]) {
        let sheet: CSVSheet
        switch CSVSheet.open(csv, columns: columns, required: ["code", "name", "sector"]) {
        case .failure(let issue): return ([], [issue])
        case .success(let s): sheet = s
        }
        var out: [(Int, Xieshang_Directory_V1_Member)] = []
        var issues: [RowIssue] = []
        var codes: [String: Int] = [:]
        for row in sheet.rows {
            var r = RowReader(row: row, sheet: sheet)
            var m = Xieshang_Directory_V1_Member()
            m.code = r.text("code")
            m.name = r.text("name")
            m.gender = r.choice("gender", ["": .unspecified, "男": .male, "女": .female, "male": .male, "female": .female, "m": .male, "f": .female])
            m.ethnicity = r.text("ethnicity")
            m.birthDate = r.text("birth_date")
            m.phone = r.text("phone")
            m.employer = r.text("employer")
            m.termId = r.reference("term", names.terms, kind: "届次")
            m.sectorId = r.reference("sector", names.sectors, kind: "界别")
            m.partyId = r.reference("party", names.parties, kind: "党派")
            m.standing = r.flag("standing")
            m.specialCommitteeIds = r.list("special_committees").map { r.resolve($0, "special_committees", names.specialCommittees, kind: "专委会") }
            m.sectorConvenor = r.flag("sector_convenor")
            m.residenceTownId = r.reference("residence_town", names.towns, kind: "乡镇")
            m.workTownId = r.reference("work_town", names.towns, kind: "乡镇")
            m.contactTownId = r.reference("contact_town", names.towns, kind: "乡镇")
            m.assistanceTownId = r.reference("assistance_town", names.towns, kind: "乡镇")
            m.stationId = r.reference("station", names.stations, kind: "委员工作站")
            m.unitId = r.reference("unit", names.units, kind: "单位")
            m.status = r.choice("status", ["": .active, "在任": .active, "现任": .active, "active": .active,
                                           "退出": .retired, "离任": .retired, "retired": .retired])
            // Rules the cells passed are still checked, so one pass reports every problem it can.
            do { m = try m.validated() } catch let f as ValidationFailure {
                let column = sheet.header(forField: f.field)
                if !r.issues.contains(where: { $0.column == column }) {
                    r.issues.append(RowIssue(row: row.line, column: column, message: f.message))
                }
            } catch {}
            if r.issues.isEmpty, let first = codes[m.code] {
                r.issues.append(RowIssue(row: row.line, column: sheet.header(for: "code"), message: "编号 \(m.code) also on line \(first)"))
            }
            codes[m.code] = codes[m.code] ?? row.line
            if r.issues.isEmpty { out.append((row.line, m)) } else { issues += r.issues }
        }
        return (out, issues)
    }

    /// The members as a file with Chinese headers.
    public static func write(_ members: [Xieshang_Directory_V1_Member], names: DirectoryNames) -> [UInt8] {
        var rows = [columns.map(\.0)]
        for m in members {
            rows.append([
                m.code, m.name, m.gender == .male ? "男" : m.gender == .female ? "女" : "", m.ethnicity, m.birthDate,
                m.phone, m.employer, names.terms.name(m.termId), names.sectors.name(m.sectorId),
                names.parties.name(m.partyId), m.standing ? "是" : "否",
                m.specialCommitteeIds.map { names.specialCommittees.name($0) }.joined(separator: "；"),
                m.sectorConvenor ? "是" : "否", names.towns.name(m.residenceTownId), names.towns.name(m.workTownId),
                names.towns.name(m.contactTownId), names.towns.name(m.assistanceTownId),
                names.stations.name(m.stationId), names.units.name(m.unitId), m.status == .retired ? "退出" : "在任",
            ])
        }
        return CSV.format(rows)
    }
}

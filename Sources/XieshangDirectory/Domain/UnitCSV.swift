import XieshangKit
import XieshangAPI

/// The handling-unit file: one row per contact person; rows with the same unit name are one unit.
public enum UnitCSV {
    /// Columns in export order: (Chinese header, English header).
    public static let columns: [(String, String)] = [
        ("单位名称", "name"), ("类别", "kind"), ("所在乡镇", "town"), ("联系人", "contact_name"),
        ("职务", "contact_title"), ("联系电话", "contact_phone"),
    ]

    static let kinds: [String: Xieshang_Directory_V1_UnitKind] = [
        "政府部门": .department, "department": .department, "乡镇政府": .townGovernment, "街道办": .townGovernment,
        "town_government": .townGovernment, "政法机关": .judicial, "judicial": .judicial, "事业单位": .agency,
        "群团组织": .agency, "agency": .agency, "企业": .enterprise, "enterprise": .enterprise,
    ]

    static func kindName(_ k: Xieshang_Directory_V1_UnitKind) -> String {
        switch k {
        case .department: return "政府部门"
        case .townGovernment: return "乡镇政府"
        case .judicial: return "政法机关"
        case .agency: return "事业单位"
        case .enterprise: return "企业"
        default: return ""
        }
    }

    /// The units of a file (in first-seen order, with the line each starts on), or every row error.
    public static func read(_ csv: [UInt8], names: DirectoryNames) -> ([(line: Int, record: Xieshang_Directory_V1_Unit)], [RowIssue]) {
        let sheet: CSVSheet
        switch CSVSheet.open(csv, columns: columns, required: ["name", "kind"]) {
        case .failure(let issue): return ([], [issue])
        case .success(let s): sheet = s
        }
        var order: [String] = []
        var units: [String: (Int, Xieshang_Directory_V1_Unit)] = [:]
        var issues: [RowIssue] = []
        for row in sheet.rows {
            var r = RowReader(row: row, sheet: sheet)
            let name = r.text("name")
            let kind = r.choice("kind", kinds)
            let town = r.reference("town", names.towns, kind: "乡镇")
            var contact = Xieshang_Directory_V1_Contact()
            contact.name = r.text("contact_name")
            contact.title = r.text("contact_title")
            contact.phone = r.text("contact_phone")
            var u = units[name]?.1 ?? Xieshang_Directory_V1_Unit()
            if units[name] == nil {
                u.name = name
                u.kind = kind
                u.townId = town
            } else if u.kind != kind {
                r.issues.append(RowIssue(row: row.line, column: sheet.header(for: "kind"), message: "\(name) has another 类别 on an earlier line"))
            }
            if !contact.name.isEmpty || !contact.phone.isEmpty { u.contacts.append(contact) }
            if r.issues.isEmpty {
                do { u = try u.validated() } catch let f as ValidationFailure {
                    let field = f.field.hasPrefix("contacts") ? "contact_" + (f.field.split(separator: ".").last.map(String.init) ?? "name") : f.field
                    r.issues.append(RowIssue(row: row.line, column: sheet.header(forField: field), message: f.message))
                } catch {}
            }
            if r.issues.isEmpty {
                if units[name] == nil { order.append(name) }
                units[name] = (units[name]?.0 ?? row.line, u)
            } else {
                issues += r.issues
            }
        }
        return (order.compactMap { units[$0] }.map { (line: $0.0, record: $0.1) }, issues)
    }

    /// The units as a file with Chinese headers, a row per contact (one row for a unit without any).
    public static func write(_ units: [Xieshang_Directory_V1_Unit], names: DirectoryNames) -> [UInt8] {
        var rows = [columns.map(\.0)]
        for u in units {
            let contacts = u.contacts.isEmpty ? [Xieshang_Directory_V1_Contact()] : u.contacts
            for c in contacts {
                rows.append([u.name, kindName(u.kind), names.towns.name(u.townId), c.name, c.title, c.phone])
            }
        }
        return CSV.format(rows)
    }
}

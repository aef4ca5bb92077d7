import XieshangKit

/// A CSV file whose header row has been matched to known columns.
public struct CSVSheet: Sendable {
    /// Column index by English field name.
    let index: [String: Int]
    /// The header as written in the file, by field.
    let headers: [String: String]
    /// The data rows.
    let rows: [CSV.Record]

    /// Parses `csv` and matches its header against `columns` (Chinese or English names).
    static func open(_ csv: [UInt8], columns: [(String, String)], required: [String]) -> Result<CSVSheet, RowIssue> {
        let records: [CSV.Record]
        do { records = try CSV.parse(csv) } catch let e as CSV.ParseError {
            return .failure(RowIssue(row: e.line, column: "", message: e.message))
        } catch {
            return .failure(RowIssue(row: 1, column: "", message: "\(error)"))
        }
        guard let header = records.first else { return .failure(RowIssue(row: 1, column: "", message: "the file is empty")) }
        var byName: [String: String] = [:]
        for (zh, en) in columns {
            byName[zh] = en
            byName[en] = en
        }
        var index: [String: Int] = [:], headers: [String: String] = [:]
        for (i, raw) in header.fields.enumerated() {
            let h = raw.trimmedSpaces
            if h.isEmpty { continue }
            guard let field = byName[h] ?? byName[h.lowercased()] else {
                return .failure(RowIssue(row: header.line, column: h, message: "unknown column; expected: \(columns.map(\.0).joined(separator: ", "))"))
            }
            if index[field] != nil { return .failure(RowIssue(row: header.line, column: h, message: "column given twice")) }
            index[field] = i
            headers[field] = h
        }
        for f in required where index[f] == nil {
            let zh = columns.first { $0.1 == f }?.0 ?? f
            return .failure(RowIssue(row: header.line, column: zh, message: "required column missing"))
        }
        return .success(CSVSheet(index: index, headers: headers, rows: Array(records.dropFirst())))
    }

    /// The header a field has in this file (its English name when the file lacks it).
    func header(for field: String) -> String { headers[field] ?? field }

    /// The header for a record field named in a validation failure (`sector_id` → the sector column).
    func header(forField field: String) -> String {
        var f = field
        if let bracket = f.firstIndex(of: "[") { f = String(f[..<bracket]) }
        if f.hasSuffix("_ids") { f = String(f.dropLast(4)) + "s" }
        if f.hasSuffix("_id") { f = String(f.dropLast(3)) }
        return header(for: f)
    }
}

/// A problem with one row of an imported file.
public struct RowIssue: Error, Equatable, Sendable {
    /// The file's line (header = 1).
    public var row: Int
    /// The column as headed in the file ("" for the whole row or file).
    public var column: String
    /// What is wrong.
    public var message: String
}

/// Reads one row's cells, collecting every problem rather than stopping at the first.
struct RowReader {
    let row: CSV.Record
    let sheet: CSVSheet
    var issues: [RowIssue] = []

    init(row: CSV.Record, sheet: CSVSheet) {
        self.row = row
        self.sheet = sheet
    }

    /// The cell, trimmed; a leading `'` that protected a formula character on export is removed.
    func text(_ field: String) -> String {
        guard let i = sheet.index[field], i < row.fields.count else { return "" }
        let t = row.fields[i].trimmedSpaces
        if t.hasPrefix("'"), let second = t.dropFirst().first, "=+-@".contains(second) { return String(t.dropFirst()) }
        return t
    }

    mutating func fail(_ field: String, _ message: String) {
        issues.append(RowIssue(row: row.line, column: sheet.header(for: field), message: message))
    }

    mutating func choice<T>(_ field: String, _ options: [String: T]) -> T {
        let t = text(field)
        if let v = options[t] ?? options[t.lowercased()] { return v }
        fail(field, "'\(t)' is not one of: \(options.keys.filter { !$0.isEmpty && !$0.allSatisfy(\.isASCII) }.sorted().joined(separator: ", "))")
        return options.values.first!
    }

    mutating func flag(_ field: String) -> Bool {
        switch text(field).lowercased() {
        case "", "否", "no", "n", "false", "0": return false
        case "是", "yes", "y", "true", "1": return true
        case let other:
            fail(field, "'\(other)' is not 是 or 否")
            return false
        }
    }

    func list(_ field: String) -> [String] {
        text(field).split(whereSeparator: { "；;、,，".contains($0) }).map { String($0).trimmedSpaces }.filter { !$0.isEmpty }
    }

    mutating func reference(_ field: String, _ table: DirectoryNames.Table, kind: String) -> Int64 {
        let t = text(field)
        return t.isEmpty ? 0 : resolve(t, field, table, kind: kind)
    }

    mutating func resolve(_ name: String, _ field: String, _ table: DirectoryNames.Table, kind: String) -> Int64 {
        if let id = table.id(name) { return id }
        fail(field, "no \(kind) named '\(name)'")
        return 0
    }
}

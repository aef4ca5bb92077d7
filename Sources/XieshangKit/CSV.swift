/// RFC 4180 CSV: quoted fields with doubled quotes, embedded commas and line breaks, CRLF or LF,
/// an optional UTF-8 byte-order mark.
public enum CSV {
    /// A parsed record and the line of the file it starts on (1-based).
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    /// A file that is not CSV.
    public struct ParseError: Error, Equatable, Sendable {
        public var line: Int
        public var message: String
    }

    /// Parses UTF-8 bytes; blank lines are skipped.
    public static func parse(_ bytes: [UInt8]) throws -> [Record] {
        var data = bytes[...]
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ParseError(line: 1, message: "the file is not UTF-8 text (save it as CSV UTF-8)")
        }
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1, recordLine = 1
        var inQuotes = false, wasQuoted = false
        var chars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !wasQuoted) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            field = ""
            wasQuoted = false
        }
        while let c = pending ?? chars.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    let next = chars.next()
                    if next == "\"" { field.unicodeScalars.append("\"") } else {
                        inQuotes = false
                        pending = next
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty, !wasQuoted else {
                    throw ParseError(line: line, message: "a quote inside an unquoted field")
                }
                inQuotes = true
                wasQuoted = true
            case ",":
                fields.append(field)
                field = ""
                wasQuoted = false
            case "\r":
                let next = chars.next()
                if next != "\n" { pending = next }
                endRecord()
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                if wasQuoted { throw ParseError(line: line, message: "text after a closing quote") }
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw ParseError(line: recordLine, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted { endRecord() }
        return records
    }

    /// Formats records as CSV text with CRLF line ends, quoting where needed, after a UTF-8
    /// byte-order mark (so spreadsheet programs read the Chinese text as UTF-8).
    public static func format(_ rows: [[String]]) -> [UInt8] {
        var out: [UInt8] = [0xEF, 0xBB, 0xBF]
        for row in rows {
            out += Array(row.map(quote).joined(separator: ",").utf8)
            out += [13, 10]
        }
        return out
    }

    static func quote(_ field: String) -> String {
        let needs = field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            || field.first == " " || field.last == " "
        // A leading =, +, - or @ would be a formula to a spreadsheet; keep it text.
        let formula = field.first.map { "=+-@".contains($0) } ?? false
        let body = (formula ? "'" : "") + field
        return needs || formula ? "\"" + body.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : body
    }
}

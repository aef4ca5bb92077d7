import Foundation
import CLibPQ

/// A PostgreSQL connection through libpq: prepared statements cached per connection, text results
/// typed by column OID, byte strings sent in binary.
final class PostgresConnection: SQLConnection {
    let dialect = SQLDialect.postgres
    private let conn: OpaquePointer
    private var prepared: [String: String] = [:]
    private var broken = false

    var isHealthy: Bool { !broken && PQstatus(conn) == CONNECTION_OK }

    init(conninfo: String, schema: String?, genericPlans: Bool) throws {
        guard let c = PQconnectdb(conninfo) else { throw StoreError.connection(message: "out of memory") }
        conn = c
        guard PQstatus(c) == CONNECTION_OK else {
            // deinit closes `conn`: every stored property is set, so it runs when init throws.
            throw StoreError.connection(message: String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        try executeScript("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC';"
                          + (genericPlans ? " SET plan_cache_mode = force_generic_plan;" : ""))
        if let schema {
            do {
                try executeScript("CREATE SCHEMA IF NOT EXISTS \(Self.quoteIdentifier(schema))")
            } catch {
                // Replicas starting together race to create it: the loser gets a unique violation
                // although the schema now exists, which is all that is needed.
                guard try !query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [.text(schema)]).isEmpty else { throw error }
            }
            try executeScript("SET search_path TO \(Self.quoteIdentifier(schema))")
        }
    }

    deinit { PQfinish(conn) }

    /// Waits up to `timeout` seconds for the server to send something, then returns the payloads
    /// of the notifications (LISTEN) received; throws when the connection is lost.
    func notifications(timeout: Double) throws -> [String] {
        var fds = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
        let ready = poll(&fds, 1, Int32(timeout * 1000))
        if ready < 0 && errno != EINTR { broken = true }
        if ready > 0 && PQconsumeInput(conn) == 0 { broken = true }
        guard isHealthy else {
            throw StoreError.connection(message: String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        var out: [String] = []
        while let n = PQnotifies(conn) {
            out.append(String(cString: n.pointee.extra))
            PQfreemem(n)
        }
        return out
    }

    /// `name` as a double-quoted identifier.
    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        let res = try run(sql, binds)
        defer { PQclear(res) }
        return rows(res)
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int {
        let res = try run(sql, binds)
        defer { PQclear(res) }
        return Int(String(cString: PQcmdTuples(res))) ?? 0
    }

    func executeScript(_ sql: String) throws {
        let res = PQexec(conn, sql)
        defer { PQclear(res) }
        try check(res)
    }

    private func run(_ sql: String, _ binds: [SQLValue]) throws -> OpaquePointer? {
        let name = try statementName(sql, parameterCount: binds.count)
        var owned: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        defer { for p in owned { free(p) } }
        for v in binds {
            switch v {
            case .null:
                owned.append(nil); lengths.append(0); formats.append(0)
            case .integer(let n):
                owned.append(strdup(String(n))); lengths.append(0); formats.append(0)
            case .real(let d):
                owned.append(strdup(d.description)); lengths.append(0); formats.append(0)
            case .text(let s):
                owned.append(strdup(s)); lengths.append(0); formats.append(0)
            case .blob(let b):
                let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(b.count, 1))
                b.withUnsafeBytes { raw in
                    if let base = raw.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: b.count) }
                }
                owned.append(p); lengths.append(Int32(b.count)); formats.append(1)
            }
        }
        let values: [UnsafePointer<CChar>?] = owned.map { $0.map { UnsafePointer($0) } }
        let res = values.withUnsafeBufferPointer { vp in
            lengths.withUnsafeBufferPointer { lp in
                formats.withUnsafeBufferPointer { fp in
                    PQexecPrepared(conn, name, Int32(binds.count), vp.baseAddress, lp.baseAddress, fp.baseAddress, 0)
                }
            }
        }
        do { try check(res) } catch {
            PQclear(res)
            throw error
        }
        return res
    }

    private func statementName(_ sql: String, parameterCount: Int) throws -> String {
        if let n = prepared[sql] { return n }
        let name = "xs\(prepared.count)"
        let res = PQprepare(conn, name, SQLDialect.numberPlaceholders(sql), Int32(parameterCount), nil)
        defer { PQclear(res) }
        try check(res)
        prepared[sql] = name
        return name
    }

    private func check(_ res: OpaquePointer?) throws {
        guard let res else {
            broken = true
            throw StoreError.connection(message: String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let status = PQresultStatus(res)
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return }
        let state = field(res, "C") ?? ""
        let message = field(res, "M") ?? String(cString: PQresultErrorMessage(res)).trimmingCharacters(in: .whitespacesAndNewlines)
        if PQstatus(conn) != CONNECTION_OK { broken = true }
        switch state {
        case "23505": throw StoreError.uniqueViolation(constraint: field(res, "n") ?? "", message: message)
        case "23503", "23514", "23502": throw StoreError.constraintViolation(message: message)
        case "40001", "40P01", "55P03": throw StoreError.conflict(message: message)
        case "":
            broken = true
            throw StoreError.connection(message: message)
        default:
            if state.hasPrefix("08") || state.hasPrefix("57") {
                broken = true
                throw StoreError.connection(message: message)
            }
            throw StoreError.engine(code: state, message: message)
        }
    }

    private func field(_ res: OpaquePointer, _ code: Character) -> String? {
        guard let p = PQresultErrorField(res, Int32(code.asciiValue!)) else { return nil }
        return String(cString: p)
    }

    private func rows(_ res: OpaquePointer?) -> [SQLRow] {
        guard let res else { return [] }
        let n = Int(PQntuples(res)), m = Int(PQnfields(res))
        guard m > 0 else { return [] }
        let columns = (0..<m).map { String(cString: PQfname(res, Int32($0))) }
        let types = (0..<m).map { PQftype(res, Int32($0)) }
        var out: [SQLRow] = []
        out.reserveCapacity(n)
        for r in 0..<Int32(n) {
            var values: [SQLValue] = []
            values.reserveCapacity(m)
            for c in 0..<Int32(m) {
                if PQgetisnull(res, r, c) != 0 { values.append(.null); continue }
                let len = Int(PQgetlength(res, r, c))
                let raw = UnsafeRawPointer(PQgetvalue(res, r, c)!).assumingMemoryBound(to: UInt8.self)
                let bytes = UnsafeBufferPointer(start: raw, count: len)
                values.append(Self.decode(bytes, oid: types[Int(c)]))
            }
            out.append(SQLRow(columns: columns, values: values))
        }
        return out
    }

    /// Text-format values by type OID: integers, floats, booleans, numerics, bytea (hex), else text.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, oid: Oid) -> SQLValue {
        let text = String(decoding: bytes, as: UTF8.self)
        switch oid {
        case 20, 21, 23, 26: return Int64(text).map(SQLValue.integer) ?? .text(text)
        case 700, 701: return Double(text).map(SQLValue.real) ?? .text(text)
        case 16: return .integer(text == "t" ? 1 : 0)
        case 1700: return Int64(text).map(SQLValue.integer) ?? Double(text).map(SQLValue.real) ?? .text(text)
        case 17: return .blob(decodeHex(bytes))
        default: return .text(text)
        }
    }

    private static func decodeHex(_ b: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard b.count >= 2, b[0] == UInt8(ascii: "\\"), b[1] == UInt8(ascii: "x") else { return Array(b) }
        func nibble(_ c: UInt8) -> UInt8 {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return 0
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((b.count - 2) / 2)
        var i = 2
        while i + 1 < b.count {
            out.append(nibble(b[i]) << 4 | nibble(b[i + 1]))
            i += 2
        }
        return out
    }
}

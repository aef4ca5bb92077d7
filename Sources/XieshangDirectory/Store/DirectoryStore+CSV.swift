import XieshangAPI
import XieshangKit
import XieshangStore

/// The outcome of an import: counts, or the row errors that stopped it (then nothing was stored).
public struct ImportOutcome: Sendable {
    public var created = 0
    public var updated = 0
    public var errors: [RowIssue] = []
}

extension DirectoryStore {
    /// The names of `committee`'s reference records.
    public func names(committee: Int64) async throws -> DirectoryNames {
        try await database.read { try Self.names(committee: committee, on: $0) }
    }

    static func names(committee: Int64, on conn: SQLConnection) throws -> DirectoryNames {
        var n = DirectoryNames()
        for t in try EntityTable<Xieshang_Directory_V1_Term>().all(committee: committee, on: conn) {
            n.terms.add(id: t.id, name: t.name, aliases: [String(t.number)])
        }
        for s in try EntityTable<Xieshang_Directory_V1_Sector>().all(committee: committee, on: conn) { n.sectors.add(id: s.id, name: s.name) }
        for p in try EntityTable<Xieshang_Directory_V1_Party>().all(committee: committee, on: conn) { n.parties.add(id: p.id, name: p.name) }
        for s in try EntityTable<Xieshang_Directory_V1_SpecialCommittee>().all(committee: committee, on: conn) {
            n.specialCommittees.add(id: s.id, name: s.name)
        }
        var towns = SQLFilter()
        towns.add("level = ?", .integer(Int64(Xieshang_Directory_V1_AreaLevel.town.rawValue)))
        for a in try EntityTable<Xieshang_Directory_V1_Area>().all(committee: committee, where: towns, on: conn) {
            n.towns.add(id: a.id, name: a.name)
        }
        for w in try EntityTable<Xieshang_Directory_V1_WorkStation>().all(committee: committee, on: conn) { n.stations.add(id: w.id, name: w.name) }
        for u in try EntityTable<Xieshang_Directory_V1_Unit>().all(committee: committee, on: conn) { n.units.add(id: u.id, name: u.name) }
        return n
    }

    /// Imports a member file: every row is checked first; any error stores nothing. Existing
    /// members (by code) are updated when `updateExisting`, else reported.
    public func importMembers(_ csv: [UInt8], committee: Int64, actor: Actor, dryRun: Bool, updateExisting: Bool) async throws -> ImportOutcome {
        try await importRecords(committee: committee, actor: actor, dryRun: dryRun, updateExisting: updateExisting,
                                keyHeader: "编号", parse: { MemberCSV.read(csv, names: $0) },
                                key: { ("code", $0.code, "member \($0.code)") })
    }

    /// Imports a unit file, all or nothing, like ``importMembers``; units match by name.
    public func importUnits(_ csv: [UInt8], committee: Int64, actor: Actor, dryRun: Bool, updateExisting: Bool) async throws -> ImportOutcome {
        try await importRecords(committee: committee, actor: actor, dryRun: dryRun, updateExisting: updateExisting,
                                keyHeader: "单位名称", parse: { UnitCSV.read(csv, names: $0) },
                                key: { ("name", $0.name, "unit \($0.name)") })
    }

    /// The shared import: parse against the committee's names, match existing records by `key`
    /// (column, value, description), then write everything in the same transaction, or nothing.
    private func importRecords<E: StoredEntity>(
        committee: Int64, actor: Actor, dryRun: Bool, updateExisting: Bool, keyHeader: String,
        parse: @escaping @Sendable (DirectoryNames) -> ([(line: Int, record: E)], [RowIssue]),
        key: @escaping @Sendable (E) -> (String, String, String)
    ) async throws -> ImportOutcome {
        try await Self.dryRunnable { try await database.write { tx in
            let (rows, errors) = parse(try Self.names(committee: committee, on: tx.connection))
            var outcome = ImportOutcome(errors: errors)
            let table = EntityTable<E>()
            var plan: [(E?, E)] = []
            for (line, var record) in rows {
                record.committeeId = committee
                let (column, value, what) = key(record)
                var filter = SQLFilter()
                filter.add("\(column) = ?", .text(value))
                let existing = try table.first(committee: committee, where: filter, on: tx.connection)
                if existing != nil && !updateExisting {
                    outcome.errors.append(RowIssue(row: line, column: keyHeader, message: "\(what) already exists"))
                    continue
                }
                plan.append((existing, record))
            }
            outcome.errors.sort { ($0.row, $0.column) < ($1.row, $1.column) }
            if !outcome.errors.isEmpty { return outcome }
            for (existing, record) in plan {
                if let existing {
                    if try table.replace(existing, with: record, in: tx, actor: actor) != existing { outcome.updated += 1 }
                } else {
                    _ = try table.insert(record, in: tx, actor: actor)
                    outcome.created += 1
                }
            }
            if dryRun { throw DryRunDone(outcome: outcome) }
            return outcome
        } }
    }
}

extension DirectoryStore {
    static func dryRunnable(_ body: () async throws -> ImportOutcome) async throws -> ImportOutcome {
        do { return try await body() } catch let d as DryRunDone { return d.outcome }
    }
}

/// Rolls a dry-run import back after it did everything but commit; carries what it would have done.
struct DryRunDone: Error {
    let outcome: ImportOutcome
}

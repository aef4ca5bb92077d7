import XieshangStore

/// Text search over one table's records through a character-bigram index (see ``SearchGrams``):
/// the table keeps the normalised text in a `search_text` column, and `<grams table>(committee_id,
/// gram, <id column>)` holds each record's bigrams, and with them the record's ``Facet`` when the
/// index has one.
public struct GramIndex<E: StoredEntity>: Sendable {
    /// A record column every gram row carries (intake's `state`), so that a search filtered by it
    /// is answered in the index without reading the records it leaves out. A record whose value
    /// changes rewrites it in each of its gram rows.
    public struct Facet: Sendable {
        /// The column, named alike in the record table and the gram table.
        public let column: String
        /// The record's value.
        public let value: @Sendable (E) -> Int64

        public init(column: String, value: @escaping @Sendable (E) -> Int64) {
            self.column = column
            self.value = value
        }
    }

    /// The gram table, e.g. `item_grams`.
    public let table: String
    /// Its column naming the record, e.g. `item_id`.
    public let idColumn: String
    /// The text of a record that is indexed (title and body, say).
    public let text: @Sendable (E) -> String
    /// The column gram rows carry, if any.
    public let facet: Facet?
    /// Counting stops here for broad searches ("500+").
    public var countCap = 500
    /// Candidates one search request looks at for its page.
    public var scanWindow = 4_000
    /// Candidates a total is counted over (from the first): past them the total is "at least".
    public var countWindow = 1_000

    public init(table: String, idColumn: String, facet: Facet? = nil, text: @escaping @Sendable (E) -> String) {
        self.table = table
        self.idColumn = idColumn
        self.facet = facet
        self.text = text
    }

    /// The gram table's DDL, for the service's migration. On PostgreSQL the facet rides in the
    /// primary key's index, so that filtered walks stay index-only.
    public var migration: String { createTable(table) }

    /// A migration that adds the facet to a gram table created without one: the table is built
    /// anew with each row's value taken from its record.
    public var addFacetMigration: String {
        guard let facet else { return "" }
        return createTable("\(table)_new") + """

            INSERT INTO \(table)_new (committee_id, gram, \(idColumn), \(facet.column))
                SELECT g.committee_id, g.gram, g.\(idColumn), i.\(facet.column) FROM \(table) g JOIN \(E.table) i ON i.id = g.\(idColumn);
            DROP TABLE \(table);
            ALTER TABLE \(table)_new RENAME TO \(table);
            """
    }

    private func createTable(_ name: String) -> String {
        """
        CREATE TABLE \(name) (
            committee_id BIGINT NOT NULL, gram TEXT NOT NULL, \(idColumn) BIGINT NOT NULL,\(facet.map { " \($0.column) BIGINT NOT NULL," } ?? "")
            PRIMARY KEY (committee_id, gram, \(idColumn))\(facet.map { "{{INCLUDE(\($0.column))}}" } ?? "")) {{WITHOUT_ROWID}};
        """
    }

    /// What the `search_text` column holds for `record`.
    public func searchText(_ record: E) -> String { SearchGrams.normalize(text(record)) }

    func grams(of record: E) -> Set<String> { SearchGrams.grams(of: text(record)) }

    /// Writes a new record's bigrams.
    public func index(_ record: E, in tx: Transaction) throws {
        try insert(grams(of: record), of: record, in: tx)
    }

    /// Brings the bigrams of a changed record up to date: only those that changed, by primary key,
    /// and the facet in the others when it moved.
    public func reindex(from current: E, to stored: E, in tx: Transaction) throws {
        let before = grams(of: current), after = grams(of: stored)
        for gram in before.subtracting(after) {
            try tx.execute("DELETE FROM \(table) WHERE committee_id = ? AND gram = ? AND \(idColumn) = ?",
                           [.integer(current.committeeId), .text(gram), .integer(current.id)])
        }
        if let facet, facet.value(current) != facet.value(stored) {
            try chunks(of: before.intersection(after)) { chunk in
                try tx.execute("UPDATE \(table) SET \(facet.column) = ? WHERE committee_id = ? AND \(idColumn) = ? AND gram IN ("
                               + chunk.map { _ in "?" }.joined(separator: ", ") + ")",
                               [.integer(facet.value(stored)), .integer(stored.committeeId), .integer(stored.id)] + chunk.map { .text($0) })
            }
        }
        try insert(after.subtracting(before), of: stored, in: tx)
    }

    /// Writes `grams` for `record`.
    func insert(_ grams: Set<String>, of record: E, in tx: Transaction) throws {
        let facetValue = facet.map { [SQLValue.integer($0.value(record))] } ?? []
        let row = "(?, ?, ?" + (facet == nil ? ")" : ", ?)")
        try chunks(of: grams) { chunk in
            try tx.execute("INSERT INTO \(table) (committee_id, gram, \(idColumn)" + (facet.map { ", \($0.column)" } ?? "") + ") VALUES "
                           + chunk.map { _ in row }.joined(separator: ", "),
                           chunk.flatMap { [SQLValue.integer(record.committeeId), .text($0), .integer(record.id)] + facetValue })
        }
    }

    /// `grams` in order, 64 a statement.
    private func chunks(of grams: Set<String>, _ body: ([String]) throws -> Void) throws {
        let sorted = grams.sorted()
        var start = 0
        while start < sorted.count {
            try body(Array(sorted[start..<min(start + 64, sorted.count)]))
            start += 64
        }
    }

    /// A page of `committee`'s records matching every term, holding one of `facetValues` (when
    /// any) and matching `filter` (whose columns name the record table as `i`), its total flagged
    /// when only a lower bound.
    ///
    /// Terms of two characters or more go through the bigram index. The longest term's first
    /// bigram gives the candidates; every other such term's first bigram is intersected with them
    /// in the index (merging the sorted posting ranges), so a record is read only when it holds
    /// them all. The facet is checked on the driving gram's rows. Two-character terms are answered
    /// by the index exactly; longer and one-character terms are confirmed as substrings of the
    /// record's text. A request looks at no more than `scanWindow` candidates, so a rare
    /// combination of common words cannot make it slow: when the window ends before the page is
    /// full, the page is short and its token continues after the window. Totals are counted over
    /// the first `countWindow` candidates and stop at `countCap` matches; either limit flags them
    /// as "at least". A first page counts on from where its own walk stopped instead of looking
    /// at those candidates again. One-character terms alone scan the records.
    public func search(committee: Int64, terms: [String], facetValues: [Int64] = [], filter base: SQLFilter, page: PageRequest,
                       on conn: SQLConnection) throws -> Page<E> {
        precondition(facetValues.isEmpty || facet != nil, "facet values for an index without a facet")
        var distinct: [String] = []
        for t in terms where !distinct.contains(t) { distinct.append(t) }
        guard let driving = distinct.filter({ $0.count >= 2 }).max(by: { $0.count < $1.count }) else {
            var conditions = SQLFilter()
            conditions.add("i.committee_id = ?", .integer(committee))
            for t in distinct { conditions.contains(["i.search_text"], t) }
            if let facet { conditions.any("i.\(facet.column)", facetValues.map { .integer($0) }) }
            conditions.add(base)
            return try EntityTable<E>().page(where: conditions, page: page, countCap: countCap, on: conn)
        }
        var lookups = [SearchGrams.lookupGram(of: driving)]
        for t in distinct where t.count >= 2 && !lookups.contains(SearchGrams.lookupGram(of: t)) {
            lookups.append(SearchGrams.lookupGram(of: t))
        }
        var filter = base
        for t in distinct where t.count != 2 { filter.contains(["i.search_text"], t) }
        var facetFilter = SQLFilter()
        if let facet { facetFilter.any("g.\(facet.column)", facetValues.map { .integer($0) }) }
        let walk = GramWalk(index: self, committee: committee, lookups: lookups, facet: facetFilter, filter: filter, conn: conn)

        // Most pages fill from their first few candidates: look at a short window first and, while
        // that does not fill the page, go on past it into one eight times as long, up to the whole
        // one (a page found among the first few hundred candidates does not walk 4,000 index
        // entries to learn where the window ends).
        var size = min(scanWindow, max(64, page.size * 4))
        var after = page.afterID
        var end: Int64?
        var rows: [SQLRow] = []
        while true {
            end = try walk.candidate(after: page.afterID, offset: size)
            rows += try walk.matches(after: after, through: end, limit: page.size + 1 - rows.count)
            guard rows.count <= page.size, let reached = end, size < scanWindow else { break }
            (after, size) = (reached, min(size * 8, scanWindow))
        }
        let found = try rows.prefix(page.size).map(EntityTable<E>.decode)
        // Every match up to here is among `rows`: the lookahead row of a full page, or the end
        // of the window walked (all candidates when none).
        let known: Int64 = rows.count > page.size ? rows[page.size].int("id") : end ?? .max
        var next = rows.count > page.size ? PageRequest.token(after: found.last?.id ?? 0) : ""
        if next.isEmpty, let end { next = PageRequest.token(after: end) }
        var result = Page(items: found, nextToken: next, total: found.count)
        if page.afterID != 0 || !next.isEmpty {
            // When every candidate matches, the cap bounds the work and no window is needed.
            let countEnd = walk.everyCandidateMatches ? nil : try walk.candidate(after: 0, offset: countWindow)
            let limit = countEnd ?? .max
            var n: Int
            if page.afterID == 0 {
                n = rows.filter { $0.int("id") <= limit }.count
                if known < limit && n <= countCap { n += try walk.count(after: known, through: countEnd, limit: countCap + 1 - n) }
            } else {
                n = try walk.count(after: 0, through: countEnd, limit: countCap + 1)
            }
            (result.total, result.totalCapped) = (min(n, countCap), n > countCap || countEnd != nil)
            // A first page can find matches past the counting window.
            result.coverShown(firstPage: page.afterID == 0)
        }
        return result
    }
}

/// One search's reads of the index and the records: candidates are the records holding every
/// lookup gram (the first one's posting list, intersected with the others'), matches those of
/// them the facet condition (on the gram rows) and `filter` (on the records) keep.
private struct GramWalk<E: StoredEntity> {
    let index: GramIndex<E>
    let committee: Int64
    let lookups: [String]
    /// On the driving gram's rows (`g`).
    let facet: SQLFilter
    /// On the records (`i`).
    let filter: SQLFilter
    let conn: SQLConnection

    /// Whether every candidate is a match: one gram, no facet values, no condition on the records.
    var everyCandidateMatches: Bool { lookups.count == 1 && facet.clauses.isEmpty && filter.clauses.isEmpty }

    /// The driving gram's candidate `offset` places after `after` (1 = the next one), when more
    /// candidates follow it; nil when the list ends first.
    func candidate(after: Int64, offset: Int) throws -> Int64? {
        let (cond, binds) = range(of: lookups[0], after: after, through: nil)
        let rows = try conn.query("SELECT g.\(index.idColumn) AS id FROM \(index.table) g WHERE \(cond) ORDER BY g.\(index.idColumn) LIMIT 2 OFFSET ?",
                                  binds + [.integer(Int64(offset - 1))])
        return rows.count == 2 ? rows[0].int("id") : nil
    }

    /// The conditions selecting `gram`'s posting range after `after` (through `end`) on the gram
    /// rows named `g`, and their values.
    private func range(of gram: String, after: Int64, through end: Int64?) -> (String, [SQLValue]) {
        let id = "g.\(index.idColumn)"
        return ("g.committee_id = ? AND g.gram = ? AND \(id) > ?" + (end == nil ? "" : " AND \(id) <= ?"),
                [.integer(committee), .text(gram), .integer(after)] + (end.map { [SQLValue.integer($0)] } ?? []))
    }

    /// Up to `limit` matches after `after` (through `end`), in id order, as record rows.
    func matches(after: Int64, through end: Int64?, limit: Int) throws -> [SQLRow] {
        guard limit > 0 else { return [] }
        if streams {
            let (sql, binds) = joined(after: after, through: end, limit: limit, select: "i.id, i.committee_id, i.version, i.body", rows: true)
            return try conn.query(sql, binds)
        }
        return try confirmed(try intersection(after: after, through: end, limit: filter.clauses.isEmpty ? limit : nil),
                             limit: limit, select: "i.id, i.committee_id, i.version, i.body")
    }

    /// How many matches follow `after` (through `end`), counting no further than `limit`.
    func count(after: Int64, through end: Int64?, limit: Int) throws -> Int {
        guard limit > 0 else { return 0 }
        if streams {
            let (sql, binds) = joined(after: after, through: end, limit: limit, select: "1 AS x", rows: !filter.clauses.isEmpty)
            return Int(try conn.query("SELECT COUNT(*) AS n FROM (\(sql)) t", binds).first?.int("n") ?? 0)
        }
        let ids = try intersection(after: after, through: end, limit: filter.clauses.isEmpty ? limit : nil)
        return filter.clauses.isEmpty ? ids.count : try confirmed(ids, limit: limit, select: "i.id").count
    }

    /// Whether matches come from one streaming join (``joined``) rather than an intersection
    /// confirmed in batches: always for one gram; for several on PostgreSQL, which merge-joins the
    /// posting ranges itself and stops at the limit (its `INTERSECT` hashes both whole ranges).
    private var streams: Bool { lookups.count == 1 || conn.dialect == .postgres }

    /// The driving gram's posting range, joined to the other grams' rows and to the records (when
    /// `rows`), streaming in id order. The gram row already scopes the committee (it is written
    /// with its record's), so the record is found by its primary key alone: a committee condition
    /// on it lets PostgreSQL pick a (committee, state) index for the inner side and scan it once
    /// per candidate.
    private func joined(after: Int64, through end: Int64?, limit: Int, select: String, rows: Bool) -> (String, [SQLValue]) {
        let id = index.idColumn
        var sql = "SELECT \(select) FROM \(index.table) g"
        var binds: [SQLValue] = []
        for (n, gram) in lookups.dropFirst().enumerated() {
            sql += " JOIN \(index.table) x\(n) ON x\(n).committee_id = g.committee_id AND x\(n).gram = ? AND x\(n).\(id) = g.\(id)"
            binds.append(.text(gram))
        }
        let (driving, drivingBinds) = range(of: lookups[0], after: after, through: end)
        sql += (rows ? " JOIN \(E.table) i ON i.id = g.\(id)" : "") + " WHERE " + driving
            + facet.sql + (rows ? filter.sql : "") + " ORDER BY g.\(id) LIMIT ?"
        binds += drivingBinds + facet.binds + (rows ? filter.binds : []) + [.integer(Int64(limit))]
        return (sql, binds)
    }

    /// The ids holding every lookup gram after `after` (through `end`), ascending: one compound
    /// `INTERSECT` of the posting ranges, which SQLite answers by merging them in order (a join
    /// would probe the other grams' index once per candidate).
    private func intersection(after: Int64, through end: Int64?, limit: Int?) throws -> [Int64] {
        var arms: [String] = []
        var binds: [SQLValue] = []
        for (i, gram) in lookups.enumerated() {
            let (cond, values) = range(of: gram, after: after, through: end)
            // The facet is the record's, alike in all its gram rows: checked in the first range.
            arms.append("SELECT g.\(index.idColumn) FROM \(index.table) g WHERE " + cond + (i == 0 ? facet.sql : ""))
            binds += values + (i == 0 ? facet.binds : [])
        }
        let sql = arms.joined(separator: " INTERSECT ") + " ORDER BY 1" + (limit == nil ? "" : " LIMIT ?")
        if let limit { binds.append(.integer(Int64(limit))) }
        return try conn.query(sql, binds).map { $0[0].int64 ?? 0 }
    }

    /// The records among `ids` (ascending) that `filter` keeps, up to `limit`, in id order; read
    /// by primary key in batches of a few fixed sizes (so statements are reused).
    private func confirmed(_ ids: [Int64], limit: Int, select: String) throws -> [SQLRow] {
        var out: [SQLRow] = []
        var start = 0
        while start < ids.count && out.count < limit {
            let batch = batchSizes.first { $0 >= min(ids.count - start, batchSizes.last!) }!
            let chunk = ids[start..<min(start + batch, ids.count)]
            let binds = chunk.map { SQLValue.integer($0) } + Array(repeating: .integer(chunk.last!), count: batch - chunk.count)
            out += try conn.query(
                "SELECT \(select) FROM \(E.table) i WHERE i.id IN (" + Array(repeating: "?", count: batch).joined(separator: ", ") + ")"
                    + filter.sql + " ORDER BY i.id LIMIT ?",
                binds + filter.binds + [.integer(Int64(limit - out.count))])
            start += batch
        }
        return out
    }

}

/// Sizes of the id batches ``GramWalk`` reads records by.
private let batchSizes = [8, 64, 512]

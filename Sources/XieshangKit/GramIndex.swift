import XieshangStore

/// Text search over one table's records through a character-bigram index (see ``SearchGrams``):
/// the table keeps the normalised text in a `search_text` column, and `<grams table>(committee_id,
/// gram, <id column>)` holds each record's bigrams.
public struct GramIndex<E: StoredEntity>: Sendable {
    /// The gram table, e.g. `item_grams`.
    public let table: String
    /// Its column naming the record, e.g. `item_id`.
    public let idColumn: String
    /// The text of a record that is indexed (title and body, say).
    public let text: @Sendable (E) -> String
    /// Counting stops here for broad searches ("500+").
    public var countCap = 500
    /// Candidates one search request looks at for its page.
    public var scanWindow = 4_000
    /// Candidates a total is counted over (from the first): past them the total is "at least".
    public var countWindow = 1_000

    public init(table: String, idColumn: String, text: @escaping @Sendable (E) -> String) {
        self.table = table
        self.idColumn = idColumn
        self.text = text
    }

    /// The gram table's DDL, for the service's migration.
    public var migration: String {
        """
        CREATE TABLE \(table) (
            committee_id BIGINT NOT NULL, gram TEXT NOT NULL, \(idColumn) BIGINT NOT NULL,
            PRIMARY KEY (committee_id, gram, \(idColumn))) {{WITHOUT_ROWID}};
        """
    }

    /// What the `search_text` column holds for `record`.
    public func searchText(_ record: E) -> String { SearchGrams.normalize(text(record)) }

    func grams(of record: E) -> Set<String> { SearchGrams.grams(of: text(record)) }

    /// Writes a new record's bigrams.
    public func index(_ record: E, in tx: Transaction) throws {
        try insert(grams(of: record), of: record, in: tx)
    }

    /// Brings the bigrams of a changed record up to date: only those that changed, by primary key.
    public func reindex(from current: E, to stored: E, in tx: Transaction) throws {
        let before = grams(of: current), after = grams(of: stored)
        guard before != after else { return }
        for gram in before.subtracting(after) {
            try tx.execute("DELETE FROM \(table) WHERE committee_id = ? AND gram = ? AND \(idColumn) = ?",
                           [.integer(current.committeeId), .text(gram), .integer(current.id)])
        }
        try insert(after.subtracting(before), of: stored, in: tx)
    }

    /// Writes `grams` for `record`, 64 rows a statement.
    func insert(_ grams: Set<String>, of record: E, in tx: Transaction) throws {
        let sorted = grams.sorted()
        var start = 0
        while start < sorted.count {
            let chunk = sorted[start..<min(start + 64, sorted.count)]
            let sql = "INSERT INTO \(table) (committee_id, gram, \(idColumn)) VALUES " + chunk.map { _ in "(?, ?, ?)" }.joined(separator: ", ")
            try tx.execute(sql, chunk.flatMap { [SQLValue.integer(record.committeeId), .text($0), .integer(record.id)] })
            start += 64
        }
    }

    /// A page of `committee`'s records matching every term and `filter` (whose columns name the
    /// record table as `i`), its total flagged when only a lower bound.
    ///
    /// Terms of two characters or more go through the bigram index: the longest term's first
    /// bigram gives the candidates; other two-character terms (each its own bigram) are checked in
    /// the index, and longer or one-character terms are confirmed as substrings of the record. A
    /// request looks at no more than `scanWindow` candidates, so a rare combination of common
    /// words cannot make it slow: when the window ends before the page is full, the page is short
    /// and its token continues after the window. Totals are counted over the first `countWindow` candidates and stop at
    /// `countCap` matches; either limit flags them as "at least". One-character terms alone scan
    /// the records.
    public func search(committee: Int64, terms: [String], filter base: SQLFilter, page: PageRequest, on conn: SQLConnection) throws -> Page<E> {
        let driving = terms.filter { $0.count >= 2 }.max { $0.count < $1.count }
        // Another two-character term is its own bigram: the index answers it without reading the
        // record (tested on the candidate's gram row, before the record is looked up). Longer and
        // one-character terms are confirmed as substrings of the record's text.
        var exact = SQLFilter()
        var filter = base
        var seen = Set<String>()
        for t in terms where seen.insert(t).inserted && (t != driving || t.count != 2) {
            if t.count == 2 && driving != nil {
                exact.add("EXISTS (SELECT 1 FROM \(table) x WHERE x.committee_id = g.committee_id AND x.gram = ? AND x.\(idColumn) = g.\(idColumn))",
                          .text(t))
            } else {
                filter.contains(["i.search_text"], t)
            }
        }
        // Two-character terms and nothing else: the gram index alone answers the count.
        let indexOnly = filter.clauses.isEmpty
        let (cap, window, countWindow) = (countCap, scanWindow, countWindow)
        guard let term = driving else {
            var conditions = SQLFilter()
            conditions.add("i.committee_id = ?", .integer(committee))
            conditions.add(filter)
            return try EntityTable<E>().page(where: conditions, page: page, countCap: cap, on: conn)
        }
        let gram: [SQLValue] = [.integer(committee), .text(SearchGrams.lookupGram(of: term))]
        /// The last of `size` candidates after `after`, when more candidates follow it.
        func windowEnd(after: Int64, size: Int) throws -> Int64? {
            let rows = try conn.query(
                "SELECT \(idColumn) AS id FROM \(table) WHERE committee_id = ? AND gram = ? AND \(idColumn) > ? ORDER BY \(idColumn) LIMIT 2 OFFSET ?",
                gram + [.integer(after), .integer(Int64(size - 1))])
            return rows.count == 2 ? rows[0].int("id") : nil
        }
        /// The query for matches among the candidates after `after` (up to `end`), in id order,
        /// streaming; records are read only when `rows` (and only for candidates the index kept).
        /// The gram row already scopes the committee (it is written with its record's), so the
        /// record is found by its primary key alone: a committee condition on it lets PostgreSQL
        /// pick a (committee, state) index for the inner side and scan it once per candidate.
        func matches(after: Int64, end: Int64?, limit: Int, select: String, rows: Bool = true) -> (String, [SQLValue]) {
            ("SELECT \(select) FROM \(table) g" + (rows ? " JOIN \(E.table) i ON i.id = g.\(idColumn)" : "")
                + " WHERE g.committee_id = ? AND g.gram = ? AND g.\(idColumn) > ?"
                + (end == nil ? "" : " AND g.\(idColumn) <= ?") + exact.sql + (rows ? filter.sql : "")
                + " ORDER BY g.\(idColumn) LIMIT ?",
             gram + [.integer(after)] + (end.map { [SQLValue.integer($0)] } ?? []) + exact.binds + (rows ? filter.binds : [])
                + [.integer(Int64(limit))])
        }
        // Most pages fill from their first few candidates: look at a short window first and, when
        // it did not fill the page, go on past it to the end of the whole one (saves walking 4,000
        // index entries per page).
        var size = min(window, max(64, page.size * 4))
        var after = page.afterID
        var end: Int64?
        var rows: [SQLRow] = []
        while true {
            end = try windowEnd(after: page.afterID, size: size)
            let (pageSQL, pageBinds) = matches(after: after, end: end, limit: page.size + 1 - rows.count,
                                               select: "i.id, i.committee_id, i.version, i.body")
            rows += try conn.query(pageSQL, pageBinds)
            guard rows.count <= page.size, let reached = end, size < window else { break }
            (after, size) = (reached, window)
        }
        let found = try rows.prefix(page.size).map(EntityTable<E>.decode)
        var next = rows.count > page.size ? PageRequest.token(after: found.last?.id ?? 0) : ""
        if next.isEmpty, let end { next = PageRequest.token(after: end) }
        var total = found.count, capped = false
        if page.afterID != 0 || !next.isEmpty {
            // Counted from the index alone, every candidate matches: the cap bounds the work and
            // no window is needed (more than `cap` candidates means capped either way).
            let countEnd = indexOnly && exact.clauses.isEmpty ? nil : try windowEnd(after: 0, size: countWindow)
            let (sql, binds) = matches(after: 0, end: countEnd, limit: cap + 1, select: "1 AS x", rows: !indexOnly)
            let n = Int(try conn.query("SELECT COUNT(*) AS n FROM (\(sql)) t", binds).first?.int("n") ?? 0)
            (total, capped) = (min(n, cap), n > cap || countEnd != nil)
            // A first page can find matches past the counting window: a lower bound never says
            // fewer than the page shows.
            if page.afterID == 0 && total < found.count { (total, capped) = (found.count, true) }
        }
        return Page(items: found, nextToken: next, total: total, totalCapped: capped)
    }
}

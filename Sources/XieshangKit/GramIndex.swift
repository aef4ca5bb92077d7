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
    /// Counting stops here for broad searches ("1,000+").
    public var countCap = 1_000
    /// Candidates one search request looks at.
    public var scanWindow = 4_000

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
    /// bigram gives the candidates, and every term is confirmed as a substring (except a driving
    /// term of exactly two characters, which is its own bigram). A request looks at no more than
    /// `scanWindow` candidates, so a rare combination of common words cannot make it slow: when
    /// the window ends before the page is full, the page is short and its token continues after
    /// the window. Totals stop at `countCap` matches or `scanWindow` candidates, and are then
    /// flagged as "at least". One-character terms alone scan the records.
    public func search(committee: Int64, terms: [String], filter base: SQLFilter, page: PageRequest, on conn: SQLConnection) throws -> Page<E> {
        var filter = base
        let driving = terms.filter { $0.count >= 2 }.max { $0.count < $1.count }
        for t in terms where !(t == driving && t.count == 2) { filter.contains(["i.search_text"], t) }
        var conditions = SQLFilter()
        conditions.add("i.committee_id = ?", .integer(committee))
        conditions.add(filter)
        // A single two-character term and nothing else: the gram index alone answers the count.
        let indexOnly = filter.clauses.isEmpty
        let (cap, window) = (countCap, scanWindow)
        guard let term = driving else {
            return try EntityTable<E>().page(where: conditions, page: page, countCap: cap, on: conn)
        }
        let gram: [SQLValue] = [.integer(committee), .text(SearchGrams.lookupGram(of: term))]
        /// The last candidate of the window after `after`, when more candidates follow it.
        func windowEnd(after: Int64) throws -> Int64? {
            let rows = try conn.query(
                "SELECT \(idColumn) AS id FROM \(table) WHERE committee_id = ? AND gram = ? AND \(idColumn) > ? ORDER BY \(idColumn) LIMIT 2 OFFSET ?",
                gram + [.integer(after), .integer(Int64(window - 1))])
            return rows.count == 2 ? rows[0].int("id") : nil
        }
        /// Matches among the candidates after `after` (up to `end`), in id order, streaming.
        func matches(after: Int64, end: Int64?, limit: Int, select: String) throws -> [SQLRow] {
            try conn.query(
                "SELECT \(select) FROM \(table) g JOIN \(E.table) i ON i.id = g.\(idColumn) WHERE g.committee_id = ? AND g.gram = ? AND g.\(idColumn) > ?"
                    + (end == nil ? "" : " AND g.\(idColumn) <= ?") + "\(conditions.sql) ORDER BY g.\(idColumn) LIMIT ?",
                gram + [.integer(after)] + (end.map { [SQLValue.integer($0)] } ?? []) + conditions.binds + [.integer(Int64(limit))])
        }
        let end = try windowEnd(after: page.afterID)
        let rows = try matches(after: page.afterID, end: end, limit: page.size + 1, select: "i.id, i.committee_id, i.version, i.body")
        let found = try rows.prefix(page.size).map(EntityTable<E>.decode)
        var next = rows.count > page.size ? PageRequest.token(after: found.last?.id ?? 0) : ""
        if next.isEmpty, let end { next = PageRequest.token(after: end) }
        var total = found.count, capped = false
        if page.afterID != 0 || !next.isEmpty {
            let firstEnd = page.afterID == 0 ? end : try windowEnd(after: 0)
            let n: Int
            if indexOnly {
                n = Int(try conn.query(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 AS x FROM \(table) WHERE committee_id = ? AND gram = ?"
                        + (firstEnd == nil ? "" : " AND \(idColumn) <= ?") + " LIMIT ?) t",
                    gram + (firstEnd.map { [SQLValue.integer($0)] } ?? []) + [.integer(Int64(cap + 1))]).first?.int("n") ?? 0)
            } else {
                n = try matches(after: 0, end: firstEnd, limit: cap + 1, select: "1 AS x").count
            }
            (total, capped) = (min(n, cap), n > cap || firstEnd != nil)
        }
        return Page(items: found, nextToken: next, total: total, totalCapped: capped)
    }
}

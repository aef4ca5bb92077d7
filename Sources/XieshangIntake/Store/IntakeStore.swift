import XieshangAPI
import XieshangKit
import XieshangStore

/// The filters of an item listing, already scoped to what the caller may see.
public struct ItemQuery: Sendable {
    public var terms: [String] = []
    public var states: [Xieshang_Intake_V1_ItemState] = []
    public var category = ""
    public var townID: Int64 = 0
    public var unitID: Int64 = 0
    /// Brought, led or raised by this member.
    public var memberID: Int64 = 0
    public var channel: Xieshang_Intake_V1_Channel = .unspecified
    public var receivedFrom = ""
    public var receivedTo = ""
    /// Overdue on this date (YYYY-MM-DD), when set.
    public var overdueOn = ""
    /// Due on or before this date (chase lists), when set.
    public var dueBy = ""

    public init() {}

    /// Every condition on the item rows but the states, which a search checks on the gram rows
    /// (see ``IntakeStore/list(committee:query:page:)``).
    var filter: SQLFilter {
        var f = SQLFilter()
        if !category.isEmpty { f.add("i.category = ?", .text(category)) }
        f.equal("i.town_id", townID)
        f.equal("i.unit_id", unitID)
        if memberID != 0 {
            f.add("(i.bringing_member_id = ? OR i.handling_member_id = ? OR i.raiser_member_id = ?)",
                  .integer(memberID), .integer(memberID), .integer(memberID))
        }
        if channel != .unspecified { f.add("i.channel = ?", .integer(Int64(channel.rawValue))) }
        if !receivedFrom.isEmpty { f.add("i.received_on >= ?", .text(receivedFrom)) }
        if !receivedTo.isEmpty { f.add("i.received_on <= ?", .text(receivedTo)) }
        if !overdueOn.isEmpty || !dueBy.isEmpty {
            f.add("i.state IN (?, ?) AND i.due_date <> ''", .integer(Int64(ItemState.routed.rawValue)),
                  .integer(Int64(ItemState.inProgress.rawValue)))
        }
        if !overdueOn.isEmpty { f.add("i.due_date < ?", .text(overdueOn)) }
        if !dueBy.isEmpty { f.add("i.due_date <= ?", .text(dueBy)) }
        return f
    }
}

/// Intake's persistence: items with their search index, relays, reports and bulletins. Every
/// change goes through a write transaction that also appends its event.
public struct IntakeStore: EntityStore {
    public let database: Database
    let items = EntityTable<Xieshang_Intake_V1_Item>()
    /// Title and text, by bigram.
    public var grams = Self.gramIndex
    static let gramIndex = GramIndex<Xieshang_Intake_V1_Item>(
        table: "item_grams", idColumn: "item_id", facet: .init(column: "state") { Int64($0.state.rawValue) }
    ) { $0.title + "\n" + $0.text }

    /// PostgreSQL's statistics of the items and their grams, refreshed as items are added: a
    /// new schema's searches would otherwise be planned for empty tables until autovacuum comes.
    let statistics: GrowthStatistics

    /// `analyzeAfter`: items added before the first refresh of PostgreSQL's statistics.
    public init(database: Database, analyzeAfter: Int = 10_000) {
        self.database = database
        statistics = GrowthStatistics(database: database, tables: ["items", "item_grams"], first: analyzeAfter)
    }

    public func migrate() async throws {
        try await database.migrate(component: "intake", IntakeMigrations.all)
    }

    // MARK: Items

    /// Stores a new item in `received` with a fresh ticket code.
    public func submit(_ item: Xieshang_Intake_V1_Item, committee: Int64, actor: Actor) async throws -> Xieshang_Intake_V1_Item {
        var attempt = 0
        while true {
            attempt += 1
            var draft = item
            draft.committeeId = committee
            draft.ticketCode = ItemRules.newTicketCode()
            let fresh = draft
            do {
                let stored = try await database.write { tx in
                    let stored = try items.insert(ItemMachine.received(fresh, by: actor.name, at: tx.nowMilliseconds), in: tx, actor: actor)
                    try grams.index(stored, in: tx)
                    return stored
                }
                // In the background: a submission does not wait for the vacuum.
                if statistics.grew(by: 1) { Task { [statistics] in try? await statistics.refresh() } }
                return stored
            } catch StoreError.uniqueViolation(let constraint, _) where constraint.contains("ticket_code") && attempt < 5 {
                continue
            }
        }
    }

    /// Stores many items in one transaction as they are (historic records from an earlier system,
    /// benchmark corpora): each keeps its state and dates, gets a ticket code and its search grams.
    /// On PostgreSQL a batch that takes the items past a refresh of the statistics waits for it.
    public func importItems(_ batch: [Xieshang_Intake_V1_Item], committee: Int64, actor: Actor) async throws {
        try await database.write { tx in
            for item in batch {
                var i = item
                i.committeeId = committee
                i.ticketCode = ItemRules.newTicketCode()
                if i.receivedAtUnixMs == 0 { i.receivedAtUnixMs = tx.nowMilliseconds }
                if i.receivedOn.isEmpty { i.receivedOn = ItemRules.chinaDate(unixMilliseconds: i.receivedAtUnixMs).description }
                try grams.index(try items.insert(i, in: tx, actor: actor), in: tx)
            }
        }
        if statistics.grew(by: batch.count) { try await statistics.refresh() }
    }

    /// Applies the command `make` builds from the current item, checking `version` when not 0.
    /// An item `visible` refuses is NOT_FOUND, as if it did not exist.
    public func transition(
        _ id: Int64, version: Int64, committee: Int64, by who: Participant, actor: Actor,
        visible: @escaping @Sendable (Xieshang_Intake_V1_Item) -> Bool = { _ in true },
        _ make: @escaping @Sendable (Xieshang_Intake_V1_Item, Transaction) throws -> ItemCommand
    ) async throws -> Xieshang_Intake_V1_Item {
        guard id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        return try await database.write { tx in
            try apply(id, version: version, committee: committee, by: who, actor: actor, visible: visible, in: tx) { try make($0, tx) }
        }
    }

    func apply(_ id: Int64, version: Int64, committee: Int64, by who: Participant, actor: Actor,
               visible: (Xieshang_Intake_V1_Item) -> Bool = { _ in true }, in tx: Transaction,
               _ make: (Xieshang_Intake_V1_Item) throws -> ItemCommand) throws -> Xieshang_Intake_V1_Item {
        let (before, after) = try items.change(id, version: version, committee: committee, in: tx, actor: actor, visible: visible) {
            try ItemMachine.apply(try make($0), to: $0, by: who, at: tx.nowMilliseconds)
        }
        try grams.reindex(from: before, to: after, in: tx)
        return after
    }

    /// Merges `id` into `intoID`: the duplicate is `merged`, the other item lists it.
    public func merge(_ id: Int64, version: Int64, into intoID: Int64, committee: Int64, by who: Participant, actor: Actor,
                      visible: @escaping @Sendable (Xieshang_Intake_V1_Item) -> Bool = { _ in true }) async throws -> Xieshang_Intake_V1_Item {
        guard id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        guard intoID > 0 else { throw DomainError.invalid(field: "into_id", message: "required") }
        return try await database.write { tx in
            guard try items.find(intoID, committee: committee, on: tx.connection) != nil else {
                throw DomainError.invalid(field: "into_id", message: "no item \(intoID) in this committee")
            }
            _ = try apply(id, version: version, committee: committee, by: who, actor: actor, visible: visible, in: tx) { _ in
                .merge(intoID: intoID)
            }
            return try apply(intoID, version: 0, committee: committee, by: who, actor: actor, in: tx) { _ in .absorb(duplicateID: id) }
        }
    }

    /// The item with `ticketCode` in `committee`; NOT_FOUND otherwise.
    public func item(ticket code: String, committee: Int64) async throws -> Xieshang_Intake_V1_Item {
        var f = SQLFilter()
        f.add("ticket_code = ?", .text(code))
        let filter = f
        return try await database.read { conn in
            guard let item = try items.first(committee: committee, where: filter, on: conn) else {
                throw DomainError.notFound(kind: "ticket", id: code)
            }
            return item
        }
    }

    /// A page of items matching `query`, through the bigram index when it has search terms (see
    /// ``GramIndex/search(committee:terms:filter:page:on:)``).
    public func list(committee: Int64, query: ItemQuery, page: PageRequest) async throws -> Page<Xieshang_Intake_V1_Item> {
        let index = grams
        let states = query.states.map { Int64($0.rawValue) }
        return try await database.read {
            try index.search(committee: committee, terms: query.terms, facetValues: states, filter: query.filter, page: page, on: $0)
        }
    }

    // MARK: Relays, reports, bulletins

    /// Total audience of the relays matching `filter`.
    public func audienceTotal(committee: Int64, filter: SQLFilter) async throws -> Int64 {
        try await database.read {
            try $0.query("SELECT COALESCE(SUM(audience_size), 0) AS n FROM relays WHERE committee_id = ?\(filter.sql)",
                         [.integer(committee)] + filter.binds).first?.int("n") ?? 0
        }
    }

    /// Stores a draft report and links each of its items to it, in one transaction.
    public func createReport(_ report: Xieshang_Intake_V1_OpinionReport, committee: Int64, by who: Participant, actor: Actor) async throws -> Xieshang_Intake_V1_OpinionReport {
        try await database.write { tx in
            var r = report
            r.committeeId = committee
            let stored = try EntityTable<Xieshang_Intake_V1_OpinionReport>().insert(r, in: tx, actor: actor)
            try linkItems(stored.itemIds, toReport: stored.id, committee: committee, by: who, actor: actor, in: tx)
            return stored
        }
    }

    /// Links `itemIDs` to report `reportID` (each item records the report; merged ones refused).
    func linkItems(_ itemIDs: [Int64], toReport reportID: Int64, committee: Int64, by who: Participant, actor: Actor, in tx: Transaction) throws {
        for (i, itemID) in itemIDs.enumerated() {
            guard let item = try items.find(itemID, committee: committee, on: tx.connection) else {
                throw DomainError.invalid(field: "item_ids[\(i)]", message: "no item \(itemID) in this committee")
            }
            if item.state == .merged {
                throw DomainError.invalid(field: "item_ids[\(i)]", message: "item \(itemID) was merged into item \(item.mergedIntoId)")
            }
            if item.links.contains(where: { $0.kind == .opinionReport && $0.targetId == reportID }) { continue }
            _ = try apply(itemID, version: 0, committee: committee, by: who, actor: actor, in: tx) { _ in
                .link(kind: .opinionReport, targetID: reportID)
            }
        }
    }

    /// Issues `reportIDs` (drafts) in the next bulletin of `year`.
    public func issueBulletin(title: String, reportIDs: [Int64], year: Int32, issuedOn: String, committee: Int64, actor: Actor) async throws -> Xieshang_Intake_V1_Bulletin {
        try await database.write { tx in
            let reports = EntityTable<Xieshang_Intake_V1_OpinionReport>()
            var current: [Xieshang_Intake_V1_OpinionReport] = []
            for (i, id) in reportIDs.enumerated() {
                guard let r = try reports.find(id, committee: committee, on: tx.connection) else {
                    throw DomainError.invalid(field: "report_ids[\(i)]", message: "no report \(id) in this committee")
                }
                guard r.state == .draft else {
                    throw DomainError.notAllowed("report \(id) is already issued in \(r.bulletinLabel)")
                }
                current.append(r)
            }
            var b = Xieshang_Intake_V1_Bulletin()
            b.committeeId = committee
            b.year = year
            b.number = Int32(try NumberSequence.next("bulletin", committee: committee, scope: Int64(year), in: tx))
            b.title = title
            b.reportIds = reportIDs
            b.issuedOn = issuedOn
            let stored = try EntityTable<Xieshang_Intake_V1_Bulletin>().insert(b, in: tx, actor: actor)
            for r in current {
                var n = r
                n.state = .issued
                n.bulletinId = stored.id
                n.bulletinLabel = "\(year)年第\(stored.number)期"
                _ = try reports.replace(r, with: n, in: tx, actor: actor, eventType: "report.issued")
            }
            return stored
        }
    }
}

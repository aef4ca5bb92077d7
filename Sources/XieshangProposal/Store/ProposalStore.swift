import XieshangAPI
import XieshangKit
import XieshangStore

/// The filters of a proposal listing, already scoped to what the caller may see.
public struct ProposalQuery: Sendable {
    public var terms: [String] = []
    public var states: [ProposalState] = []
    /// Lead unit, co-unit or referred unit.
    public var unitID: Int64 = 0
    /// Lead member, co-signer or proposer of a merged duplicate.
    public var memberID: Int64 = 0
    public var sectorID: Int64 = 0
    public var category = ""
    public var keyOnly = false
    public var session: Xieshang_Proposal_V1_Session = .unspecified
    public var sessionName = ""
    public var termID: Int64 = 0
    public var proposerKind: Xieshang_Proposal_V1_ProposerKind = .unspecified
    /// With its units and due on or before this date (YYYY-MM-DD), when set.
    public var dueBy = ""
    /// With its units and due before this date, when set.
    public var overdueOn = ""
    public var leaderAccountID: Int64 = 0
    /// Assigned on or after / on or before (YYYY-MM-DD), when set.
    public var assignedFrom = ""
    public var assignedTo = ""
    /// Only proposals with a lead unit.
    public var assignedOnly = false

    public init() {}

    var filter: SQLFilter {
        var f = SQLFilter()
        f.any("i.state", states.map { .integer(Int64($0.rawValue)) })
        f.hasKey("i.unit_keys", unitID)
        f.hasKey("i.member_keys", memberID)
        f.equal("i.sector_id", sectorID)
        if !category.isEmpty { f.add("i.category = ?", .text(category)) }
        if keyOnly { f.add("i.is_key = ?", .integer(1)) }
        if session != .unspecified { f.add("i.session = ?", .integer(Int64(session.rawValue))) }
        if !sessionName.isEmpty { f.add("i.session_name = ?", .text(sessionName)) }
        f.equal("i.term_id", termID)
        if proposerKind != .unspecified { f.add("i.proposer_kind = ?", .integer(Int64(proposerKind.rawValue))) }
        f.equal("i.leader_account_id", leaderAccountID)
        if !dueBy.isEmpty || !overdueOn.isEmpty {
            f.any("i.state", ProposalMachine.withUnits.map { .integer(Int64($0.rawValue)) })
            f.add("i.due_date <> ''")
        }
        if !dueBy.isEmpty { f.add("i.due_date <= ?", .text(dueBy)) }
        if !overdueOn.isEmpty { f.add("i.due_date < ?", .text(overdueOn)) }
        if assignedOnly { f.add("i.lead_unit_id <> 0") }
        if !assignedFrom.isEmpty { f.add("i.assigned_on >= ?", .text(assignedFrom)) }
        if !assignedTo.isEmpty { f.add("i.assigned_on <= ?", .text(assignedTo)) }
        return f
    }
}

/// Proposals' persistence: proposals with their search index and numbers, the committee's
/// settings, appraisals. Every change goes through a write transaction that also appends its event.
public struct ProposalStore: EntityStore {
    public let database: Database
    let proposals = EntityTable<Proposal>()
    /// Title, reasons and suggestions, by bigram.
    public var grams = Self.gramIndex
    static let gramIndex = GramIndex<Proposal>(table: "proposal_grams", idColumn: "proposal_id") {
        $0.title + "\n" + $0.reasons + "\n" + $0.suggestions
    }
    /// Rows an export holds at most.
    public static let exportLimit = 100_000

    public init(database: Database) {
        self.database = database
    }

    public func migrate() async throws {
        try await database.migrate(component: "proposals", ProposalMigrations.all)
    }

    // MARK: Proposals

    /// Stores a new proposal submitted at `ms` (or signing, with co-signers).
    public func submit(_ proposal: Proposal, committee: Int64, actor: Actor, at ms: Int64) async throws -> Proposal {
        try await database.write { tx in
            var p = ProposalMachine.submitted(proposal, by: actor.name, at: ms)
            p.committeeId = committee
            let stored = try proposals.insert(p, in: tx, actor: actor)
            try grams.index(stored, in: tx)
            return stored
        }
    }

    /// Applies the command `make` builds from the current proposal (inside the write transaction,
    /// so numbers it draws roll back with it) at `ms`, checking `version` when not 0. A proposal
    /// `visible` refuses is NOT_FOUND, as if it did not exist.
    public func transition(
        _ id: Int64, version: Int64, committee: Int64, by who: Participant, actor: Actor, at ms: Int64,
        visible: @escaping @Sendable (Proposal) -> Bool = { _ in true },
        _ make: @escaping @Sendable (Proposal, Transaction) throws -> ProposalCommand
    ) async throws -> Proposal {
        guard id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        return try await database.write { tx in
            try apply(id, version: version, committee: committee, by: who, actor: actor, at: ms, visible: visible, in: tx) { try make($0, tx) }
        }
    }

    func apply(_ id: Int64, version: Int64, committee: Int64, by who: Participant, actor: Actor, at ms: Int64,
               visible: (Proposal) -> Bool = { _ in true }, in tx: Transaction,
               _ make: (Proposal) throws -> ProposalCommand) throws -> Proposal {
        let (before, after) = try proposals.change(id, version: version, committee: committee, in: tx, actor: actor, visible: visible) {
            try ProposalMachine.apply(try make($0), to: $0, by: who, at: ms)
        }
        try grams.reindex(from: before, to: after, in: tx)
        return after
    }

    /// Registers proposal `id` with the next number of its committee and term, in the same transaction.
    public func register(_ id: Int64, version: Int64, committee: Int64, category: String, note: String,
                         by who: Participant, actor: Actor, at ms: Int64) async throws -> Proposal {
        try await transition(id, version: version, committee: committee, by: who, actor: actor, at: ms) { current, tx in
            // Checked before a number is drawn so a refused registration does not even touch the counter.
            try ProposalMachine.check(.register(number: 1, category: category, note: note), on: current, by: who)
            let n = try NumberSequence.next("proposal", committee: committee, scope: current.termId, in: tx)
            return .register(number: Int32(n), category: category, note: note)
        }
    }

    /// Merges `id` into `intoID`: the duplicate is `merged`, the other lists it and its proposers.
    public func merge(_ id: Int64, version: Int64, into intoID: Int64, committee: Int64, by who: Participant, actor: Actor,
                      at ms: Int64) async throws -> Proposal {
        guard id > 0 else { throw DomainError.invalid(field: "id", message: "required") }
        guard intoID > 0 else { throw DomainError.invalid(field: "into_id", message: "required") }
        return try await database.write { tx in
            guard try proposals.find(intoID, committee: committee, on: tx.connection) != nil else {
                throw DomainError.invalid(field: "into_id", message: "no proposal \(intoID) in this committee")
            }
            let duplicate = try apply(id, version: version, committee: committee, by: who, actor: actor, at: ms, in: tx) { _ in .merge(intoID: intoID) }
            let members = duplicate.memberIDs.filter { m in duplicate.coSigners.first { $0.memberId == m }.map { $0.status == .confirmed } ?? true }
            return try apply(intoID, version: 0, committee: committee, by: who, actor: actor, at: ms, in: tx) { _ in
                .absorb(duplicateID: id, memberIDs: members)
            }
        }
    }

    /// A page of proposals matching `query`, through the bigram index when it has search terms.
    public func list(committee: Int64, query: ProposalQuery, page: PageRequest) async throws -> Page<Proposal> {
        let index = grams
        return try await database.read { try index.search(committee: committee, terms: query.terms, filter: query.filter, page: page, on: $0) }
    }

    /// Every proposal matching `query` (exports, chase lists), up to ``exportLimit``.
    public func all(committee: Int64, query: ProposalQuery) async throws -> [Proposal] {
        if query.terms.isEmpty {
            let filter = query.filter
            return try await database.read { try proposals.all(committee: committee, where: filter, limit: Self.exportLimit, on: $0) }
        }
        var out: [Proposal] = []
        var request = PageRequest(size: 1000, afterID: 0)
        while out.count < Self.exportLimit {
            let page = try await list(committee: committee, query: query, page: request)
            out += page.items
            guard !page.nextToken.isEmpty else { break }
            request = try PageRequest(size: 1000, token: page.nextToken)
        }
        return out
    }

    // MARK: Settings and appraisals

    /// The committee's settings, defaults filled in.
    public func settings(committee: Int64) async throws -> Xieshang_Proposal_V1_Settings {
        var s = try await database.read {
            try EntityTable<Xieshang_Proposal_V1_Settings>().first(committee: committee, where: SQLFilter(), on: $0)
        } ?? Xieshang_Proposal_V1_Settings()
        s.committeeId = committee
        return ProposalRules.effective(s)
    }

    /// Stores the committee's settings (checking `version` of the stored ones, when there are any).
    public func setSettings(_ settings: Xieshang_Proposal_V1_Settings, committee: Int64, actor: Actor) async throws -> Xieshang_Proposal_V1_Settings {
        try await database.write { tx in
            let table = EntityTable<Xieshang_Proposal_V1_Settings>()
            var s = settings
            s.committeeId = committee
            guard let current = try table.first(committee: committee, where: SQLFilter(), on: tx.connection) else {
                return try table.insert(s, in: tx, actor: actor)
            }
            if s.version != 0 && s.version != current.version {
                throw DomainError.staleVersion(kind: "proposal_settings", id: "\(current.id)", expected: s.version, actual: current.version)
            }
            return try table.replace(current, with: s, in: tx, actor: actor)
        }
    }
}

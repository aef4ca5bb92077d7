import XieshangAPI
import XieshangKit
import XieshangStore

// Which columns of each record the tables keep beside its body (see ProposalMigrations).

extension Xieshang_Proposal_V1_Proposal: StoredEntity {
    public static let entityKind = "proposal"
    public static let table = "proposals"
    public var indexColumns: [(String, SQLValue)] {
        [("state", .integer(Int64(state.rawValue))), ("proposer_kind", .integer(Int64(proposerKind.rawValue))),
         ("lead_member_id", .integer(leadMemberId)), ("member_keys", .text(SQLFilter.keyList(memberIDs))),
         ("unit_keys", .text(SQLFilter.keyList(unitIDs))), ("lead_unit_id", .integer(leadUnitId)), ("sector_id", .integer(sectorId)),
         ("category", .text(category)), ("is_key", key.sqlValue), ("session", .integer(Int64(session.rawValue))),
         ("session_name", .text(sessionName)), ("term_id", .integer(termId)), ("number", .integer(Int64(number))),
         ("assigned_on", .text(assignedOn)), ("due_date", .text(dueDate)),
         ("leader_account_id", .integer(overseeingLeaderAccountId)), ("search_text", .text(ProposalStore.gramIndex.searchText(self)))]
    }

    /// Members it belongs to: the lead member, co-signers, proposers of merged duplicates.
    public var memberIDs: [Int64] { [leadMemberId] + coSigners.map(\.memberId) + mergedMemberIds }
    /// Units it concerns: lead, co-units, and units a suggestion was referred to.
    public var unitIDs: [Int64] { [leadUnitId] + coUnitIds + referredUnitIds }
}

extension Xieshang_Proposal_V1_Settings: StoredEntity {
    public static let entityKind = "proposal_settings"
    public static let table = "proposal_settings"
    public var indexColumns: [(String, SQLValue)] { [] }
}

extension Xieshang_Proposal_V1_Appraisal: StoredEntity {
    public static let entityKind = "appraisal"
    public static let table = "appraisals"
    public var indexColumns: [(String, SQLValue)] { [("unit_id", .integer(unitId)), ("year", .integer(Int64(year)))] }
}

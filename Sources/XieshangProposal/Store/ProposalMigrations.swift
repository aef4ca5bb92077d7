import XieshangKit
import XieshangStore

/// Proposals' tables: each record as protobuf bytes (`body`) beside the columns filters use, the
/// bigram index `proposal_grams`, and the number counters.
enum ProposalMigrations {
    static let all = [
        Migration(version: 1, name: "proposals", script: """
            CREATE TABLE proposals (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                state INTEGER NOT NULL, proposer_kind INTEGER NOT NULL, lead_member_id BIGINT NOT NULL,
                member_keys TEXT NOT NULL, unit_keys TEXT NOT NULL, lead_unit_id BIGINT NOT NULL,
                sector_id BIGINT NOT NULL, category TEXT NOT NULL, is_key INTEGER NOT NULL,
                session INTEGER NOT NULL, session_name TEXT NOT NULL, term_id BIGINT NOT NULL, number BIGINT NOT NULL,
                assigned_on TEXT NOT NULL, due_date TEXT NOT NULL, leader_account_id BIGINT NOT NULL,
                search_text TEXT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE INDEX proposals_state ON proposals (committee_id, state, id);
            CREATE INDEX proposals_lead_unit ON proposals (committee_id, lead_unit_id, id);
            CREATE INDEX proposals_lead_member ON proposals (committee_id, lead_member_id, id);
            CREATE INDEX proposals_due ON proposals (committee_id, due_date);
            CREATE UNIQUE INDEX proposals_number_unique ON proposals (committee_id, term_id, number) WHERE number > 0;

            CREATE TABLE proposal_settings (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX proposal_settings_committee_unique ON proposal_settings (committee_id);

            CREATE TABLE appraisals (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                unit_id BIGINT NOT NULL, year BIGINT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE INDEX appraisals_unit ON appraisals (committee_id, unit_id, year);
            """ + ProposalStore.gramIndex.migration + NumberSequence.migration),
    ]
}

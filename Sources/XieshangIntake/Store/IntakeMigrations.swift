import XieshangKit
import XieshangStore

/// Intake's tables: each record as protobuf bytes (`body`) beside the columns filters use, and
/// the bigram index `item_grams` for text search (its rows carry the item's state since version 2).
enum IntakeMigrations {
    static let all = [
        Migration(version: 1, name: "intake", script: """
            CREATE TABLE items (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                ticket_code TEXT NOT NULL, state INTEGER NOT NULL, category TEXT NOT NULL,
                town_id BIGINT NOT NULL, village_id BIGINT NOT NULL, unit_id BIGINT NOT NULL,
                bringing_member_id BIGINT NOT NULL, handling_member_id BIGINT NOT NULL, raiser_member_id BIGINT NOT NULL,
                channel INTEGER NOT NULL, received_on TEXT NOT NULL, due_date TEXT NOT NULL,
                search_text TEXT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX items_ticket_code_unique ON items (ticket_code);
            CREATE INDEX items_state ON items (committee_id, state, id);
            CREATE INDEX items_unit ON items (committee_id, unit_id, id);
            CREATE INDEX items_town ON items (committee_id, town_id, id);
            CREATE INDEX items_bringing ON items (committee_id, bringing_member_id, id);
            CREATE INDEX items_due ON items (committee_id, due_date);

            CREATE TABLE item_grams (
                committee_id BIGINT NOT NULL, gram TEXT NOT NULL, item_id BIGINT NOT NULL,
                PRIMARY KEY (committee_id, gram, item_id)) {{WITHOUT_ROWID}};

            CREATE TABLE relays (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                member_id BIGINT NOT NULL, item_id BIGINT NOT NULL, town_id BIGINT NOT NULL, date TEXT NOT NULL,
                audience_size BIGINT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE INDEX relays_member ON relays (committee_id, member_id, id);

            CREATE TABLE reports (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                state INTEGER NOT NULL, adopted INTEGER NOT NULL, title TEXT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE INDEX reports_state ON reports (committee_id, state, id);

            CREATE TABLE bulletins (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                year BIGINT NOT NULL, number BIGINT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX bulletins_number_unique ON bulletins (committee_id, year, number);
            """ + NumberSequence.migration),
        // Each gram row carries its item's state: searches filtered by state walk the index alone.
        Migration(version: 2, name: "item grams carry the state", script: IntakeStore.gramIndex.addFacetMigration),
    ]
}

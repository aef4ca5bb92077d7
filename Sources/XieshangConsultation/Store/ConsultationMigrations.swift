import XieshangKit
import XieshangStore

/// Consultation's tables: each record as protobuf bytes (`body`) beside the columns filters use,
/// the bigram indexes of topics and consultations, and `bookings`: one row per venue or person a
/// scheduled meeting or duty shift holds, so conflict checks and free-slot searches are range
/// scans of one index.
enum ConsultationMigrations {
    static let all = [
        Migration(version: 1, name: "consultation", script: """
            CREATE TABLE consultation_plans (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                year INTEGER NOT NULL, state INTEGER NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX consultation_plans_year_unique ON consultation_plans (committee_id, year);

            CREATE TABLE consultation_topics (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                state INTEGER NOT NULL, source INTEGER NOT NULL, category TEXT NOT NULL,
                search_text TEXT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE INDEX consultation_topics_state ON consultation_topics (committee_id, state, id);

            CREATE TABLE consultations (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                step INTEGER NOT NULL, form INTEGER NOT NULL, level INTEGER NOT NULL,
                sector_id BIGINT NOT NULL, town_id BIGINT NOT NULL, host_member_id BIGINT NOT NULL,
                unit_keys TEXT NOT NULL, topic_id BIGINT NOT NULL, held_year INTEGER NOT NULL,
                search_text TEXT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE INDEX consultations_step ON consultations (committee_id, step, id);
            CREATE INDEX consultations_held ON consultations (committee_id, held_year);
            CREATE UNIQUE INDEX consultations_topic_unique ON consultations (committee_id, topic_id) WHERE topic_id > 0;

            CREATE TABLE meetings (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                consultation_id BIGINT NOT NULL, venue_id BIGINT NOT NULL, start_min BIGINT NOT NULL,
                state INTEGER NOT NULL, member_keys TEXT NOT NULL, talks_pending INTEGER NOT NULL,
                body {{BLOB}} NOT NULL);
            CREATE INDEX meetings_consultation ON meetings (committee_id, consultation_id, id);
            CREATE INDEX meetings_start ON meetings (committee_id, start_min);

            CREATE TABLE bookings (
                committee_id BIGINT NOT NULL, resource TEXT NOT NULL, start_min BIGINT NOT NULL, end_min BIGINT NOT NULL,
                owner_kind TEXT NOT NULL, owner_id BIGINT NOT NULL, title TEXT NOT NULL);
            CREATE INDEX bookings_resource ON bookings (committee_id, resource, start_min);
            CREATE INDEX bookings_owner ON bookings (committee_id, owner_kind, owner_id, start_min);

            CREATE TABLE opinion_posts (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                consultation_id BIGINT NOT NULL, state INTEGER NOT NULL, body {{BLOB}} NOT NULL);
            CREATE INDEX opinion_posts_consultation ON opinion_posts (committee_id, consultation_id, state, id);

            CREATE TABLE liaison_activities (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                town_id BIGINT NOT NULL, kind INTEGER NOT NULL, on_date TEXT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE INDEX liaison_activities_date ON liaison_activities (committee_id, on_date);
            """ + ConsultationStore.topicGrams.migration + ConsultationStore.consultationGrams.migration + NumberSequence.migration),
        // Shifts worked (signed in or confirmed): kept apart from the bookings, so re-planning a
        // roster does not take back a shift someone worked.
        Migration(version: 2, name: "consultation_worked_shifts", script: """
            CREATE TABLE worked_shifts (
                committee_id BIGINT NOT NULL, station_id BIGINT NOT NULL, member_id BIGINT NOT NULL, day TEXT NOT NULL,
                hours TEXT NOT NULL, worked_at_ms BIGINT NOT NULL, confirmed_by TEXT NOT NULL,
                PRIMARY KEY (committee_id, station_id, member_id, day));
            """),
    ]
}

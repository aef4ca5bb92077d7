import XieshangStore

/// Notify's tables. `feeds` holds each feed's applied cursor, written in the same transaction as
/// the notifications, deadlines and deliveries its events made; `notifications` is keyed by
/// `dedup_key` (feed, event, kind, recipient; or the reminder's deadline, date and stage), so
/// nothing is made twice; reading is per account (`reads`, and `read_marks` for "all read up
/// to"); `deliveries` is the webhooks' outbox, one row per webhook and notification.
enum NotifyMigrations {
    static let all = [
        Migration(version: 1, name: "notify", script: """
            CREATE TABLE feeds (name TEXT PRIMARY KEY, applied_seq BIGINT NOT NULL, applied_at_ms BIGINT NOT NULL);
            INSERT INTO feeds (name, applied_seq, applied_at_ms) VALUES ('intake', 0, 0), ('proposals', 0, 0), ('consultation', 0, 0);

            CREATE TABLE notifications (
                id {{ID}}, committee_id BIGINT NOT NULL, kind TEXT NOT NULL,
                recipient_kind INTEGER NOT NULL, recipient_id BIGINT NOT NULL, ticket_code TEXT NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL,
                source TEXT NOT NULL, source_seq BIGINT NOT NULL, at_ms BIGINT NOT NULL, dedup_key TEXT NOT NULL UNIQUE);
            CREATE INDEX notifications_recipient ON notifications (committee_id, recipient_kind, recipient_id, id);
            CREATE INDEX notifications_ticket ON notifications (ticket_code, id);

            CREATE TABLE reads (account_id BIGINT NOT NULL, notification_id BIGINT NOT NULL,
                PRIMARY KEY (account_id, notification_id)) {{WITHOUT_ROWID}};
            CREATE TABLE read_marks (account_id BIGINT PRIMARY KEY, up_to_id BIGINT NOT NULL);
            CREATE TABLE ticket_reads (ticket_code TEXT PRIMARY KEY, up_to_id BIGINT NOT NULL);

            CREATE TABLE deadlines (
                dkey TEXT PRIMARY KEY, committee_id BIGINT NOT NULL, entity_kind TEXT NOT NULL, entity_id TEXT NOT NULL,
                subject TEXT NOT NULL, due TEXT NOT NULL, recipients TEXT NOT NULL, reminds_overdue INTEGER NOT NULL);
            CREATE INDEX deadlines_committee ON deadlines (committee_id);
            CREATE TABLE item_units (item_id BIGINT PRIMARY KEY, unit_id BIGINT NOT NULL);

            CREATE TABLE webhooks (
                id {{ID}}, committee_id BIGINT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL, kinds TEXT NOT NULL,
                disabled INTEGER NOT NULL, label TEXT NOT NULL, version BIGINT NOT NULL, deleted INTEGER NOT NULL);
            CREATE INDEX webhooks_committee ON webhooks (committee_id);
            CREATE TABLE deliveries (
                id {{ID}}, webhook_id BIGINT NOT NULL, committee_id BIGINT NOT NULL, notification_id BIGINT NOT NULL,
                state INTEGER NOT NULL, attempts INTEGER NOT NULL, next_attempt_ms BIGINT NOT NULL,
                last_status INTEGER NOT NULL, last_error TEXT NOT NULL, delivered_at_ms BIGINT NOT NULL, created_at_ms BIGINT NOT NULL,
                UNIQUE (webhook_id, notification_id));
            CREATE INDEX deliveries_due ON deliveries (state, next_attempt_ms);
            CREATE INDEX deliveries_webhook ON deliveries (webhook_id, id);

            CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
            """),
    ]
}

import XieshangStore

/// The directory's tables. Each holds the record as protobuf bytes (`body`) beside the columns
/// used for filters and unique keys; the columns are written from the record on every change.
enum DirectoryMigrations {
    static let all = [
        Migration(version: 1, name: "directory", script: """
            CREATE TABLE committees (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                code TEXT NOT NULL, name TEXT NOT NULL, parent_id BIGINT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX committees_code_unique ON committees (code);
            CREATE INDEX committees_parent ON committees (parent_id);

            CREATE TABLE terms (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                number BIGINT NOT NULL, name TEXT NOT NULL, archived INTEGER NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX terms_number_unique ON terms (committee_id, number);

            CREATE TABLE sectors (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                name TEXT NOT NULL, archived INTEGER NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX sectors_name_unique ON sectors (committee_id, name);

            CREATE TABLE parties (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                name TEXT NOT NULL, archived INTEGER NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX parties_name_unique ON parties (committee_id, name);

            CREATE TABLE special_committees (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                name TEXT NOT NULL, archived INTEGER NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX special_committees_name_unique ON special_committees (committee_id, name);

            CREATE TABLE areas (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                level INTEGER NOT NULL, parent_id BIGINT NOT NULL, name TEXT NOT NULL, archived INTEGER NOT NULL,
                body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX areas_name_unique ON areas (committee_id, parent_id, name);
            CREATE INDEX areas_level ON areas (committee_id, level, id);

            CREATE TABLE work_stations (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                name TEXT NOT NULL, level INTEGER NOT NULL, town_id BIGINT NOT NULL, archived INTEGER NOT NULL,
                body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX work_stations_name_unique ON work_stations (committee_id, name);

            CREATE TABLE units (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                name TEXT NOT NULL, kind INTEGER NOT NULL, archived INTEGER NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX units_name_unique ON units (committee_id, name);

            CREATE TABLE members (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                code TEXT NOT NULL, name TEXT NOT NULL, term_id BIGINT NOT NULL, sector_id BIGINT NOT NULL,
                party_id BIGINT NOT NULL, standing INTEGER NOT NULL, convenor INTEGER NOT NULL,
                residence_town_id BIGINT NOT NULL, work_town_id BIGINT NOT NULL, contact_town_id BIGINT NOT NULL,
                assistance_town_id BIGINT NOT NULL, station_id BIGINT NOT NULL, unit_id BIGINT NOT NULL,
                retired INTEGER NOT NULL, special_committees TEXT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX members_code_unique ON members (committee_id, code);
            CREATE INDEX members_sector ON members (committee_id, sector_id, id);
            CREATE INDEX members_station ON members (committee_id, station_id, id);
            CREATE INDEX members_name ON members (committee_id, name);

            CREATE TABLE accounts (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                username TEXT NOT NULL, display_name TEXT NOT NULL, roles TEXT NOT NULL, member_id BIGINT NOT NULL,
                unit_id BIGINT NOT NULL, disabled INTEGER NOT NULL, password_hash TEXT, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX accounts_username_unique ON accounts (username);

            CREATE TABLE api_tokens (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                account_id BIGINT NOT NULL, revoked INTEGER NOT NULL, expires_at_ms BIGINT NOT NULL,
                token_hash TEXT, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX api_tokens_hash_unique ON api_tokens (token_hash);
            CREATE INDEX api_tokens_account ON api_tokens (committee_id, account_id);

            CREATE TABLE calendar_years (
                id {{ID}}, committee_id BIGINT NOT NULL, version BIGINT NOT NULL,
                year BIGINT NOT NULL, body {{BLOB}} NOT NULL);
            CREATE UNIQUE INDEX calendar_years_year_unique ON calendar_years (committee_id, year);
            """),
        // Wrong passwords by username (LoginLock): no record body and no events, a counter only.
        Migration(version: 2, name: "login failures", script: """
            CREATE TABLE login_failures (
                username TEXT PRIMARY KEY, failures BIGINT NOT NULL, last_ms BIGINT NOT NULL, locked_until_ms BIGINT NOT NULL);
            """),
    ]
}

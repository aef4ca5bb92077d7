import XieshangStore

/// Analytics' tables. The projection (everything but `manual_duties` and `point_rules`) is
/// rebuilt from the feeds: `sources` holds each feed's applied cursor, written in the same
/// transaction as the rows it moved; `facts` one row per counted entity; `rollup` and
/// `rollup_year` their monthly and yearly sums per committee (and the duty entries' counts, kind
/// `duty`); `duties` every duty
/// record entry, `duty_counts` their yearly counts per member and `member_points` the points
/// those counts earn; the directory rows scopes need.
enum AnalyticsMigrations {
    static let measureColumns = "n BIGINT NOT NULL, base BIGINT NOT NULL, done BIGINT NOT NULL, timed BIGINT NOT NULL, on_time BIGINT NOT NULL, rated BIGINT NOT NULL, satisfied BIGINT NOT NULL, a BIGINT NOT NULL, b BIGINT NOT NULL, c BIGINT NOT NULL"

    static let measureNames = Measures.columnNames.joined(separator: ", ")

    static let all = [
        Migration(version: 1, name: "analytics", script: """
            CREATE TABLE sources (name TEXT PRIMARY KEY, applied_seq BIGINT NOT NULL, applied_at_ms BIGINT NOT NULL);
            INSERT INTO sources (name, applied_seq, applied_at_ms) VALUES ('directory', 0, 0), ('intake', 0, 0), ('proposals', 0, 0), ('consultation', 0, 0);

            CREATE TABLE facts (
                kind TEXT NOT NULL, id BIGINT NOT NULL, sub BIGINT NOT NULL, committee_id BIGINT NOT NULL,
                day INTEGER NOT NULL, state INTEGER NOT NULL, category TEXT NOT NULL,
                member_id BIGINT NOT NULL, town_id BIGINT NOT NULL, sector_id BIGINT NOT NULL,
                \(measureColumns), PRIMARY KEY (kind, id, sub)) {{WITHOUT_ROWID}};
            CREATE INDEX facts_committee_day ON facts (committee_id, day);
            CREATE INDEX facts_member_day ON facts (member_id, day);
            CREATE INDEX facts_town_day ON facts (town_id, day);
            CREATE INDEX facts_sector_day ON facts (sector_id, day);

            CREATE TABLE rollup (
                committee_id BIGINT NOT NULL, month INTEGER NOT NULL, kind TEXT NOT NULL, state INTEGER NOT NULL,
                category TEXT NOT NULL, \(measureColumns),
                PRIMARY KEY (committee_id, month, kind, state, category)) {{WITHOUT_ROWID}};

            CREATE TABLE duties (
                source TEXT NOT NULL, seq BIGINT NOT NULL, ordinal INTEGER NOT NULL,
                member_id BIGINT NOT NULL, committee_id BIGINT NOT NULL, kind INTEGER NOT NULL, day INTEGER NOT NULL,
                ref_kind TEXT NOT NULL, ref_id TEXT NOT NULL, note TEXT NOT NULL,
                PRIMARY KEY (source, seq, ordinal));
            CREATE INDEX duties_member_day ON duties (member_id, day);
            CREATE INDEX duties_committee_day ON duties (committee_id, day, kind);
            CREATE INDEX duties_ref ON duties (ref_kind, ref_id, day);

            CREATE TABLE duty_counts (
                member_id BIGINT NOT NULL, year INTEGER NOT NULL, kind INTEGER NOT NULL,
                committee_id BIGINT NOT NULL, n BIGINT NOT NULL,
                PRIMARY KEY (member_id, year, kind)) {{WITHOUT_ROWID}};
            CREATE INDEX duty_counts_committee ON duty_counts (committee_id, year);

            CREATE TABLE committees (id BIGINT PRIMARY KEY, parent_id BIGINT NOT NULL, name TEXT NOT NULL);
            CREATE TABLE towns (id BIGINT PRIMARY KEY, committee_id BIGINT NOT NULL, name TEXT NOT NULL, archived INTEGER NOT NULL);
            CREATE INDEX towns_committee ON towns (committee_id);
            CREATE TABLE stations (id BIGINT PRIMARY KEY, committee_id BIGINT NOT NULL, town_id BIGINT NOT NULL, name TEXT NOT NULL);
            CREATE TABLE members (
                id BIGINT PRIMARY KEY, committee_id BIGINT NOT NULL, name TEXT NOT NULL, sector_id BIGINT NOT NULL,
                station_id BIGINT NOT NULL, residence_town_id BIGINT NOT NULL, work_town_id BIGINT NOT NULL,
                contact_town_id BIGINT NOT NULL, assistance_town_id BIGINT NOT NULL, active INTEGER NOT NULL);
            CREATE INDEX members_committee ON members (committee_id);
            CREATE INDEX members_sector ON members (sector_id);
            CREATE INDEX members_station ON members (station_id);

            CREATE TABLE manual_duties (
                id {{ID}}, committee_id BIGINT NOT NULL, member_id BIGINT NOT NULL, kind INTEGER NOT NULL,
                day INTEGER NOT NULL, note TEXT NOT NULL, recorded_by TEXT NOT NULL);
            CREATE TABLE point_rules (committee_id BIGINT PRIMARY KEY, version BIGINT NOT NULL, body {{BLOB}} NOT NULL);
            """),
        // Dashboards without reading whole years of facts: the indexes that find a committee's,
        // a town's and members' facts also carry what is summed (the edge days of a period and
        // scoped figures are read from the index alone); a sector's facts by committee first
        // (sector ids are shared by the committees); members' duty entries likewise; each
        // member's yearly points kept as their counts move, so a ranking reads one row per
        // member instead of scoring their counts; yearly sums beside the monthly ones.
        // `AnalyticsStore.migrate` fills the points of an existing projection.
        Migration(version: 2, name: "analytics_scoped_dashboards", script: """
            DROP INDEX facts_committee_day;
            DROP INDEX facts_town_day;
            DROP INDEX facts_sector_day;
            CREATE INDEX facts_committee_day ON facts (committee_id, day, kind, state, category, \(measureNames));
            CREATE INDEX facts_town_day ON facts (committee_id, town_id, day, kind, state, category, \(measureNames));
            CREATE INDEX facts_sector_day ON facts (committee_id, sector_id, day);
            DROP INDEX facts_member_day;
            CREATE INDEX facts_member_day ON facts (member_id, day, committee_id, sector_id, kind, state, category, \(measureNames));
            DROP INDEX duties_member_day;
            CREATE INDEX duties_member_day ON duties (member_id, day, kind, committee_id);
            CREATE TABLE member_points (
                member_id BIGINT NOT NULL, year INTEGER NOT NULL, committee_id BIGINT NOT NULL, points BIGINT NOT NULL,
                PRIMARY KEY (member_id, year)) {{WITHOUT_ROWID}};
            CREATE INDEX member_points_rank ON member_points (committee_id, year, points);
            CREATE TABLE rollup_year (
                committee_id BIGINT NOT NULL, year INTEGER NOT NULL, kind TEXT NOT NULL, state INTEGER NOT NULL,
                category TEXT NOT NULL, \(measureColumns),
                PRIMARY KEY (committee_id, year, kind, state, category)) {{WITHOUT_ROWID}};
            INSERT INTO rollup_year (committee_id, year, kind, state, category, \(measureNames))
                SELECT committee_id, month / 100, kind, state, category, \(Measures.columnNames.map { "SUM(\($0))" }.joined(separator: ", "))
                FROM rollup GROUP BY committee_id, month / 100, kind, state, category;
            """),
        // A manual entry recorded by mistake is voided, not deleted: the record keeps who voided it and why.
        Migration(version: 3, name: "analytics_voided_duties", script: """
            ALTER TABLE manual_duties ADD COLUMN voided_at_ms BIGINT NOT NULL DEFAULT 0;
            ALTER TABLE manual_duties ADD COLUMN void_reason TEXT NOT NULL DEFAULT '';
            ALTER TABLE manual_duties ADD COLUMN voided_by TEXT NOT NULL DEFAULT '';
            """),
    ]

    /// The projection's tables, emptied by a rebuild.
    static let projectionTables = ["facts", "rollup", "rollup_year", "duties", "duty_counts", "member_points", "committees", "towns", "stations", "members"]
}

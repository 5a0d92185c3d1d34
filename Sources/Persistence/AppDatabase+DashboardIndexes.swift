extension AppDatabase {
    /// What the dashboard's overview and activity pages read, each a range search of an index whatever the tables
    /// hold (docs/performance.md, "Dashboard queries"):
    ///
    /// - `jobs_integration_status`: an integration's jobs by status and when they last changed. The overview's
    ///   backlog, needs-mapping and held counts (one range per integration and status, read from the index alone),
    ///   its last 24 hours of finished jobs by hour (a range of `updated_at`), the newest succeeded job, and the
    ///   activity page's counts by status within a scope (with `record_type` in the index, so a record-type filter
    ///   reads no table row either).
    /// - `jobs_integration`: an integration's jobs newest first, for the activity page's jobs of some integrations (a
    ///   platform's, a school's): each walked until the page is full, instead of sorting all of theirs.
    /// - `sync_operations_mode`: an integration's newest incremental sync, which its next scheduled one follows
    ///   (the scheduler asks the same).
    static let dashboardIndexes = """
        CREATE INDEX jobs_integration_status ON jobs(integration_id, status, updated_at, record_type);
        CREATE INDEX jobs_integration ON jobs(integration_id, seq);
        CREATE INDEX sync_operations_mode ON sync_operations(integration_id, mode, created_at);
        """

    /// What a person searching records (`searchRecords`) looks them up by: `record_search`, the terms each record
    /// is known by, written with each version stored (`PendingIndexes`) — its number, its customer's id,
    /// and a customer's name in lower case after `name:` (prefix ranges) — each version's, so a number
    /// or name a record once had finds it too. A term a record already has costs a primary-key probe, no write: a
    /// narrow table written from the values ingestion has already decoded, where indexes on `json_extract` of every
    /// version would parse each version's JSON once per index.
    static let recordSearchTable = """
        CREATE TABLE record_search (
            term TEXT NOT NULL,
            record_id TEXT NOT NULL,
            PRIMARY KEY (term, record_id)
        ) WITHOUT ROWID;
        """ + recordSearchBackfill

    /// Fills `record_search` from the records and versions already stored, in SQL: for the migration, or a database
    /// filled in bulk (`dashboard-seed`).
    public static let recordSearchBackfill = """
        INSERT OR IGNORE INTO record_search (term, record_id)
            SELECT json_extract(data, '$.number'), record_id FROM record_versions
            WHERE json_type(data, '$.number') = 'text';
        INSERT OR IGNORE INTO record_search (term, record_id)
            SELECT json_extract(data, '$.customer_id'), record_id FROM record_versions
            WHERE json_type(data, '$.customer_id') = 'text';
        INSERT OR IGNORE INTO record_search (term, record_id)
            SELECT 'name:' || lower(json_extract(data, '$.name')), record_id FROM record_versions
            WHERE json_type(data, '$.name') = 'text';
        """
}

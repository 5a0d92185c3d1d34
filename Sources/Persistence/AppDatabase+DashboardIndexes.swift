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

    /// What a person searching records (`searchRecords`) looks them up by, each an index: billing's id alone (the
    /// unique key starts with the tenant and type), and in every version, its number, its customer's billing id, and
    /// a customer's name in lower case (prefix ranges).
    static let recordSearchIndexes = """
        CREATE INDEX records_local_id ON records(local_id);
        CREATE INDEX record_versions_number ON record_versions(json_extract(data, '$.number'));
        CREATE INDEX record_versions_customer ON record_versions(json_extract(data, '$.customer_id'));
        CREATE INDEX record_versions_name ON record_versions(lower(json_extract(data, '$.name')));
        """
}

extension AppDatabase {
    /// What the dashboard's Deliveries and Audit log pages filter by, newest first, each a range search of an index
    /// however many rows the tables hold (docs/performance.md, "Dashboard queries"):
    ///
    /// - `deliveries_source`: a source's deliveries in order (the rowid is in the index). Without it the planner reads
    ///   every delivery of the source through the `UNIQUE (source, webhook_id)` index and sorts them: 7 s for
    ///   billing's million.
    /// - `integration_audit_log_integration`: an integration's entries; partial, as most entries (records billing
    ///   sent) belong to no integration and cost it nothing.
    /// - `integration_audit_log_action`, `integration_audit_log_actor`: an action's, an actor's entries. Without them
    ///   a rare one (`delivery.replayed`, a person) is a scan of the whole log: 2.5 s at 1,200,000 entries.
    ///
    /// Each grows at its right edge (the ids and `seq` increase), so a group commit dirties a page or two of each.
    static let inboxAndAuditFilterIndexes = """
        CREATE INDEX deliveries_source ON deliveries(source);
        CREATE INDEX integration_audit_log_integration ON integration_audit_log(integration_id, seq)
            WHERE integration_id IS NOT NULL;
        CREATE INDEX integration_audit_log_action ON integration_audit_log(action, seq);
        CREATE INDEX integration_audit_log_actor ON integration_audit_log(actor, seq);
        """
}

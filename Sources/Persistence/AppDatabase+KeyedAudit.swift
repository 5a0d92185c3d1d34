extension AppDatabase {
    /// The audit chain becomes keyed and resists truncation (issue 11, item 7).
    ///
    /// - `integration_audit_log.algorithm`: how each entry's hash is made; the entries already there stay bare
    ///   SHA-256 (`sha256`) and still verify, every later one is an HMAC under the key derived from the master key
    ///   (`hmac-sha256`), and an unkeyed entry may never follow a keyed one.
    /// - `audit_checkpoint`: one row, signed the same way, naming the chain's start (the retention anchor) and its
    ///   newest entry; it moves with every append in the same transaction, so removing the newest entries is noticed.
    ///   The migration has no key: the first open with the master key signs the chain as it is.
    /// - DELETE is refused like UPDATE, except for entries at or before the retention anchor: pruning moves the anchor
    ///   first, then deletes up to it.
    static let keyedAudit = """
        ALTER TABLE integration_audit_log ADD COLUMN algorithm TEXT NOT NULL DEFAULT 'sha256'
            CHECK (algorithm IN ('sha256', 'hmac-sha256'));
        CREATE TABLE audit_checkpoint (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            anchor_seq INTEGER NOT NULL,
            anchor_hash TEXT NOT NULL,
            head_seq INTEGER NOT NULL,
            head_hash TEXT NOT NULL,
            mac TEXT NOT NULL
        );
        CREATE TRIGGER integration_audit_log_no_delete BEFORE DELETE ON integration_audit_log
            WHEN OLD.seq > COALESCE((SELECT seq FROM audit_anchor WHERE id = 1), 0)
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: only retention prunes it, behind its anchor'); END;
        """
}

import GRDB

extension AppDatabase {
    /// Migrations are never edited once they land; a change is a new migration.
    /// - Parameter auditKey: signs the audit checkpoint that "0012 keyed audit chain" starts.
    static func migrator(auditKey: AuditKey) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001 seed data model") { db in
            try db.execute(sql: seedDataModel)
        }
        migrator.registerMigration("0002 ingestion") { db in
            try db.execute(sql: ingestion)
        }
        migrator.registerMigration("0003 lean ingestion writes") { db in
            try db.execute(sql: leanIngestionWrites)
        }
        migrator.registerMigration("0004 jobs") { db in
            try db.execute(sql: jobs)
        }
        migrator.registerMigration("0005 outbound events") { db in
            try db.execute(sql: outboundEvents)
        }
        migrator.registerMigration("0006 credentials") { db in
            try db.execute(sql: credentials)
        }
        migrator.registerMigration("0007 job dependencies") { db in
            try db.execute(sql: jobDependencies)
        }
        migrator.registerMigration("0008 sync operations") { db in
            try db.execute(sql: syncOperations)
        }
        migrator.registerMigration("0009 ledger changes and conflicts") { db in
            try db.execute(sql: ledgerChangesAndConflicts)
        }
        migrator.registerMigration("0010 ledger notifications") { db in
            try db.execute(sql: ledgerNotifications)
        }
        migrator.registerMigration("0011 job deferrals") { db in
            try db.execute(sql: jobDeferrals)
        }
        migrator.registerMigration("0012 keyed audit chain") { db in
            try db.execute(sql: keyedAudit)
            // Signed in the migration's own transaction: the chain as it stands when keying starts. Once the
            // migration is recorded, a missing checkpoint can only mean someone removed it, and nothing re-signs it.
            try AuditLog.startCheckpoint(db, key: auditKey)
        }
        migrator.registerMigration("0013 delivery body history") { db in
            try db.execute(sql: deliveryBodyHistory)
        }
        migrator.registerMigration("0014 one integration per remote tenant") { db in
            try db.execute(sql: oneIntegrationPerRemoteTenant)
        }
        migrator.registerMigration("0015 job missing mappings") { db in
            // Every billing code a job parked as needs_mapping waits for: a JSON array of {kind, code}.
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN last_error_missing TEXT")
        }
        migrator.registerMigration("0016 reachability and verified full syncs") { db in
            try db.execute(sql: reachabilityAndVerifiedFullSyncs)
        }
        migrator.registerMigration("0017 jobs waiting for unsent records") { db in
            // Ingesting a record wakes the jobs waiting for it by `waiting_for` alone (`unsent:<type>:<id>`): found
            // through this index, not by scanning the tenant's jobs or every waiting job.
            try db.execute(sql: "CREATE INDEX jobs_waiting_for ON jobs(waiting_for) WHERE waiting_for IS NOT NULL")
        }
        migrator.registerMigration("0018 platform mailbox") { db in
            try db.execute(sql: platformMailbox)
        }
        migrator.registerMigration("0019 open mapping kinds") { db in
            // A mapping's kind is the connector's to validate (each platform declares its own: Tally's ledgers, …):
            // the table is rebuilt without its CHECK, keeping every row.
            try db.execute(sql: openMappingKinds)
        }
        migrator.registerMigration("0020 connections") { db in
            try db.execute(sql: connections)
        }
        migrator.registerMigration("0021 users and web sessions") { db in
            try db.execute(sql: usersAndWebSessions)
        }
        migrator.registerMigration("0022 dashboard indexes") { db in
            try db.execute(sql: dashboardIndexes)
        }
        migrator.registerMigration("0023 inbox and audit filters") { db in
            try db.execute(sql: inboxAndAuditFilterIndexes)
        }
        migrator.registerMigration("0024 record search") { db in
            try db.execute(sql: recordSearchTable)
        }
        migrator.registerMigration("0025 school settings") { db in
            try db.execute(sql: schoolSettings)
        }
        migrator.registerMigration("0026 billing codes") { db in
            try db.execute(sql: billingCodesTable)
        }
        migrator.registerMigration("0027 agent tokens") { db in
            try db.execute(sql: agentTokens)
        }
        migrator.registerMigration("0028 records by type in order") { db in
            // A full sync's pages walk one tenant's records of one type in rowid order: every index entry ends with
            // the rowid, so this index is that order, and a page is a range of it instead of a scan and a sort of
            // every record of the type.
            try db.execute(sql: "CREATE INDEX records_type_order ON records(tenant_id, record_type)")
        }
        migrator.registerMigration("0029 web connector") { db in
            try db.execute(sql: webConnector)
        }
        return migrator
    }

    /// The seed data model, adapted to SQLite: JSON as TEXT, instants as RFC 3339 UTC TEXT,
    /// source modification times as integer microseconds (exact comparisons).
    private static let seedDataModel = """
        CREATE TABLE integration_configs (
            id TEXT PRIMARY KEY NOT NULL,
            tenant_id TEXT NOT NULL,
            platform TEXT NOT NULL,
            name TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'connected', 'disconnected', 'disabled')),
            settings TEXT NOT NULL DEFAULT '{}',
            sealed_secrets BLOB,
            sync TEXT NOT NULL DEFAULT '{}',
            last_sync_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX integration_configs_tenant ON integration_configs(tenant_id);

        CREATE TABLE sync_operations (
            id TEXT PRIMARY KEY NOT NULL,
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            mode TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
            status TEXT NOT NULL,
            records_processed INTEGER NOT NULL DEFAULT 0,
            records_failed INTEGER NOT NULL DEFAULT 0,
            checkpoint TEXT,
            started_at TEXT,
            finished_at TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX sync_operations_integration ON sync_operations(integration_id, created_at);

        -- Canonical records: billing's view of each record, at its newest version.
        CREATE TABLE records (
            id TEXT PRIMARY KEY NOT NULL,
            tenant_id TEXT NOT NULL,
            record_type TEXT NOT NULL,
            local_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('upsert', 'void')),
            source_updated_at INTEGER NOT NULL,
            data TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (tenant_id, record_type, local_id)
        );

        -- Every version of every record, never updated or deleted.
        CREATE TABLE record_versions (
            record_id TEXT NOT NULL REFERENCES records(id),
            version INTEGER NOT NULL,
            action TEXT NOT NULL,
            source_updated_at INTEGER NOT NULL,
            data TEXT NOT NULL,
            delivery_id TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (record_id, version)
        ) WITHOUT ROWID;

        -- The link between a canonical record and its copy in one integration's books.
        CREATE TABLE synchronized_records (
            id TEXT PRIMARY KEY NOT NULL,
            record_id TEXT NOT NULL REFERENCES records(id),
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            remote_id TEXT,
            remote_version TEXT,
            status TEXT NOT NULL,
            last_synced_at TEXT,
            UNIQUE (record_id, integration_id)
        );
        CREATE INDEX synchronized_records_remote ON synchronized_records(integration_id, remote_id);

        CREATE TABLE field_mappings (
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('account', 'tax_code', 'item', 'deposit_account')),
            local_code TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (integration_id, kind, local_code)
        ) WITHOUT ROWID;

        -- Append-only and hash-chained: hash = SHA-256(prev_hash, fields); see AuditEntry.
        CREATE TABLE integration_audit_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            occurred_at TEXT NOT NULL,
            tenant_id TEXT,
            integration_id TEXT,
            record_id TEXT,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity_type TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX integration_audit_log_record ON integration_audit_log(record_id);
        CREATE INDEX integration_audit_log_tenant ON integration_audit_log(tenant_id, seq);
        CREATE TRIGGER integration_audit_log_no_update BEFORE UPDATE ON integration_audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """

    private static let ingestion = """
        CREATE TABLE webhook_sources (
            id TEXT PRIMARY KEY NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('billing', 'quickbooks', 'xero')),
            sealed_secret BLOB NOT NULL,
            created_at TEXT NOT NULL
        );

        -- The inbox: every signed delivery, its raw body kept, once per (source, webhook id).
        CREATE TABLE deliveries (
            id TEXT PRIMARY KEY NOT NULL,
            source TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('accepted', 'duplicate', 'superseded', 'rejected', 'unroutable')),
            tenant_id TEXT,
            event_type TEXT,
            received_at TEXT NOT NULL,
            headers TEXT NOT NULL,
            body BLOB NOT NULL,
            original_body BLOB,
            errors TEXT NOT NULL DEFAULT '[]',
            replays INTEGER NOT NULL DEFAULT 0,
            last_replayed_at TEXT,
            UNIQUE (source, webhook_id)
        );
        CREATE INDEX deliveries_status ON deliveries(status);
        CREATE INDEX deliveries_tenant ON deliveries(tenant_id);

        -- Commands normalized from deliveries; the idempotency key makes each change count once.
        CREATE TABLE commands (
            id TEXT PRIMARY KEY NOT NULL,
            delivery_id TEXT NOT NULL REFERENCES deliveries(id),
            idempotency_key TEXT NOT NULL UNIQUE,
            tenant_id TEXT NOT NULL,
            record_type TEXT NOT NULL,
            local_id TEXT NOT NULL,
            action TEXT NOT NULL,
            source_updated_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('applied', 'superseded')),
            record_id TEXT,
            version INTEGER,
            created_at TEXT NOT NULL
        );
        CREATE INDEX commands_delivery ON commands(delivery_id);

        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
            tenant_id TEXT,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        """

    /// Fewer pages and B-tree writes per acknowledged delivery (docs/performance.md).
    ///
    /// - `record_versions` becomes a rowid table: as a WITHOUT ROWID table each ~1 KB version spilled into an
    ///   overflow page of its own, three quarters empty, so every version cost two fresh pages.
    /// - `records` keeps no copy of its data: a record is its current version's number, and the data is that
    ///   version's (one copy of each state instead of two).
    /// - `commands` goes: an applied command is its record version (record, version, action, `updated_at`,
    ///   delivery), so the idempotency check reads the record and its versions instead of keeping a second
    ///   copy with four more B-trees to update per command.
    /// - The audit log's `seq` is a plain integer key: the newest entry is never pruned, so it still only grows,
    ///   without AUTOINCREMENT's `sqlite_sequence` write per entry; its `id` is not indexed (nothing looks it up).
    /// - Deliveries are indexed by status only where a person needs to look: not `accepted`.
    private static let leanIngestionWrites = """
        CREATE TABLE record_versions_0003 (
            seq INTEGER PRIMARY KEY,
            record_id TEXT NOT NULL REFERENCES records(id),
            version INTEGER NOT NULL,
            action TEXT NOT NULL,
            source_updated_at INTEGER NOT NULL,
            data TEXT NOT NULL,
            delivery_id TEXT,
            created_at TEXT NOT NULL,
            UNIQUE (record_id, version)
        );
        INSERT INTO record_versions_0003 (record_id, version, action, source_updated_at, data, delivery_id, created_at)
            SELECT record_id, version, action, source_updated_at, data, delivery_id, created_at
            FROM record_versions ORDER BY created_at, record_id, version;
        DROP TABLE record_versions;
        ALTER TABLE record_versions_0003 RENAME TO record_versions;

        CREATE TABLE records_0003 (
            id TEXT PRIMARY KEY NOT NULL,
            tenant_id TEXT NOT NULL,
            record_type TEXT NOT NULL,
            local_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('upsert', 'void')),
            source_updated_at INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (tenant_id, record_type, local_id)
        );
        INSERT INTO records_0003
            SELECT id, tenant_id, record_type, local_id, version, action, source_updated_at, created_at, updated_at
            FROM records ORDER BY rowid;
        DROP TABLE records;
        ALTER TABLE records_0003 RENAME TO records;

        DROP TABLE commands;

        CREATE TABLE integration_audit_log_0003 (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            tenant_id TEXT,
            integration_id TEXT,
            record_id TEXT,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity_type TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            old_value TEXT,
            new_value TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        INSERT INTO integration_audit_log_0003
            SELECT seq, id, occurred_at, tenant_id, integration_id, record_id, actor, action, entity_type, entity_id,
                old_value, new_value, prev_hash, hash
            FROM integration_audit_log ORDER BY seq;
        DROP TABLE integration_audit_log;
        ALTER TABLE integration_audit_log_0003 RENAME TO integration_audit_log;
        CREATE INDEX integration_audit_log_record ON integration_audit_log(record_id);
        CREATE INDEX integration_audit_log_tenant ON integration_audit_log(tenant_id, seq);
        CREATE TRIGGER integration_audit_log_no_update BEFORE UPDATE ON integration_audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

        DROP INDEX deliveries_status;
        CREATE INDEX deliveries_needing_attention ON deliveries(status) WHERE status <> 'accepted';
        """

    /// The sync engine's queue: one job per (integration, record version) to push, claimed with a lease.
    ///
    /// `seq` orders jobs of the same (integration, record); instants the queue compares are integer microseconds.
    private static let jobs = """
        CREATE TABLE jobs (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            tenant_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('push')),
            record_id TEXT NOT NULL REFERENCES records(id),
            record_type TEXT NOT NULL,
            local_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'needs_mapping', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            lease_owner TEXT,
            lease_expires_at INTEGER,
            last_error_code TEXT,
            last_error_message TEXT,
            remote_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX jobs_open ON jobs(status, next_attempt_at) WHERE status IN ('pending', 'running');
        CREATE INDEX jobs_record ON jobs(integration_id, record_id, seq);
        CREATE INDEX jobs_status ON jobs(status, seq);
        CREATE INDEX jobs_tenant ON jobs(tenant_id, seq);

        -- Every attempt of every job, as it ended.
        CREATE TABLE job_attempts (
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            worker TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            outcome TEXT NOT NULL
                CHECK (outcome IN ('succeeded', 'retry', 'failed', 'needs_mapping', 'dead', 'abandoned')),
            error_code TEXT,
            error_message TEXT,
            PRIMARY KEY (job_id, attempt)
        ) WITHOUT ROWID;
        """

    /// Ledgerwire's own events and their delivery to webhook subscriptions (an outbox: an event is stored in the
    /// transaction that caused it, with one delivery per matching subscription, and sent afterwards).
    private static let outboundEvents = """
        CREATE TABLE webhook_subscriptions (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            tenant_id TEXT,
            url TEXT NOT NULL,
            event_types TEXT NOT NULL,
            description TEXT,
            sealed_secret BLOB NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
            disabled_reason TEXT,
            failing_since INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            tenant_id TEXT,
            integration_id TEXT,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL
        );

        CREATE TABLE event_deliveries (
            seq INTEGER PRIMARY KEY,
            subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
            event_id TEXT NOT NULL REFERENCES events(id),
            status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            lease_expires_at INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (subscription_id, event_id)
        );
        CREATE INDEX event_deliveries_open ON event_deliveries(next_attempt_at) WHERE status IN ('pending', 'sending');

        -- Every attempt to deliver an event, as it ended.
        CREATE TABLE event_delivery_attempts (
            seq INTEGER PRIMARY KEY,
            delivery_seq INTEGER NOT NULL REFERENCES event_deliveries(seq) ON DELETE CASCADE,
            subscription_id TEXT NOT NULL,
            event_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            attempted_at TEXT NOT NULL,
            duration_ms INTEGER NOT NULL,
            response_status INTEGER,
            error TEXT
        );
        CREATE INDEX event_delivery_attempts_subscription ON event_delivery_attempts(subscription_id, seq);
        """

    /// OAuth tokens (sealed, with a generation that every refresh moves on, so a save can tell it is still the
    /// newest) and the single-use `state` of authorizations in progress (hashed; the PKCE verifier sealed).
    private static let credentials = """
        CREATE TABLE integration_credentials (
            integration_id TEXT PRIMARY KEY NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            sealed_tokens BLOB NOT NULL,
            access_expires_at INTEGER NOT NULL,
            refresh_expires_at INTEGER,
            remote_tenant_id TEXT,
            generation INTEGER NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX integration_credentials_remote_tenant ON integration_credentials(remote_tenant_id);

        CREATE TABLE oauth_states (
            state_hash TEXT PRIMARY KEY NOT NULL,
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            sealed_verifier BLOB,
            actor TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    /// A job waiting for a record it refers to (its customer, an invoice) names that record, so the job is woken
    /// the moment the record is in the books.
    private static let jobDependencies = """
        ALTER TABLE jobs ADD COLUMN waiting_for TEXT;
        CREATE INDEX jobs_waiting ON jobs(integration_id, waiting_for) WHERE waiting_for IS NOT NULL;
        """

    /// Full syncs as resumable operations: a lease (whoever runs it), a checkpoint (how far it got), its jobs
    /// tagged with it, and which version of each record an integration's books hold.
    private static let syncOperations = """
        ALTER TABLE sync_operations ADD COLUMN tenant_id TEXT;
        ALTER TABLE sync_operations ADD COLUMN records_total INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sync_operations ADD COLUMN records_skipped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sync_operations ADD COLUMN requested_by TEXT;
        ALTER TABLE sync_operations ADD COLUMN lease_owner TEXT;
        ALTER TABLE sync_operations ADD COLUMN lease_expires_at INTEGER;
        CREATE INDEX sync_operations_open ON sync_operations(status) WHERE status IN ('pending', 'running');

        ALTER TABLE jobs ADD COLUMN operation_id TEXT;
        CREATE INDEX jobs_operation ON jobs(operation_id, status) WHERE operation_id IS NOT NULL;

        ALTER TABLE synchronized_records ADD COLUMN local_version INTEGER;
        """

    /// The other direction, and what happens when both sides changed a record.
    ///
    /// - `jobs` is rebuilt for two more statuses: `held` (its record has an open conflict under the `manual`
    ///   policy, so it waits for a person) and `superseded` (a conflict was decided for the books' version, so this
    ///   version of billing's record is not pushed).
    /// - `remote_changes`: every change heard from a platform (change feed or webhook), unique per version, so a
    ///   change heard twice is handled once; processed in order per integration.
    /// - `conflicts`: both versions as they were, the policy that decided, and the resolution.
    /// - `synchronized_records.remote_updated_at`: when the books' copy last changed as far as we know, so a change
    ///   heard out of order (older than what we know) is recognised.
    /// - `integration_configs.change_cursor`: where the platform's change feed continues from.
    /// - `audit_anchor`: the last entry retention pruned, so the chain's verification starts from it.
    private static let ledgerChangesAndConflicts = """
        CREATE TABLE jobs_0009 (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            tenant_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('push')),
            record_id TEXT NOT NULL REFERENCES records(id),
            record_type TEXT NOT NULL,
            local_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'needs_mapping', 'dead', 'held',
                    'superseded')),
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            lease_owner TEXT,
            lease_expires_at INTEGER,
            last_error_code TEXT,
            last_error_message TEXT,
            remote_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            waiting_for TEXT,
            operation_id TEXT
        );
        INSERT INTO jobs_0009 (seq, id, integration_id, tenant_id, kind, record_id, record_type, local_id, version,
            status, attempts, max_attempts, next_attempt_at, lease_owner, lease_expires_at, last_error_code,
            last_error_message, remote_id, created_at, updated_at, waiting_for, operation_id)
        SELECT seq, id, integration_id, tenant_id, kind, record_id, record_type, local_id, version,
            status, attempts, max_attempts, next_attempt_at, lease_owner, lease_expires_at, last_error_code,
            last_error_message, remote_id, created_at, updated_at, waiting_for, operation_id
        FROM jobs;
        DROP TABLE jobs;
        ALTER TABLE jobs_0009 RENAME TO jobs;
        CREATE INDEX jobs_open ON jobs(status, next_attempt_at) WHERE status IN ('pending', 'running');
        CREATE INDEX jobs_record ON jobs(integration_id, record_id, seq);
        CREATE INDEX jobs_status ON jobs(status, seq);
        CREATE INDEX jobs_tenant ON jobs(tenant_id, seq);
        CREATE INDEX jobs_waiting ON jobs(integration_id, waiting_for) WHERE waiting_for IS NOT NULL;
        CREATE INDEX jobs_operation ON jobs(operation_id, status) WHERE operation_id IS NOT NULL;

        CREATE TABLE remote_changes (
            seq INTEGER PRIMARY KEY,
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            tenant_id TEXT NOT NULL,
            record_type TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            -- The platform's version, or its modification instant where it has none.
            remote_version TEXT NOT NULL,
            remote_updated_at INTEGER NOT NULL,
            deleted INTEGER NOT NULL,
            data TEXT NOT NULL,
            source TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'applied', 'echo', 'stale', 'conflict', 'unmatched')),
            record_id TEXT,
            conflict_id TEXT,
            received_at TEXT NOT NULL,
            processed_at TEXT,
            UNIQUE (integration_id, record_type, remote_id, remote_version)
        );
        CREATE INDEX remote_changes_pending ON remote_changes(integration_id, seq) WHERE status = 'pending';

        CREATE TABLE conflicts (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            tenant_id TEXT NOT NULL,
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            record_id TEXT NOT NULL REFERENCES records(id),
            record_type TEXT NOT NULL,
            local_id TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            policy TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
            local_version INTEGER NOT NULL,
            local_updated_at INTEGER NOT NULL,
            local_data TEXT NOT NULL,
            remote_version TEXT NOT NULL,
            remote_updated_at INTEGER NOT NULL,
            remote_data TEXT NOT NULL,
            resolution TEXT CHECK (resolution IN ('use_local', 'use_remote', 'custom')),
            resolved_values TEXT,
            resolved_by TEXT,
            resolved_at TEXT,
            detected_at TEXT NOT NULL
        );
        CREATE INDEX conflicts_open ON conflicts(integration_id, record_id) WHERE status = 'open';
        CREATE INDEX conflicts_tenant ON conflicts(tenant_id, seq);
        CREATE INDEX conflicts_status ON conflicts(status, seq);

        ALTER TABLE synchronized_records ADD COLUMN remote_updated_at INTEGER;
        ALTER TABLE integration_configs ADD COLUMN change_cursor TEXT;

        CREATE TABLE audit_anchor (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            hash TEXT NOT NULL,
            pruned_at TEXT NOT NULL
        );
        """

    /// What platforms' webhooks said changed (an entity and its id, not its data): fetched by the workers, then
    /// handled like any change heard from the books. The idempotency key makes a redelivery, or the same change in
    /// the other format, count once.
    private static let ledgerNotifications = """
        CREATE TABLE ledger_notifications (
            id TEXT PRIMARY KEY NOT NULL,
            delivery_id TEXT NOT NULL,
            integration_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            record_type TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            operation TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'fetched')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ledger_notifications_due ON ledger_notifications(next_attempt_at) WHERE status = 'pending';
        """

    /// How many times the platform turned a job away (throttled, in maintenance) without doing anything: such an
    /// answer does not use up an attempt, and the wait before the next grows with this count instead.
    /// Their attempts are recorded as `deferred` (SQLite cannot change a CHECK constraint in place: the table is
    /// rebuilt).
    private static let jobDeferrals = """
        ALTER TABLE jobs ADD COLUMN deferrals INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE job_attempts_0011 (
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            worker TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            outcome TEXT NOT NULL
                CHECK (outcome IN ('succeeded', 'retry', 'deferred', 'failed', 'needs_mapping', 'dead', 'abandoned')),
            error_code TEXT,
            error_message TEXT,
            PRIMARY KEY (job_id, attempt)
        ) WITHOUT ROWID;
        INSERT INTO job_attempts_0011 (job_id, attempt, worker, started_at, finished_at, outcome, error_code,
            error_message)
        SELECT job_id, attempt, worker, started_at, finished_at, outcome, error_code, error_message FROM job_attempts;
        DROP TABLE job_attempts;
        ALTER TABLE job_attempts_0011 RENAME TO job_attempts;
        """

    /// An integration whose platform could not be reached: since when, why, and when the engine tries it next (its
    /// jobs are not claimed before). A full sync's count of linked records it found in the books, and of those it
    /// pushed again because the books no longer held them.
    private static let reachabilityAndVerifiedFullSyncs = """
        ALTER TABLE integration_configs ADD COLUMN unreachable_since INTEGER;
        ALTER TABLE integration_configs ADD COLUMN unreachable_error_code TEXT;
        ALTER TABLE integration_configs ADD COLUMN unreachable_error_message TEXT;
        ALTER TABLE integration_configs ADD COLUMN next_check_at INTEGER;
        ALTER TABLE sync_operations ADD COLUMN records_verified INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sync_operations ADD COLUMN records_repushed INTEGER NOT NULL DEFAULT 0;
        """

    /// The mailbox channel, for platforms that call Ledgerwire or exchange files instead of answering requests.
    ///
    /// - `jobs` is rebuilt for one more status, `awaiting_platform`: its message is in the platform's mailbox, and it
    ///   holds no lease and uses no attempt until the reply wakes it.
    /// - `platform_messages`: the journal. Each message a connector sends a job's platform, in order within the job's
    ///   open conversation (`closed` once the job moves on), with the platform's reply once it is in, so the job's
    ///   next run replays the conversation from it and completes the same way whatever restarted in between.
    private static let platformMailbox = """
        CREATE TABLE jobs_0018 (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            tenant_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('push')),
            record_id TEXT NOT NULL REFERENCES records(id),
            record_type TEXT NOT NULL,
            local_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'needs_mapping', 'dead', 'held',
                    'superseded', 'awaiting_platform')),
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL,
            lease_owner TEXT,
            lease_expires_at INTEGER,
            last_error_code TEXT,
            last_error_message TEXT,
            remote_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            waiting_for TEXT,
            operation_id TEXT,
            deferrals INTEGER NOT NULL DEFAULT 0,
            last_error_missing TEXT
        );
        INSERT INTO jobs_0018 (seq, id, integration_id, tenant_id, kind, record_id, record_type, local_id, version,
            status, attempts, max_attempts, next_attempt_at, lease_owner, lease_expires_at, last_error_code,
            last_error_message, remote_id, created_at, updated_at, waiting_for, operation_id, deferrals,
            last_error_missing)
        SELECT seq, id, integration_id, tenant_id, kind, record_id, record_type, local_id, version,
            status, attempts, max_attempts, next_attempt_at, lease_owner, lease_expires_at, last_error_code,
            last_error_message, remote_id, created_at, updated_at, waiting_for, operation_id, deferrals,
            last_error_missing
        FROM jobs;
        DROP TABLE jobs;
        ALTER TABLE jobs_0018 RENAME TO jobs;
        CREATE INDEX jobs_open ON jobs(status, next_attempt_at) WHERE status IN ('pending', 'running');
        CREATE INDEX jobs_record ON jobs(integration_id, record_id, seq);
        CREATE INDEX jobs_status ON jobs(status, seq);
        CREATE INDEX jobs_tenant ON jobs(tenant_id, seq);
        CREATE INDEX jobs_waiting ON jobs(integration_id, waiting_for) WHERE waiting_for IS NOT NULL;
        CREATE INDEX jobs_operation ON jobs(operation_id, status) WHERE operation_id IS NOT NULL;
        CREATE INDEX jobs_waiting_for ON jobs(waiting_for) WHERE waiting_for IS NOT NULL;

        CREATE TABLE platform_messages (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            tenant_id TEXT NOT NULL,
            -- Its place in the job's open conversation, from 1.
            sequence INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            body TEXT NOT NULL,
            created_at TEXT NOT NULL,
            reply_content_type TEXT,
            reply TEXT,
            replied_at TEXT,
            closed INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX platform_messages_conversation ON platform_messages(job_id, sequence) WHERE closed = 0;
        CREATE INDEX platform_messages_outbox ON platform_messages(integration_id, seq)
            WHERE reply IS NULL AND closed = 0;
        """

    private static let openMappingKinds = """
        CREATE TABLE field_mappings_0019 (
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            local_code TEXT NOT NULL,
            remote_id TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (integration_id, kind, local_code)
        ) WITHOUT ROWID;
        INSERT INTO field_mappings_0019 (integration_id, kind, local_code, remote_id, updated_at)
            SELECT integration_id, kind, local_code, remote_id, updated_at FROM field_mappings;
        DROP TABLE field_mappings;
        ALTER TABLE field_mappings_0019 RENAME TO field_mappings;
        """
}

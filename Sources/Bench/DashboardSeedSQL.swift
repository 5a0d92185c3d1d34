/// The bulk statements of `dashboard-seed`, in order, with `:records`, `:jobs`, `:deliveries` and `:now`
/// (microseconds) bound, and `temp.seed_integrations (ii, id, tenant, platform)` holding the 20 integrations (2 per
/// school: `ii = 2 × school + slot`). Ids are numbered in insertion order, so every B-tree is appended to.
enum DashboardSeedSQL {
    /// RFC 3339 UTC with microseconds, as the store writes instants, of an integer microseconds expression.
    static func text(_ micros: String) -> String {
        "(strftime('%Y-%m-%dT%H:%M:%S', (\(micros)) / 1000000, 'unixepoch') || printf('.%06dZ', (\(micros)) % 1000000))"
    }

    static let hour = "3600000000"
    static let day = "86400000000"
    /// Record `i`'s last change: the records are spread over the last year, the newest a minute ago.
    static let recordTime = "(:now - (:records - i) * (31536000000000 / :records) - 60000000)"
    /// The record type of record `i` (varied within each school: the school is `(i - 1) % 10`).
    static let recordType = """
        (CASE WHEN (i / 10) % 20 < 6 THEN 'customer' WHEN (i / 10) % 20 < 16 THEN 'invoice'
            WHEN (i / 10) % 20 < 19 THEN 'payment' WHEN (i / 10) % 40 = 19 THEN 'credit_note' ELSE 'refund' END)
        """
    static let prefix = """
        (CASE WHEN (i / 10) % 20 < 6 THEN 'CUS' WHEN (i / 10) % 20 < 16 THEN 'INV'
            WHEN (i / 10) % 20 < 19 THEN 'PAY' WHEN (i / 10) % 40 = 19 THEN 'CN' ELSE 'RF' END)
        """

    static let steps: [(String, String)] = [
        ("seed_integrations index", "CREATE INDEX temp.seed_integrations_tenant ON seed_integrations(tenant)"),
        (
            "records",
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :records)
            INSERT INTO records (id, tenant_id, record_type, local_id, version, action, source_updated_at, created_at,
                updated_at)
            SELECT printf('rec_%07d', i), printf('school_%02d', (i - 1) % 10), \(recordType),
                printf('%s-%07d', \(prefix), i), 1 + (i % 4 = 0) + (i % 16 = 0),
                CASE WHEN i % 97 = 0 THEN 'void' ELSE 'upsert' END, \(recordTime),
                \(text("\(recordTime) - (i % 4 = 0) * 3 * \(day)")), \(text(recordTime))
            FROM n
            """
        ),
        (
            "record versions",
            """
            WITH v(k) AS (VALUES (1), (2), (3))
            INSERT INTO record_versions (record_id, version, action, source_updated_at, data, created_at)
            SELECT r.id, v.k, CASE WHEN v.k = r.version THEN r.action ELSE 'upsert' END,
                r.source_updated_at - (r.version - v.k) * \(day),
                json_object(
                    'id', r.local_id, 'number', r.local_id, 'customer_id', printf('CUS-%07d', (r.rowid / 7) * 7 + 1),
                    'currency', CASE substr(r.tenant_id, -1) WHEN '1' THEN 'GBP' WHEN '2' THEN 'JPY' ELSE 'INR' END,
                    'total', printf('%d.%02d', 1000 + (r.rowid * 37) % 90000 + v.k, r.rowid % 100),
                    'issued_on', date(r.source_updated_at / 1000000, 'unixepoch'),
                    'lines', json_array(json_object(
                        'description', 'Tuition fee, term ' || (1 + r.rowid % 3), 'quantity', 1,
                        'amount', printf('%d.%02d', 1000 + (r.rowid * 37) % 90000 + v.k, r.rowid % 100),
                        'account', printf('%d', 4000 + r.rowid % 20), 'tax_code', 'GST18'))),
                \(text("r.source_updated_at - (r.version - v.k) * \(day)"))
            FROM records r JOIN v ON v.k <= r.version
            ORDER BY r.rowid, v.k
            """
        ),
        (
            "links of the older records",
            """
            INSERT INTO synchronized_records (id, record_id, integration_id, remote_id, remote_version, status,
                last_synced_at, local_version, remote_updated_at)
            SELECT printf('lnk_%07d_%d', r.rowid, s.ii % 2), r.id, s.id, printf('%09d', r.rowid * 2 + s.ii % 2), '0',
                'synced', r.updated_at, r.version, r.source_updated_at + 5000000
            FROM records r JOIN seed_integrations s ON s.tenant = r.tenant_id
            WHERE r.rowid <= :records - :jobs / 2 AND s.ii <> 17
            ORDER BY r.rowid, s.ii
            """
        ),
        (
            "jobs",
            """
            WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < :jobs),
            facts AS (
                SELECT k, r.rowid AS rec, r.id AS record_id, r.tenant_id, r.record_type, r.local_id, r.version,
                    r.source_updated_at AS created, s.ii, s.id AS integration_id, s.platform,
                    :now - r.source_updated_at AS age, (k * 7919) % 1000 AS h
                FROM n
                JOIN records r ON r.rowid = :records - :jobs / 2 + (k + 1) / 2
                JOIN seed_integrations s ON s.ii = 2 * ((r.rowid - 1) % 10) + k % 2
            ),
            states AS (
                SELECT *,
                    CASE
                        WHEN ii = 17 THEN 'pending'
                        WHEN ii IN (4, 13) AND age < 2 * \(day) THEN 'pending'
                        WHEN age < 2 * \(hour) THEN
                            CASE WHEN h < 50 THEN 'running'
                                WHEN h < 300 AND platform IN ('tally', 'quickbooks_desktop') THEN 'awaiting_platform'
                                WHEN h < 700 THEN 'pending' ELSE 'succeeded' END
                        WHEN h < 15 THEN 'failed'
                        WHEN h < 25 THEN 'dead'
                        WHEN h < 37 THEN 'needs_mapping'
                        WHEN h < 41 THEN 'held'
                        WHEN h < 45 THEN 'superseded'
                        WHEN h < 50 AND age < 6 * \(hour) THEN 'pending'
                        ELSE 'succeeded'
                    END AS st
                FROM facts
            ),
            outcomes AS (
                SELECT *,
                    CASE
                        WHEN st IN ('succeeded', 'failed', 'needs_mapping', 'running') THEN 1
                        WHEN st = 'dead' THEN 3
                        WHEN st = 'pending' AND ii IN (4, 13) THEN 1
                        WHEN st = 'pending' AND h BETWEEN 45 AND 49 THEN 2
                        ELSE 0
                    END AS tries,
                    CASE
                        WHEN st = 'failed' THEN 'validation'
                        WHEN st = 'dead' THEN 'http_503'
                        WHEN st = 'needs_mapping' THEN 'unmapped_account'
                        WHEN st = 'pending' AND ii IN (4, 13) THEN 'unauthorized'
                        WHEN st = 'pending' AND h BETWEEN 45 AND 49 THEN 'rate_limited'
                    END AS code
                FROM states
            )
            INSERT INTO jobs (seq, id, integration_id, tenant_id, kind, record_id, record_type, local_id, version,
                status, attempts, max_attempts, next_attempt_at, lease_owner, lease_expires_at, last_error_code,
                last_error_message, remote_id, created_at, updated_at, operation_id, last_error_missing)
            SELECT k, printf('job_%07d', k), integration_id, tenant_id, 'push', record_id, record_type, local_id,
                version, st, tries, 3,
                CASE WHEN code = 'rate_limited' THEN :now + 120000000 ELSE created + tries * 60000000 END,
                CASE WHEN st = 'running' THEN 'worker-seed' END,
                CASE WHEN st = 'running' THEN :now + 60000000 END,
                code,
                CASE code
                    WHEN 'validation' THEN 'The books refused it: the customer ' || printf('CUS-%07d', (rec / 7) * 7 + 1)
                        || ' is inactive, so no transaction can be recorded for it'
                    WHEN 'http_503' THEN 'The platform answered 503 Service Unavailable three times'
                    WHEN 'unmapped_account' THEN 'Revenue account 4100-TRANSPORT is not mapped to an account in the books'
                    WHEN 'unauthorized' THEN 'The platform refused the credentials: connect the integration again'
                    WHEN 'rate_limited' THEN 'The platform asked to slow down (429); tried again in 2 minutes'
                END,
                CASE WHEN st = 'succeeded' THEN printf('%09d', rec * 2 + k % 2) END,
                \(text("created")),
                \(text("""
                CASE st WHEN 'succeeded' THEN created + (h % 50 + 1) * 1000000
                    WHEN 'failed' THEN created + 2000000 WHEN 'dead' THEN created + 900000000
                    WHEN 'needs_mapping' THEN created + 1000000
                    ELSE created + tries * 60000000 END
                """)),
                CASE WHEN ii = 0 AND age < 6 * \(hour) THEN 'syn_seed_full' END,
                CASE WHEN st = 'needs_mapping' THEN '[{"code":"4100-TRANSPORT","kind":"account"}]' END
            FROM outcomes
            """
        ),
        (
            "job attempts",
            """
            WITH v(k) AS (VALUES (1), (2), (3))
            INSERT INTO job_attempts (job_id, attempt, worker, started_at, finished_at, outcome, error_code,
                error_message)
            SELECT j.id, v.k, 'worker-seed', j.created_at, j.updated_at,
                CASE WHEN v.k < j.attempts THEN 'retry'
                    WHEN j.status IN ('succeeded', 'failed', 'dead', 'needs_mapping') THEN j.status ELSE 'retry' END,
                CASE WHEN j.status <> 'succeeded' THEN j.last_error_code END,
                CASE WHEN j.status <> 'succeeded' THEN j.last_error_message END
            FROM jobs j JOIN v ON v.k <= j.attempts
            WHERE j.status <> 'running'
            ORDER BY j.id, v.k
            """
        ),
        (
            "links of the pushed records",
            """
            INSERT INTO synchronized_records (id, record_id, integration_id, remote_id, remote_version, status,
                last_synced_at, local_version, remote_updated_at)
            SELECT printf('lnk_j_%07d', seq), record_id, integration_id, remote_id, '1', 'synced', updated_at,
                version, NULL
            FROM jobs WHERE status = 'succeeded'
            ON CONFLICT (record_id, integration_id) DO NOTHING
            """
        ),
        (
            "first full syncs",
            """
            INSERT INTO sync_operations (id, integration_id, tenant_id, mode, status, records_total,
                records_processed, records_skipped, records_verified, records_failed, started_at, finished_at,
                requested_by, created_at)
            SELECT printf('syn_seed_first_%02d', ii), id, tenant, 'full', 'completed',
                (:records - :jobs / 2) / 10, (:records - :jobs / 2) / 10, 0, 0, ii % 3,
                \(text(":now - 400 * \(day) + 3600000000")), \(text(":now - 400 * \(day) + 4 * 3600000000")),
                'finance@' || tenant, \(text(":now - 400 * \(day) + 3600000000"))
            FROM seed_integrations WHERE ii <> 17
            """
        ),
        (
            "hourly incremental syncs",
            """
            WITH RECURSIVE h(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM h WHERE n < 24 * 18)
            INSERT INTO sync_operations (id, integration_id, tenant_id, mode, status, records_total,
                records_processed, records_failed, started_at, finished_at, requested_by, created_at)
            SELECT printf('syn_seed_inc_%02d_%04d', s.ii, h.n), s.id, s.tenant, 'incremental', 'completed', 0,
                (h.n * (s.ii + 3)) % 7, 0,
                \(text(":now - h.n * \(hour) - ((s.ii * 97) % 3000) * 1000000")),
                \(text(":now - h.n * \(hour) - ((s.ii * 97) % 3000) * 1000000 + 3000000")),
                'scheduler', \(text(":now - h.n * \(hour) - ((s.ii * 97) % 3000) * 1000000"))
            FROM seed_integrations s JOIN h
            WHERE s.ii <> 17 AND NOT (s.ii IN (4, 9, 13) AND h.n < 48)
                AND s.platform IN ('quickbooks_online', 'xero', 'sage_business_cloud', 'tally')
            ORDER BY h.n DESC, s.ii
            """
        ),
        (
            "open syncs",
            """
            INSERT INTO sync_operations (id, integration_id, tenant_id, mode, status, records_total,
                records_skipped, checkpoint, started_at, requested_by, created_at)
            SELECT 'syn_seed_full', id, tenant, 'full', 'running',
                (SELECT COUNT(*) FROM records WHERE tenant_id = tenant),
                (SELECT COUNT(*) FROM records WHERE tenant_id = tenant)
                    - (SELECT COUNT(*) FROM jobs WHERE operation_id = 'syn_seed_full'),
                '{"after_rowid":0,"type_index":5}', \(text(":now - 6 * \(hour)")), 'finance@' || tenant,
                \(text(":now - 6 * \(hour)"))
            FROM seed_integrations WHERE ii = 0
            UNION ALL
            SELECT 'syn_seed_pending', id, tenant, 'incremental', 'pending', 0, 0, NULL, NULL, 'finance@' || tenant,
                \(text(":now - 30000000"))
            FROM seed_integrations WHERE ii = 2
            """
        ),
        (
            "conflicts",
            """
            WITH RECURSIVE n(c) AS (SELECT 1 UNION ALL SELECT c + 1 FROM n WHERE c < 2000)
            INSERT INTO conflicts (id, tenant_id, integration_id, record_id, record_type, local_id, remote_id, policy,
                status, local_version, local_updated_at, local_data, remote_version, remote_updated_at, remote_data,
                resolution, resolved_by, resolved_at, detected_at)
            SELECT printf('cfl_%05d', c), r.tenant_id, s.id, r.id, r.record_type, r.local_id,
                printf('%09d', r.rowid * 2 + c % 2), 'manual', CASE WHEN c <= 150 THEN 'open' ELSE 'resolved' END,
                r.version, r.source_updated_at, v.data, '3', r.source_updated_at + 1000000,
                json_set(v.data, '$.total', '0.00', '$.memo', 'Changed in the books by the accountant'),
                CASE WHEN c > 150 THEN 'use_local' END, CASE WHEN c > 150 THEN 'finance@' || r.tenant_id END,
                CASE WHEN c > 150 THEN \(text(":now - c * 1000000000 + 3600000000")) END,
                \(text(":now - c * 1000000000"))
            FROM n
            JOIN records r ON r.rowid = :records - :jobs / 2 - c * 37
            JOIN seed_integrations s ON s.ii = 2 * ((r.rowid - 1) % 10) + c % 2
            JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
            ORDER BY c
            """
        ),
        (
            "deliveries",
            """
            WITH RECURSIVE n(d) AS (SELECT 1 UNION ALL SELECT d + 1 FROM n WHERE d < :deliveries)
            INSERT INTO deliveries (id, source, webhook_id, status, tenant_id, event_type, received_at, headers, body,
                errors)
            SELECT printf('dlv_%07d', d), CASE WHEN d % 50 = 0 THEN 'quickbooks' ELSE 'billing' END,
                printf('msg_seed_%07d', d),
                CASE WHEN d % 200 = 1 THEN 'rejected' WHEN d % 500 = 2 THEN 'duplicate'
                    WHEN d % 1000 = 3 THEN 'unroutable' WHEN d % 300 = 4 THEN 'superseded' ELSE 'accepted' END,
                CASE WHEN d % 1000 = 3 THEN NULL ELSE printf('school_%02d', d % 10) END,
                CASE WHEN d % 50 = 0 THEN 'Invoice.Update' ELSE 'invoice.issued' END,
                \(text(":now - (:deliveries - d) * 8000000")),
                json_object('webhook-id', printf('msg_seed_%07d', d), 'content-type', 'application/json'),
                CAST(json_object('type', 'invoice.issued', 'data', json_object('id', printf('INV-%07d', d),
                    'total', printf('%d.00', 1000 + d % 9000))) AS BLOB),
                CASE WHEN d % 200 = 1 THEN json_array(json_object('field', 'data.lines[0].amount',
                    'message', 'must be a decimal string with at most 2 decimals, like "1180.00"')) ELSE '[]' END
            FROM n
            """
        ),
        (
            "events",
            """
            INSERT INTO events (id, type, tenant_id, integration_id, payload, created_at)
            SELECT 'evt_' || id, 'sync.failed', tenant_id, integration_id,
                json_object('job_id', id, 'record_type', record_type, 'local_id', local_id,
                    'error', json_object('code', last_error_code, 'message', last_error_message)),
                updated_at
            FROM jobs WHERE status IN ('failed', 'dead') ORDER BY updated_at
            """
        ),
        (
            "event deliveries",
            """
            INSERT INTO event_deliveries (subscription_id, event_id, status, attempts, next_attempt_at, created_at,
                updated_at)
            SELECT s.id, e.id, CASE WHEN e.seq % 40 = 0 THEN 'failed' ELSE 'delivered' END,
                CASE WHEN e.seq % 40 = 0 THEN 8 ELSE 1 END, 0, e.created_at, e.created_at
            FROM events e JOIN webhook_subscriptions s ON s.tenant_id IS NULL OR s.tenant_id = e.tenant_id
            ORDER BY e.seq, s.seq
            """
        ),
        (
            "event delivery attempts",
            """
            INSERT INTO event_delivery_attempts (delivery_seq, subscription_id, event_id, attempt, attempted_at,
                duration_ms, response_status, error)
            SELECT seq, subscription_id, event_id, 1, created_at, 40 + seq % 200,
                CASE status WHEN 'failed' THEN 500 ELSE 200 END,
                CASE status WHEN 'failed' THEN 'HTTP 500 from the subscriber' END
            FROM event_deliveries ORDER BY seq
            """
        ),
    ]
}

public import Accounting
import GRDB

/// What the QuickBooks Web Connector's sessions need kept (issue 19): each QuickBooks Desktop integration's password
/// (scrypt, never the password), what its QuickBooks said it is, and the sessions (`authenticate` … `closeConnection`)
/// by their ticket's SHA-256. The messages handed to QuickBooks are the mailbox channel's (`platform_messages`), each
/// marked with the session it was handed to.
extension AppDatabase {
    static let webConnector = """
        CREATE TABLE web_connector_companies (
            integration_id TEXT PRIMARY KEY NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            password_hash TEXT NOT NULL,
            -- What the first sendRequestXML of a run said: US, CA, UK or AU; the highest qbXML version; the file.
            country TEXT,
            qbxml_version TEXT,
            company_file TEXT,
            product TEXT,
            -- Changes are asked for from this instant (QuickBooks' own TimeModified, as it wrote it).
            changes_from TEXT,
            -- When the change queries last ran to the end (microseconds).
            changes_read_at INTEGER,
            last_run_at TEXT
        );
        CREATE TABLE web_connector_sessions (
            ticket_sha256 TEXT PRIMARY KEY NOT NULL,
            integration_id TEXT NOT NULL REFERENCES integration_configs(id) ON DELETE CASCADE,
            tenant_id TEXT NOT NULL,
            started_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            closed INTEGER NOT NULL DEFAULT 0,
            -- Answers recorded in this session, for the percent done.
            answered INTEGER NOT NULL DEFAULT 0,
            turns INTEGER NOT NULL DEFAULT 0,
            -- The last percent done told to the Web Connector: it only grows.
            percent INTEGER NOT NULL DEFAULT 0,
            -- The change queries still to run in this session (JSON, the Web Connector service's own).
            change_queries TEXT,
            last_error TEXT
        );
        CREATE INDEX web_connector_sessions_open ON web_connector_sessions(integration_id) WHERE closed = 0;
        ALTER TABLE platform_messages ADD COLUMN handed_to TEXT;
        """

    /// An integration a Web Connector may sign in to with a user name.
    public struct WebConnectorLogin: Sendable, Hashable {
        public var integrationID: String
        public var tenantID: String
        public var status: Integration.Status
        public var passwordHash: String
    }

    /// A Web Connector session: from `authenticate` to `closeConnection`, or until it goes quiet.
    public struct WebConnectorSession: Sendable, Hashable {
        public var ticketHash: String
        public var integrationID: String
        public var tenantID: String
        public var answered: Int
        public var turns: Int
        public var percent: Int
        public var changeQueries: String?
        public var lastError: String?
    }

    /// What a company's QuickBooks reported, and where its change queries stand.
    public struct WebConnectorCompany: Sendable, Hashable {
        public var country: String?
        public var qbXMLVersion: String?
        public var companyFile: String?
        public var product: String?
        public var changesFrom: String?
        public var lastRunAt: Timestamp?
    }

    /// How `authenticate` came out for an integration whose password was right.
    public enum WebConnectorStart: Sendable, Hashable {
        /// Another session of the company is under way.
        case busy
        /// Nothing to hand QuickBooks: no message waits, no job is due, and the changes were read lately.
        case nothingToDo
        /// A session is open under the ticket.
        case started(changesDue: Bool)
    }

    /// Stores the integration's Web Connector password (its scrypt hash), audited without it.
    public func setWebConnectorPassword(
        integrationID: String, passwordHash: String, actor: String, at now: Timestamp = .now()
    ) async throws {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: integrationID, tenantID: nil, db: db) else {
                throw PersistenceError.notFound(entity: "integration", id: integrationID)
            }
            try db.execute(
                sql: """
                    INSERT INTO web_connector_companies (integration_id, password_hash) VALUES (?, ?)
                    ON CONFLICT (integration_id) DO UPDATE SET password_hash = excluded.password_hash
                    """,
                arguments: [integrationID, passwordHash])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: integration.tenantID, integrationID: integrationID, recordID: nil,
                actor: actor, action: "integration.web_connector_password_set", entityType: "integration",
                entityID: integrationID, oldValue: nil,
                newValue: JSONValue.object(["password": "set"]).canonicalString)
        }
    }

    /// The QuickBooks Desktop integrations `userName` names (`settings.username`, else the integration's name).
    public func webConnectorLogins(userName: String) async throws -> [WebConnectorLogin] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.id, c.tenant_id, c.status, w.password_hash
                    FROM integration_configs c JOIN web_connector_companies w ON w.integration_id = c.id
                    WHERE c.platform = 'quickbooks_desktop'
                        AND COALESCE(json_extract(c.settings, '$.username'), c.name) = ?
                    """,
                arguments: [userName]
            ).map {
                WebConnectorLogin(
                    integrationID: $0["id"], tenantID: $0["tenant_id"],
                    status: Integration.Status(rawValue: $0["status"]) ?? .pending, passwordHash: $0["password_hash"])
            }
        }
    }

    /// The scrypt hash of a Web Connector password, computed off the server's tasks.
    public func hashWebConnectorPassword(_ password: String) async throws -> String {
        let hasher = passwordHasher
        return try await HashingQueue.run { try hasher.hash(password) }
    }

    /// The integration `userName` and `password` open, or `nil`; a user name nobody has still spends one hash, so the
    /// answer's timing does not tell which names exist.
    public func webConnectorLogin(userName: String, password: String) async throws -> WebConnectorLogin? {
        let logins = try await webConnectorLogins(userName: userName)
        let hasher = passwordHasher
        return try await HashingQueue.run {
            if logins.isEmpty { hasher.spendOneHash() }
            return logins.first { hasher.verify(password, against: $0.passwordHash) }
        }
    }

    /// Audits a refused Web Connector sign-in: the user name when it is one of ours, never the password.
    public func auditWebConnectorRefusal(
        userName: String, login: WebConnectorLogin?, reason: String, address: String?, at now: Timestamp
    ) async throws {
        try await writer.write { db in
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: login?.tenantID, integrationID: login?.integrationID, recordID: nil,
                actor: "web_connector", action: "web_connector.sign_in_failed", entityType: "integration",
                entityID: login?.integrationID ?? "unknown", oldValue: nil,
                newValue: JSONValue.object([
                    "username": login == nil ? .null : .string(userName), "reason": .string(reason),
                    "address": address.map(JSONValue.string) ?? .null,
                ]).canonicalString)
        }
    }

    /// Opens a session under `ticketHash` for the integration, unless another of its sessions is under way (one at a
    /// time: the Web Connector of a second PC, or a second run, is told `busy`) or there is nothing to do.
    ///
    /// In the same transaction: a pending or disconnected integration is connected (its Web Connector reached us,
    /// audited); a message handed to an earlier session that never brought its answer back is answered as lost
    /// (`PlatformMessage.lostContentType`), waking its job, which then looks in QuickBooks before writing again.
    public func startWebConnectorSession(
        integrationID: String, ticketHash: String, idle: Duration, changesEvery: Duration, at now: Timestamp
    ) async throws -> WebConnectorStart {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: integrationID, tenantID: nil, db: db) else {
                throw PersistenceError.notFound(entity: "integration", id: integrationID)
            }
            let live =
                try Int.fetchOne(
                    db,
                    sql:
                        "SELECT COUNT(*) FROM web_connector_sessions WHERE integration_id = ? AND closed = 0 AND expires_at > ?",
                    arguments: [integrationID, now.microsecondsSinceEpoch]) ?? 0
            if live > 0 { return .busy }
            try db.execute(
                sql: "UPDATE web_connector_sessions SET closed = 1 WHERE integration_id = ? AND closed = 0",
                arguments: [integrationID])
            if integration.status == .pending || integration.status == .disconnected {
                try db.execute(
                    sql: """
                        UPDATE integration_configs SET status = 'connected', status_reason = NULL, updated_at = ?
                        WHERE id = ?
                        """,
                    arguments: [now.rfc3339, integrationID])
                var audit = try AuditLog(db, key: auditKey)
                try audit.append(
                    db, at: now, tenantID: integration.tenantID, integrationID: integrationID, recordID: nil,
                    actor: "web_connector", action: "integration.connected", entityType: "integration",
                    entityID: integrationID,
                    oldValue: JSONValue.object(["status": .string(integration.status.rawValue)]).canonicalString,
                    newValue: JSONValue.object(["status": "connected"]).canonicalString)
            }
            let lost = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, job_id FROM platform_messages
                    WHERE integration_id = ? AND reply IS NULL AND closed = 0 AND handed_to IS NOT NULL
                    """,
                arguments: [integrationID])
            for row in lost {
                let messageID: String = row["id"]
                try db.execute(
                    sql: "UPDATE platform_messages SET reply_content_type = ?, reply = '', replied_at = ? WHERE id = ?",
                    arguments: [PlatformMessage.lostContentType, now.rfc3339, messageID])
                try Self.wake(jobID: row["job_id"], at: now, db: db)
            }
            let changesReadAt = try Int64.fetchOne(
                db, sql: "SELECT changes_read_at FROM web_connector_companies WHERE integration_id = ?",
                arguments: [integrationID])
            let changesDue = changesReadAt.map { now.adding(.zero - changesEvery).microsecondsSinceEpoch >= $0 } ?? true
            let work = try Self.webConnectorWork(integrationID: integrationID, at: now, db: db)
            if !changesDue, work.messages + work.jobs == 0 {
                return .nothingToDo
            }
            try db.execute(
                sql: """
                    INSERT INTO web_connector_sessions (ticket_sha256, integration_id, tenant_id, started_at,
                        expires_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [
                    ticketHash, integrationID, integration.tenantID, now.microsecondsSinceEpoch,
                    now.adding(idle).microsecondsSinceEpoch,
                ])
            try db.execute(
                sql: "UPDATE web_connector_companies SET last_run_at = ? WHERE integration_id = ?",
                arguments: [now.rfc3339, integrationID])
            return .started(changesDue: changesDue)
        }
    }

    /// The open session whose ticket hashes to `ticketHash`, kept alive for `idle` more; `nil` when there is none
    /// (never issued, closed, or gone quiet for longer than `idle`).
    public func webConnectorSession(ticketHash: String, idle: Duration, at now: Timestamp) async throws
        -> WebConnectorSession?
    {
        try await writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT * FROM web_connector_sessions
                        WHERE ticket_sha256 = ? AND closed = 0 AND expires_at > ?
                        """,
                    arguments: [ticketHash, now.microsecondsSinceEpoch])
            else { return nil }
            try db.execute(
                sql: "UPDATE web_connector_sessions SET expires_at = ? WHERE ticket_sha256 = ?",
                arguments: [now.adding(idle).microsecondsSinceEpoch, ticketHash])
            return WebConnectorSession(
                ticketHash: ticketHash, integrationID: row["integration_id"], tenantID: row["tenant_id"],
                answered: row["answered"],
                turns: row["turns"], percent: row["percent"], changeQueries: row["change_queries"],
                lastError: row["last_error"])
        }
    }

    /// Records what the session's QuickBooks said it is (the first `sendRequestXML` of a run).
    public func recordWebConnectorCompany(
        integrationID: String, country: String, qbXMLVersion: String?, companyFile: String, product: String?,
        at now: Timestamp
    ) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE web_connector_companies
                    SET country = ?, qbxml_version = COALESCE(?, qbxml_version),
                        company_file = CASE WHEN ? = '' THEN company_file ELSE ? END,
                        product = COALESCE(?, product)
                    WHERE integration_id = ?
                    """,
                arguments: [country, qbXMLVersion, companyFile, companyFile, product, integrationID])
            // The connector writes for the edition's country (US sales tax, or VAT/GST elsewhere).
            try db.execute(
                sql: "UPDATE integration_configs SET settings = json_set(settings, '$.country', ?) WHERE id = ?",
                arguments: [country, integrationID])
        }
    }

    /// Keeps a list QuickBooks returned (items, tax codes, accounts) under the integration's `settings[setting][key]`.
    public func setWebConnectorList(integrationID: String, setting: String, key: String, entries: JSONValue)
        async throws
    {
        try await writer.write { db in
            guard let integration = try Self.fetchIntegration(id: integrationID, tenantID: nil, db: db),
                case .object(var settings) = integration.settings
            else { return }
            var lists = settings[setting]?.objectValue ?? [:]
            lists[key] = entries
            settings[setting] = .object(lists)
            try db.execute(
                sql: "UPDATE integration_configs SET settings = ? WHERE id = ?",
                arguments: [JSONValue.object(settings).canonicalString, integrationID])
        }
    }

    /// What the integration's QuickBooks last reported; `nil` before its password is set.
    public func webConnectorCompany(integrationID: String) async throws -> WebConnectorCompany? {
        try await writer.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM web_connector_companies WHERE integration_id = ?", arguments: [integrationID]
            ).map {
                WebConnectorCompany(
                    country: $0["country"], qbXMLVersion: $0["qbxml_version"], companyFile: $0["company_file"],
                    product: $0["product"], changesFrom: $0["changes_from"],
                    lastRunAt: ($0["last_run_at"] as String?).flatMap(Timestamp.init(rfc3339:)))
            }
        }
    }

    /// The session's turn: the oldest messages of the integration not yet handed to QuickBooks, at most `limit` and
    /// `maximumBytes` of bodies (always at least one), marked as handed to this session.
    public func handOutWebConnectorMessages(
        ticketHash: String, integrationID: String, limit: Int, maximumBytes: Int
    ) async throws -> [JournalledMessage] {
        try await writer.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM platform_messages
                    WHERE integration_id = ? AND reply IS NULL AND closed = 0 AND handed_to IS NULL
                    ORDER BY seq LIMIT ?
                    """,
                arguments: [integrationID, limit])
            var handed: [JournalledMessage] = []
            var bytes = 0
            for message in rows.map(JournalledMessage.init(row:)) {
                bytes += message.message.body.utf8.count
                if !handed.isEmpty, bytes > maximumBytes { break }
                handed.append(message)
            }
            for message in handed {
                try db.execute(
                    sql: "UPDATE platform_messages SET handed_to = ? WHERE id = ?",
                    arguments: [ticketHash, message.id])
            }
            try db.execute(
                sql: "UPDATE web_connector_sessions SET turns = turns + 1 WHERE ticket_sha256 = ?",
                arguments: [ticketHash])
            return handed
        }
    }

    /// Records QuickBooks' answers to messages handed to the session (`replies`: message id → answer), each waking
    /// its job, in one transaction; an answer to a message not handed to this session, or answered already, is
    /// passed over. Also keeps the session's change-query state and last error.
    /// - Returns: how many answers were recorded.
    @discardableResult
    public func recordWebConnectorAnswers(
        ticketHash: String, replies: [(messageID: String, reply: PlatformMessage)], changeQueries: String?,
        lastError: String?, at now: Timestamp
    ) async throws -> Int {
        try await writer.write { db in
            var recorded = 0
            for (messageID, reply) in replies {
                guard
                    let jobID = try String.fetchOne(
                        db,
                        sql: """
                            SELECT job_id FROM platform_messages
                            WHERE id = ? AND handed_to = ? AND reply IS NULL AND closed = 0
                            """,
                        arguments: [messageID, ticketHash])
                else { continue }
                try db.execute(
                    sql: "UPDATE platform_messages SET reply_content_type = ?, reply = ?, replied_at = ? WHERE id = ?",
                    arguments: [reply.contentType, reply.body, now.rfc3339, messageID])
                try Self.wake(jobID: jobID, at: now, db: db)
                recorded += 1
            }
            try db.execute(
                sql: """
                    UPDATE web_connector_sessions SET answered = answered + ?, change_queries = ?, last_error = ?
                    WHERE ticket_sha256 = ?
                    """,
                arguments: [recorded, changeQueries, lastError, ticketHash])
            return recorded
        }
    }

    /// Keeps the percent done last told to the Web Connector.
    public func setWebConnectorPercent(ticketHash: String, _ percent: Int) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE web_connector_sessions SET percent = ? WHERE ticket_sha256 = ?",
                arguments: [percent, ticketHash])
        }
    }

    /// Keeps the session's last error (what `getLastError` tells the Web Connector's user).
    public func setWebConnectorError(ticketHash: String, _ message: String?) async throws {
        try await writer.write { db in
            try db.execute(
                sql: "UPDATE web_connector_sessions SET last_error = ? WHERE ticket_sha256 = ?",
                arguments: [message, ticketHash])
        }
    }

    /// Marks the change queries done: the next ones ask from `changesFrom` (when given).
    public func finishWebConnectorChanges(integrationID: String, changesFrom: String?, at now: Timestamp)
        async throws
    {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE web_connector_companies SET changes_read_at = ?, changes_from = COALESCE(?, changes_from)
                    WHERE integration_id = ?
                    """,
                arguments: [now.microsecondsSinceEpoch, changesFrom, integrationID])
        }
    }

    /// Closes the session: its ticket opens nothing more. With `error` (QuickBooks could not be opened), the
    /// integration shows as out of reach with it (audited) until a later run reaches QuickBooks; nothing queued is
    /// lost.
    public func closeWebConnectorSession(ticketHash: String, error: String?, at now: Timestamp) async throws {
        try await writer.write { db in
            guard
                let integrationID = try String.fetchOne(
                    db, sql: "SELECT integration_id FROM web_connector_sessions WHERE ticket_sha256 = ?",
                    arguments: [ticketHash])
            else { return }
            try db.execute(
                sql: "UPDATE web_connector_sessions SET closed = 1, last_error = ? WHERE ticket_sha256 = ?",
                arguments: [error, ticketHash])
            guard let error else {
                try Self.markReachable(integrationID: integrationID, db: db)
                return
            }
            // Out of reach until a run reaches QuickBooks again; its jobs stay queued for that run.
            try db.execute(
                sql: """
                    UPDATE integration_configs SET unreachable_since = COALESCE(unreachable_since, ?),
                        unreachable_error_code = 'quickbooks_not_running', unreachable_error_message = ?,
                        next_check_at = NULL
                    WHERE id = ?
                    """,
                arguments: [now.microsecondsSinceEpoch, error, integrationID])
            let tenantID = try String.fetchOne(
                db, sql: "SELECT tenant_id FROM integration_configs WHERE id = ?", arguments: [integrationID])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: tenantID, integrationID: integrationID, recordID: nil, actor: "web_connector",
                action: "web_connector.connection_error", entityType: "integration", entityID: integrationID,
                oldValue: nil, newValue: JSONValue.object(["error": .string(error)]).canonicalString)
        }
    }

    /// How much is left for the integration's QuickBooks: messages not answered, and jobs due or running (a job
    /// waiting for a later retry is for a later run).
    public func webConnectorWork(integrationID: String, at now: Timestamp) async throws -> (messages: Int, jobs: Int) {
        try await writer.read { db in try Self.webConnectorWork(integrationID: integrationID, at: now, db: db) }
    }

    static func webConnectorWork(integrationID: String, at now: Timestamp, db: Database) throws -> (
        messages: Int, jobs: Int
    ) {
        let messages =
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM platform_messages WHERE integration_id = ? AND reply IS NULL AND closed = 0",
                arguments: [integrationID]) ?? 0
        let jobs =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM jobs WHERE integration_id = ?
                        AND (status = 'running' OR (status = 'pending' AND next_attempt_at <= ?))
                    """,
                arguments: [integrationID, now.microsecondsSinceEpoch]) ?? 0
        return (messages, jobs)
    }

    /// Makes the job awaiting the platform due now.
    private static func wake(jobID: String, at now: Timestamp, db: Database) throws {
        try db.execute(
            sql: """
                UPDATE jobs SET status = 'pending', next_attempt_at = ?, updated_at = ?
                WHERE id = ? AND status = 'awaiting_platform'
                """,
            arguments: [now.microsecondsSinceEpoch, now.rfc3339, jobID])
    }
}

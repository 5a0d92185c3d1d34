public import Accounting
import GRDB

/// One message of a job's conversation with a mailbox platform, as the journal keeps it, with the platform's reply
/// once it is in.
public struct JournalledMessage: Sendable, Hashable {
    public var id: String
    public var jobID: String
    public var integrationID: String
    public var tenantID: String
    /// Its place in the job's open conversation, from 1.
    public var sequence: Int
    public var message: PlatformMessage
    public var createdAt: Timestamp
    public var reply: PlatformMessage?
    public var repliedAt: Timestamp?

    /// `{id, job_id, sequence, content_type, body, created_at}`, and `reply{content_type, body}`, `replied_at` once
    /// answered.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(id), "job_id": .string(jobID), "integration_id": .string(integrationID),
            "sequence": .number(String(sequence)), "content_type": .string(message.contentType),
            "body": .string(message.body), "created_at": .string(createdAt.rfc3339),
        ]
        if let reply {
            members["reply"] = .object(["content_type": .string(reply.contentType), "body": .string(reply.body)])
        }
        if let repliedAt { members["replied_at"] = .string(repliedAt.rfc3339) }
        return .object(members)
    }
}

extension JournalledMessage {
    init(row: Row) {
        let replyBody: String? = row["reply"]
        self.init(
            id: row["id"], jobID: row["job_id"], integrationID: row["integration_id"], tenantID: row["tenant_id"],
            sequence: row["sequence"],
            message: PlatformMessage(contentType: row["content_type"], body: row["body"]),
            createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microsecondsSinceEpoch: 0),
            reply: replyBody.map { PlatformMessage(contentType: row["reply_content_type"] ?? "text/plain", body: $0) },
            repliedAt: (row["replied_at"] as String?).flatMap(Timestamp.init(rfc3339:)))
    }
}

/// What became of a platform's reply.
public enum PlatformReplyOutcome: Sendable, Hashable {
    /// It is recorded, and the job that waited for it is due now.
    case recorded(JournalledMessage)
    /// The same reply was recorded before (the platform sent it again): nothing changed.
    case alreadyRecorded(JournalledMessage)
}

extension AppDatabase {
    /// The job's open conversation with its mailbox platform, in order: what its next run replays.
    public func conversation(ofJob jobID: String) async throws -> [JournalledMessage] {
        try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM platform_messages WHERE job_id = ? AND closed = 0 ORDER BY sequence",
                arguments: [jobID]
            ).map(JournalledMessage.init(row:))
        }
    }

    /// The messages waiting in an integration's mailbox for its platform to fetch and answer, oldest first. The
    /// platform's first call connects a pending or disconnected integration (audited): its agent is what reaches it.
    /// - Returns: `nil` when there is no such integration (of `tenantID`, when given).
    public func platformMailbox(
        integrationID: String, tenantID: String?, limit: Int, actor: String, at now: Timestamp
    ) async throws -> [JournalledMessage]? {
        try await writer.write { db in
            var filter = SQLFilter()
            filter.add("id = ?", integrationID)
            filter.add("tenant_id = ?", tenantID)
            guard
                let status = try String.fetchOne(
                    db, sql: "SELECT status FROM integration_configs \(filter.whereClause)",
                    arguments: filter.arguments)
            else { return nil }
            if status == "pending" || status == "disconnected" {
                try db.execute(
                    sql: "UPDATE integration_configs SET status = 'connected', updated_at = ? WHERE id = ?",
                    arguments: [now.rfc3339, integrationID])
                var audit = try AuditLog(db, key: auditKey)
                try audit.append(
                    db, at: now, tenantID: tenantID, integrationID: integrationID, recordID: nil, actor: actor,
                    action: "integration.connected", entityType: "integration", entityID: integrationID,
                    oldValue: JSONValue.object(["status": .string(status)]).canonicalString,
                    newValue: JSONValue.object(["status": "connected"]).canonicalString)
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM platform_messages
                    WHERE integration_id = ? AND reply IS NULL AND closed = 0
                    ORDER BY seq LIMIT ?
                    """,
                arguments: [integrationID, limit]
            ).map(JournalledMessage.init(row:))
        }
    }

    /// Records the platform's reply to one of its integration's messages and wakes the job awaiting it, in one
    /// transaction (audited). A reply sent again is taken once: the same reply is `alreadyRecorded`.
    /// - Returns: `nil` when there is no such open message of the integration (of `tenantID`, when given).
    /// - Throws: `PersistenceError.conflict` when the message was answered with a different reply.
    public func recordPlatformReply(
        messageID: String, integrationID: String, tenantID: String?, reply: PlatformMessage, actor: String,
        at now: Timestamp
    ) async throws -> PlatformReplyOutcome? {
        try await writer.write { db in
            var filter = SQLFilter()
            filter.add("id = ?", messageID)
            filter.add("integration_id = ?", integrationID)
            filter.add("tenant_id = ?", tenantID)
            filter.add("closed = 0")
            guard
                let message = try Row.fetchOne(
                    db, sql: "SELECT * FROM platform_messages \(filter.whereClause)", arguments: filter.arguments
                ).map(JournalledMessage.init(row:))
            else { return nil }
            if let recorded = message.reply {
                guard recorded == reply else {
                    throw PersistenceError.conflict(
                        "message \(messageID) was answered at \(message.repliedAt?.rfc3339 ?? "?") with another reply")
                }
                return .alreadyRecorded(message)
            }
            try db.execute(
                sql: "UPDATE platform_messages SET reply_content_type = ?, reply = ?, replied_at = ? WHERE id = ?",
                arguments: [reply.contentType, reply.body, now.rfc3339, messageID])
            try db.execute(
                sql: """
                    UPDATE jobs SET status = 'pending', next_attempt_at = ?, updated_at = ?
                    WHERE id = ? AND status = 'awaiting_platform'
                    """,
                arguments: [now.microsecondsSinceEpoch, now.rfc3339, message.jobID])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: message.tenantID, integrationID: integrationID, recordID: nil, actor: actor,
                action: "platform.replied", entityType: "platform_message", entityID: messageID, oldValue: nil,
                newValue: JSONValue.object([
                    "job_id": .string(message.jobID), "content_type": .string(reply.contentType),
                    "bytes": .number(String(reply.body.utf8.count)),
                ]).canonicalString)
            var answered = message
            answered.reply = reply
            answered.repliedAt = now
            return .recorded(answered)
        }
    }

    /// Journals `message` as the next of the job's open conversation, for its platform to fetch.
    static func journal(_ message: PlatformMessage, of job: Job, at now: Timestamp, db: Database) throws {
        let next =
            try Int.fetchOne(
                db, sql: "SELECT MAX(sequence) FROM platform_messages WHERE job_id = ? AND closed = 0",
                arguments: [job.id]) ?? 0
        try db.execute(
            sql: """
                INSERT INTO platform_messages (id, job_id, integration_id, tenant_id, sequence, content_type, body,
                    created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                Identifiers.make("msg"), job.id, job.integrationID, job.tenantID, next + 1, message.contentType,
                message.body, now.rfc3339,
            ])
    }

    /// Ends the job's conversation: its messages stay in the journal, closed, and a later run starts a new one.
    static func closeConversation(ofJob jobID: String, db: Database) throws {
        try db.cachedStatement(sql: "UPDATE platform_messages SET closed = 1 WHERE job_id = ? AND closed = 0")
            .execute(arguments: [jobID])
    }
}

import Accounting
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Persistence

/// The audit chain is signed under a key derived from the master key, its ends are checkpointed, and rows cannot be
/// deleted: someone holding only the database file cannot rewrite or cut it short unnoticed (issue 11, item 7).
@Suite struct AuditChainTests {
    let key: AuditKey

    init() throws { key = try AppDatabase.testBox().auditKey }

    /// Appends `count` entries: one `integration.created` each.
    func appendEntries(_ database: AppDatabase, count: Int) async throws {
        for index in 1...count {
            _ = try await database.createIntegration(
                tenantID: "school", platform: .quickBooksOnline, name: "Books \(index)", actor: "api-key:key_\(index)")
        }
    }

    /// What someone with the file and no key would do: recompute every hash from `seq` on, as bare SHA-256.
    func rewriteWithoutTheKey(_ db: Database, from seq: Int64, newValue: String) throws {
        try db.execute(sql: "DROP TRIGGER integration_audit_log_no_update")
        try db.execute(sql: "UPDATE integration_audit_log SET new_value = ? WHERE seq = ?", arguments: [newValue, seq])
        var previous =
            try String.fetchOne(
                db, sql: "SELECT hash FROM integration_audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                arguments: [seq]
            ) ?? AuditEntry.genesisHash
        for row in try Row.fetchAll(
            db, sql: "SELECT * FROM integration_audit_log WHERE seq >= ? ORDER BY seq", arguments: [seq])
        {
            var entry = AuditEntry(row: row)
            entry.previousHash = previous
            let hash = AuditEntry.computeHash(
                previousHash: previous, id: entry.id, occurredAt: entry.occurredAt, tenantID: entry.tenantID,
                integrationID: entry.integrationID, recordID: entry.recordID, actor: entry.actor,
                action: entry.action, entityType: entry.entityType, entityID: entry.entityID,
                oldValue: entry.oldValue, newValue: entry.newValue)
            try db.execute(
                sql: "UPDATE integration_audit_log SET prev_hash = ?, hash = ?, algorithm = 'sha256' WHERE seq = ?",
                arguments: [previous, hash, entry.seq])
            previous = hash
        }
    }

    @Test func aChainRewrittenConsistentlyWithoutTheKeyIsBroken() async throws {
        let database = try AppDatabase.inMemory(auditKey: key)
        try await appendEntries(database, count: 4)
        #expect(try await database.verifyAuditChain() == .intact(entries: 4))
        try await database.writer.write { db in try rewriteWithoutTheKey(db, from: 1, newValue: #"{"forged":true}"#) }
        guard case .broken = try await database.verifyAuditChain() else {
            Issue.record("a chain recomputed without the key verified")
            return
        }
    }

    @Test func deletingAnEntryIsRefused() async throws {
        let database = try AppDatabase.inMemory(auditKey: key)
        try await appendEntries(database, count: 2)
        await #expect(throws: DatabaseError.self) {
            try await database.writer.write { db in
                try db.execute(sql: "DELETE FROM integration_audit_log WHERE seq = 2")
            }
        }
        #expect(try await database.verifyAuditChain() == .intact(entries: 2))
    }

    @Test func removingTheNewestEntriesIsDetected() async throws {
        let database = try AppDatabase.inMemory(auditKey: key)
        try await appendEntries(database, count: 3)
        try await database.writer.write { db in
            try db.execute(sql: "DROP TRIGGER integration_audit_log_no_delete")
            try db.execute(sql: "DELETE FROM integration_audit_log WHERE seq >= 3")
        }
        guard case .broken(_, let id, let reason) = try await database.verifyAuditChain() else {
            Issue.record("truncating the newest entries went unnoticed")
            return
        }
        #expect(id == "checkpoint" && reason.contains("removed"))

        // The server goes on appending: it does not re-sign the checkpoint over the shortened chain.
        try await appendEntries(database, count: 1)
        guard case .broken(_, "checkpoint", _) = try await database.verifyAuditChain() else {
            Issue.record("an append laundered the truncation")
            return
        }
    }

    @Test func removingTheCheckpointIsDetected() async throws {
        let database = try AppDatabase.inMemory(auditKey: key)
        try await appendEntries(database, count: 1)
        try await database.writer.write { db in try db.execute(sql: "DELETE FROM audit_checkpoint") }
        guard case .broken(_, "checkpoint", let reason) = try await database.verifyAuditChain() else {
            Issue.record("a missing checkpoint went unnoticed")
            return
        }
        #expect(reason.contains("missing"))
    }

    /// Whoever holds the file strips the checkpoint and rewrites every entry as a bare hash, as if the chain had
    /// never been keyed: opening the database again (as `serve` and `migrate` do) must not sign the forgery.
    @Test func reopeningNeverSignsAChainStrippedOfItsCheckpoint() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-strip-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try AppDatabase.openForTests(path: path)
        try await appendEntries(database, count: 3)
        try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM audit_checkpoint")
            try rewriteWithoutTheKey(db, from: 1, newValue: #"{"name":"Forged"}"#)
        }
        let reopened = try AppDatabase.openForTests(path: path)
        guard case .broken = try await reopened.verifyAuditChain() else {
            Issue.record("a rewritten chain without its checkpoint was signed on open")
            return
        }
        let checkpoints = try await reopened.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_checkpoint") ?? -1
        }
        #expect(checkpoints == 0)
    }

    @Test func anotherMasterKeyDoesNotVerify() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-key-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await appendEntries(try AppDatabase.openForTests(path: path), count: 1)
        let other = try SecretBox(masterKey: Array(repeating: 1, count: 32)).auditKey
        guard case .broken = try await AppDatabase.openReadOnly(path: path, auditKey: other).verifyAuditChain() else {
            Issue.record("a chain verified under a key that did not sign it")
            return
        }
        let same = try AppDatabase.openReadOnly(path: path, auditKey: key)
        #expect(try await same.verifyAuditChain() == .intact(entries: 1))
    }

    /// Entries written before "0012 keyed audit chain" are bare SHA-256: they still verify, keyed ones follow them,
    /// and an unkeyed entry may not follow a keyed one.
    @Test func entriesWrittenBeforeTheChainWasKeyedStillVerify() async throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator(auditKey: key).migrate(queue, upTo: "0011 job deferrals")
        try await queue.write { db in
            var previous = AuditEntry.genesisHash
            for index in 1...3 {
                let at = Timestamp(secondsSinceEpoch: Int64(index))
                let hash = AuditEntry.computeHash(
                    previousHash: previous, id: "aud_\(index)", occurredAt: at, tenantID: "school",
                    integrationID: nil, recordID: nil, actor: "worker", action: "record.created",
                    entityType: "customer", entityID: "c\(index)", oldValue: nil, newValue: "{}")
                try db.execute(
                    sql: """
                        INSERT INTO integration_audit_log (id, occurred_at, tenant_id, actor, action, entity_type,
                            entity_id, new_value, prev_hash, hash)
                        VALUES (?, ?, 'school', 'worker', 'record.created', 'customer', ?, '{}', ?, ?)
                        """,
                    arguments: ["aud_\(index)", at.rfc3339, "c\(index)", previous, hash])
                previous = hash
            }
        }
        let database = try AppDatabase(queue, auditKey: key)
        #expect(try await database.verifyAuditChain() == .intact(entries: 3))
        try await appendEntries(database, count: 2)
        #expect(try await database.verifyAuditChain() == .intact(entries: 5))
        let algorithms = try await queue.read { db in
            try String.fetchAll(db, sql: "SELECT algorithm FROM integration_audit_log ORDER BY seq")
        }
        #expect(algorithms == ["sha256", "sha256", "sha256", "hmac-sha256", "hmac-sha256"])

        // Turning the keyed entries into unkeyed ones (recomputed without the key) is noticed.
        try await queue.write { db in try rewriteWithoutTheKey(db, from: 4, newValue: "{}") }
        guard case .broken = try await database.verifyAuditChain() else {
            Issue.record("keyed entries downgraded to bare hashes verified")
            return
        }
    }
}

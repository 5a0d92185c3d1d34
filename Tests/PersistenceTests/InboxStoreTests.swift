import Accounting
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Persistence

@Suite struct InboxStoreTests {
    let tenant = Tenant.ID("school")

    func customer(_ id: String, name: String, at seconds: Int64, action: SyncCommand.Action = .upsert) -> SyncCommand {
        SyncCommand(
            tenantID: tenant,
            recordType: .customer,
            localID: id,
            action: action,
            updatedAt: Timestamp(secondsSinceEpoch: seconds),
            data: ["id": .string(id), "name": .string(name)]
        )
    }

    func delivery(_ webhookID: String, _ commands: [SyncCommand]) -> IncomingDelivery {
        IncomingDelivery(
            source: "billing",
            webhookID: webhookID,
            receivedAt: .now(),
            tenantID: tenant,
            eventType: "customer.updated",
            headers: ["webhook-id": webhookID],
            body: Array("{}".utf8),
            content: .commands(commands)
        )
    }

    func record(_ database: AppDatabase, _ delivery: IncomingDelivery) async throws -> DeliveryOutcome {
        try await database.record([delivery])[0].get()
    }

    @Test func resolvesDuplicatesAndOlderVersions() async throws {
        let database = try AppDatabase.inMemory()
        let first = try await record(database, delivery("msg_1", [customer("c1", name: "Asha", at: 100)]))
        #expect(first.status == .accepted)
        #expect(first.changes.map(\.version) == [1])

        let redelivered = try await record(database, delivery("msg_1", [customer("c1", name: "Asha", at: 100)]))
        #expect(redelivered.isRedelivery && redelivered.deliveryID == first.deliveryID)

        let sameUnderNewID = try await record(database, delivery("msg_2", [customer("c1", name: "Asha", at: 100)]))
        #expect(sameUnderNewID.status == .duplicate)

        let newer = try await record(database, delivery("msg_3", [customer("c1", name: "Asha R.", at: 200)]))
        #expect(newer.status == .accepted && newer.changes.map(\.version) == [2])

        let older = try await record(database, delivery("msg_4", [customer("c1", name: "Old name", at: 150)]))
        #expect(older.status == .superseded)

        // The first version again, under yet another id, after a newer one: it was stored once, so a duplicate.
        let firstAgain = try await record(database, delivery("msg_5", [customer("c1", name: "Asha", at: 100)]))
        #expect(firstAgain.status == .duplicate && firstAgain.changes.isEmpty)

        let page = try await database.records(localID: "c1", page: PageRequest())
        #expect(page.items.count == 1)
        #expect(page.items[0].version == 2)
        #expect(page.items[0].data["name"] == "Asha R.")
        let versions = try await database.recordVersions(recordID: page.items[0].id, page: PageRequest())
        #expect(versions.items.map { $0.data["name"] } == ["Asha", "Asha R."])
        #expect(
            try await database.deliveries(page: PageRequest()).items.map(\.status) == [
                .accepted, .duplicate, .accepted, .superseded, .duplicate,
            ])
    }

    /// A batch is one transaction, but one delivery's failure is its own: the others commit, the chain holds.
    @Test func oneFailingDeliveryDoesNotTakeItsBatchDown() async throws {
        let database = try AppDatabase.inMemory()
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER poison BEFORE INSERT ON records WHEN NEW.local_id = 'poison'
                    BEGIN SELECT RAISE(ABORT, 'poisoned'); END
                    """
            )
        }
        let results = try await database.record([
            delivery("msg_1", [customer("c1", name: "Asha", at: 100)]),
            delivery("msg_2", [customer("c2", name: "Ravi", at: 100), customer("poison", name: "X", at: 100)]),
            delivery("msg_3", [customer("c3", name: "Meera", at: 100)]),
        ])
        #expect(try results[0].get().status == .accepted)
        #expect(throws: (any Error).self) { try results[1].get() }
        #expect(try results[2].get().status == .accepted)
        let stored = try await database.records(page: PageRequest()).items.map(\.localID)
        #expect(stored == ["c1", "c3"])
        #expect(try await database.deliveries(page: PageRequest()).items.map(\.webhookID) == ["msg_1", "msg_3"])
        #expect(try await database.verifyAuditChain() == .intact(entries: 2))
    }

    @Test func aVoidKeepsTheRecordAndWinsATie() async throws {
        let database = try AppDatabase.inMemory()
        _ = try await record(database, delivery("msg_1", [customer("c1", name: "Asha", at: 100)]))
        let void = SyncCommand(
            tenantID: tenant,
            recordType: .customer,
            localID: "c1",
            action: .void,
            updatedAt: Timestamp(secondsSinceEpoch: 100),
            data: ["status": "voided"]
        )
        #expect(try await record(database, delivery("msg_2", [void])).status == .accepted)
        let stored = try await database.records(localID: "c1", page: PageRequest()).items[0]
        #expect(stored.data == ["id": "c1", "name": "Asha", "status": "voided"])
        #expect(stored.action == "void")
    }

    @Test func auditChainHoldsAndAnEditedEntryIsNamed() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try AppDatabase.openForTests(path: path)
        for seconds in 1...5 {
            _ = try await record(
                database, delivery("msg_\(seconds)", [customer("c1", name: "v\(seconds)", at: Int64(seconds))]))
        }
        #expect(try await database.verifyAuditChain() == .intact(entries: 5))

        // Someone with the file edits history: the trigger refuses, so they drop it first.
        let queue = try DatabaseQueue(path: path)
        await #expect(throws: DatabaseError.self) {
            try await queue.write {
                try $0.execute(sql: "UPDATE integration_audit_log SET new_value = '{}' WHERE seq = 3")
            }
        }
        try await queue.write { db in
            try db.execute(sql: "DROP TRIGGER integration_audit_log_no_update")
            try db.execute(
                sql: #"UPDATE integration_audit_log SET new_value = '{"id":"c1","name":"forged"}' WHERE seq = 3"#)
        }
        guard case .broken(let seq, _, _) = try await database.verifyAuditChain() else {
            Issue.record("the edit was not detected")
            return
        }
        #expect(seq == 3)
    }

    /// A 2xx is only sent after a commit, so every commit must reach the disk: the WAL is fsync'd each time.
    @Test func fileDatabasesCommitDurably() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("durable-\(UUID()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try AppDatabase.openForTests(path: path)
        #expect(try await database.synchronousLevel() == 2)
        let mode = try await DatabaseQueue(path: path).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    /// The background checkpointer copies committed pages from the log into the database file, on request.
    @Test func backgroundCheckpointerCopiesTheLogIntoTheDatabaseFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID()).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm", ".master-key"] {
                try? FileManager.default.removeItem(atPath: path + suffix)
            }
        }
        let database = try AppDatabase.openForTests(path: path)
        let checkpointer = try #require(database.checkpointer)
        func fileSize() throws -> Int {
            try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        }
        _ = try await database.record(
            (0..<50).map { delivery("msg_\($0)", [customer("c\($0)", name: "Family \($0)", at: 100)]) })
        let before = try fileSize()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await checkpointer.run() }
            checkpointer.request()
            let deadline = ContinuousClock.now + .seconds(10)
            while (try? fileSize()) == before, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(5))
            }
            checkpointer.finish()
        }
        #expect(try fileSize() > before)
        #expect(try await database.records(page: PageRequest(limit: 500)).items.count == 50)
    }

    @Test func sealedSecretsOpenOnlyInTheirOwnRowWithTheRightKey() async throws {
        let database = try AppDatabase.inMemory()
        let box = try SecretBox(masterKey: Array(repeating: 1, count: 32))
        let source = try await database.createWebhookSource(
            source: "billing", secret: "whsec_c2VjcmV0", box: box, actor: "admin-token")
        #expect(try await database.webhookSecrets(source: "billing", box: box).map(\.secret) == ["whsec_c2VjcmV0"])
        let otherKey = try SecretBox(masterKey: Array(repeating: 2, count: 32))
        await #expect(throws: PersistenceError.secretUnreadable) {
            try await database.webhookSecrets(source: "billing", box: otherKey)
        }
        #expect(try await database.deleteWebhookSource(id: source.id, actor: "admin-token"))
        #expect(try await database.webhookSecrets(source: "billing", box: box).isEmpty)
    }
}

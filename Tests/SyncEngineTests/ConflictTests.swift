import Accounting
import Connectors
import Persistence
import SyncEngine
import TestSupport
import Testing

/// Changes heard from the books: echoes, stale and ledger-only changes, payments entered in the books, and the
/// conflict policies when billing changed the record too.
@Suite struct ConflictTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    /// Billing's invoice `inv_1` (total 53,100.00, changed at 1,795,000,000), pushed once.
    struct Pushed {
        let database: AppDatabase
        let integration: Integration
        let connector: ScriptedConnector
        let engine: SyncEngine
        let runner: SyncOperationRunner
        let remoteID: String
    }

    func pushedInvoice(policy: Integration.ConflictPolicy = .lastModifiedWins) async throws -> Pushed {
        let (database, integrations) = try await setUp(policy: policy)
        let connector = ScriptedConnector()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        try await drain(engine, database)
        let remoteID = try #require(connector.written.values.first)
        #expect(connector.pushes.count == 1)
        return Pushed(
            database: database, integration: integrations[0], connector: connector, engine: engine,
            runner: runner(database, connector), remoteID: remoteID)
    }

    /// The invoice as someone edits it in the books at `seconds`.
    @discardableResult
    func ledgerEdit(_ pushed: Pushed, total: String, at seconds: Int64, voided: Bool = false) -> RemoteRecord {
        var data: [String: JSONValue] = [
            "number": "INV-1", "customer_id": "C1", "currency": "INR", "total": .string(total),
        ]
        if voided { data["voided"] = true }
        return pushed.connector.publish(
            .invoice, remoteID: pushed.remoteID, updatedAt: Timestamp(secondsSinceEpoch: seconds), data: .object(data))
    }

    @Test func echoesOfLedgerwiresOwnWritesAndStaleChangesAreNotReapplied() async throws {
        let pushed = try await pushedInvoice()
        // The platform reports Ledgerwire's own write: the version the push returned.
        let written = RemoteRecord(
            recordType: .invoice, remoteID: pushed.remoteID, remoteVersion: "1",
            updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_001), deleted: false, data: ["total": "53100.00"])
        pushed.connector.relist(written)
        let first = try await poll(pushed.runner, pushed.database, pushed.integration)
        #expect(first.status == .completed && first.recordsProcessed == 1)
        #expect(try await events(pushed.database, .invoiceChanged).isEmpty)
        #expect(try await events(pushed.database, .conflictDetected).isEmpty)

        // A real edit in the books, then the old version reported again out of order.
        ledgerEdit(pushed, total: "50000.00", at: 1_795_000_300)
        pushed.connector.relist(written)
        try await poll(pushed.runner, pushed.database, pushed.integration)
        let changed = try await events(pushed.database, .invoiceChanged)
        #expect(changed.count == 1)
        #expect(changed.first?["remote_version"] == "2")
        // Nothing went back to the platform: no loop.
        try await drain(pushed.engine, pushed.database)
        #expect(pushed.connector.pushes.count == 1)
    }

    @Test func aChangeMadeOnlyInTheBooksIsReportedToBilling() async throws {
        let pushed = try await pushedInvoice()
        ledgerEdit(pushed, total: "50000.00", at: 1_795_000_300)
        ledgerEdit(pushed, total: "50000.00", at: 1_795_000_400, voided: true)
        try await poll(pushed.runner, pushed.database, pushed.integration)
        let changed = try await events(pushed.database, .invoiceChanged)
        #expect(changed.map { $0["change"] } == ["updated", "voided"])
        #expect(changed.map { $0["invoice_id"] } == ["inv_1", "inv_1"])
        #expect(changed.first?["data"]?["total"] == "50000.00")
        #expect(changed.first?["remote_invoice_id"] == .string(pushed.remoteID))
        #expect(try await events(pushed.database, .conflictDetected).isEmpty)
        // Hearing the same versions again (a webhook, then the poll) changes nothing.
        try await poll(pushed.runner, pushed.database, pushed.integration)
        #expect(try await events(pushed.database, .invoiceChanged).count == 2)
    }

    enum Winner: Sendable { case billing, books, nobody }

    @Test(
        arguments: [
            (Integration.ConflictPolicy.lastModifiedWins, Int64(1_795_000_200), Winner.books),
            (.lastModifiedWins, 1_795_000_050, .billing),
            (.billingWins, 1_795_000_200, .billing),
            (.ledgerWins, 1_795_000_050, .books),
            (.manual, 1_795_000_200, .nobody),
        ])
    func eachPolicyDecidesAConflictAsDocumented(
        policy: Integration.ConflictPolicy, editedInTheBooksAt: Int64, winner: Winner
    ) async throws {
        let pushed = try await pushedInvoice(policy: policy)
        // Billing changes the invoice at …100; before it is pushed, the books' edit is heard.
        try await deliver(pushed.database, "msg_2", [invoice("inv_1", total: "59000.00", at: 1_795_000_100)])
        ledgerEdit(pushed, total: "50000.00", at: editedInTheBooksAt)
        try await poll(pushed.runner, pushed.database, pushed.integration)
        try await drain(pushed.engine, pushed.database)

        let detected = try await events(pushed.database, .conflictDetected)
        #expect(detected.count == 1)
        let conflict = try #require(
            try await pushed.database.conflicts(page: PageRequest()).items.first)
        // Both versions are kept as they were.
        #expect(conflict.local.data["total"] == "59000.00" && conflict.local.version == "2")
        #expect(conflict.remote.data["total"] == "50000.00" && conflict.remote.version == "2")
        #expect(conflict.policy == policy)
        let changed = try await events(pushed.database, .invoiceChanged)
        switch winner {
        case .billing:
            #expect(conflict.status == .resolved && conflict.resolution == .useLocal)
            #expect(conflict.resolvedBy == "policy:\(policy.rawValue)")
            #expect(pushed.connector.pushes.map(\.version) == [1, 2])
            // The push overwrote the version it had heard of, not the one it wrote before.
            #expect(pushed.connector.pushes.last?.remoteVersion == "2")
            #expect(changed.isEmpty)
        case .books:
            #expect(conflict.status == .resolved && conflict.resolution == .useRemote)
            #expect(pushed.connector.pushes.count == 1)
            #expect(try await pushed.database.jobs(status: .superseded, page: PageRequest()).items.count == 1)
            #expect(changed.count == 1 && changed.first?["data"]?["total"] == "50000.00")
        case .nobody:
            #expect(conflict.status == .open && conflict.resolution == nil)
            #expect(detected.first?["status"] == "open")
            #expect(pushed.connector.pushes.count == 1)
            let held = try await pushed.database.jobs(status: .held, page: PageRequest()).items
            #expect(held.count == 1 && held.first?.lastError?.message.contains(conflict.id) == true)
            #expect(try await pushed.database.conflicts(status: .open, page: PageRequest()).items.count == 1)
            #expect(changed.isEmpty)
        }
    }

    /// A held conflict, and billing's newer version held with it.
    func heldConflict() async throws -> (Pushed, Conflict) {
        let pushed = try await pushedInvoice(policy: .manual)
        try await deliver(pushed.database, "msg_2", [invoice("inv_1", total: "59000.00", at: 1_795_000_100)])
        ledgerEdit(pushed, total: "50000.00", at: 1_795_000_200)
        try await poll(pushed.runner, pushed.database, pushed.integration)
        // Billing changes it again meanwhile: held too, behind the conflict.
        try await deliver(pushed.database, "msg_3", [invoice("inv_1", total: "60000.00", at: 1_795_000_300)])
        try await drain(pushed.engine, pushed.database)
        #expect(pushed.connector.pushes.count == 1)
        #expect(try await pushed.database.jobs(status: .held, page: PageRequest()).items.count == 2)
        let conflict = try #require(try await pushed.database.conflicts(status: .open, page: PageRequest()).items.first)
        return (pushed, conflict)
    }

    @Test func useLocalPushesBillingsVersionOverTheBooks() async throws {
        let (pushed, conflict) = try await heldConflict()
        let resolved = try await pushed.database.resolveConflict(
            id: conflict.id, tenantID: tenant, decision: .useLocal, actor: "api-key:key_1", at: clock.now())
        #expect(resolved?.status == .resolved && resolved?.resolvedBy == "api-key:key_1")
        try await drain(pushed.engine, pushed.database)
        #expect(pushed.connector.pushes.map(\.version) == [1, 2, 3])
        #expect(pushed.connector.pushes[1].remoteVersion == "2")
        #expect(try await events(pushed.database, .conflictResolved).first?["resolution"] == "use_local")
        let audit = try await pushed.database.auditEntries(recordID: conflict.recordID, page: PageRequest()).items
        #expect(audit.map(\.action).contains("conflict.detected"))
        #expect(audit.last(where: { $0.action == "conflict.resolved" })?.actor == "api-key:key_1")
        // Resolved is resolved.
        await #expect(throws: PersistenceError.self) {
            try await pushed.database.resolveConflict(
                id: conflict.id, tenantID: tenant, decision: .useRemote, actor: "test", at: clock.now())
        }
    }

    @Test func useRemoteKeepsTheBooksVersionAndTellsBilling() async throws {
        let (pushed, conflict) = try await heldConflict()
        // Another tenant's key cannot see it.
        #expect(
            try await pushed.database.resolveConflict(
                id: conflict.id, tenantID: "other-school", decision: .useRemote, actor: "test", at: clock.now()) == nil)
        _ = try await pushed.database.resolveConflict(
            id: conflict.id, tenantID: tenant, decision: .useRemote, actor: "test", at: clock.now())
        try await drain(pushed.engine, pushed.database)
        #expect(pushed.connector.pushes.count == 1)
        #expect(try await pushed.database.jobs(status: .superseded, page: PageRequest()).items.count == 2)
        let changed = try await events(pushed.database, .invoiceChanged)
        #expect(changed.count == 1 && changed.first?["data"]?["total"] == "50000.00")
        // The books' version heard again is not a change any more.
        pushed.connector.relist(
            RemoteRecord(
                recordType: .invoice, remoteID: pushed.remoteID, remoteVersion: "2",
                updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_200), deleted: false, data: ["total": "50000.00"]))
        try await poll(pushed.runner, pushed.database, pushed.integration)
        #expect(try await events(pushed.database, .invoiceChanged).count == 1)
    }

    @Test func customValuesBecomeANewVersionPushedToTheBooks() async throws {
        let (pushed, conflict) = try await heldConflict()
        let record = try #require(try await pushed.database.record(id: conflict.recordID))
        guard case .object(var data) = record.data else { throw CancellationError() }
        data["total"] = "55000.00"
        // Based on a version billing has since moved past: refused.
        await #expect(throws: PersistenceError.self) {
            try await pushed.database.resolveConflict(
                id: conflict.id, tenantID: tenant,
                decision: .custom(values: ["total": "55000.00"], data: .object(data), baseVersion: 2), actor: "test",
                at: clock.now())
        }
        _ = try await pushed.database.resolveConflict(
            id: conflict.id, tenantID: tenant,
            decision: .custom(values: ["total": "55000.00"], data: .object(data), baseVersion: 3), actor: "test",
            at: clock.now())
        try await drain(pushed.engine, pushed.database)
        #expect(pushed.connector.pushes.map(\.version) == [1, 4])
        #expect(try await pushed.database.record(id: conflict.recordID)?.data["total"] == "55000.00")
        let resolved = try await events(pushed.database, .conflictResolved)
        #expect(resolved.first?["resolution"] == "custom" && resolved.first?["data"]?["total"] == "55000.00")
    }

    @Test func aChangeHeardWhileItsPushIsInFlightWaitsForThePushAndIsItsEcho() async throws {
        let pushed = try await pushedInvoice()
        try await deliver(pushed.database, "msg_2", [invoice("inv_1", total: "59000.00", at: 1_795_000_100)])
        let claimed = try #require(
            try await pushed.database.claimJobs(
                worker: "w9", platforms: [.quickBooksOnline], now: clock.now(), lease: .seconds(60), limit: 1,
                perIntegration: 1
            ).first)
        // The platform takes the write and reports it before the worker has recorded it.
        let echo = ledgerEdit(pushed, total: "59000.00", at: 1_795_000_500)
        let operation = try await poll(pushed.runner, pushed.database, pushed.integration)
        #expect(operation.status == .completed)
        try await pushed.database.finishJob(
            claimed, worker: "w9", outcome: .succeeded(remoteID: pushed.remoteID, remoteVersion: echo.remoteVersion),
            at: clock.now())
        let summary = try await pushed.database.processLedgerChanges(at: clock.now())
        #expect(summary.echoes == 1 && summary.conflicts == 0)
        #expect(try await events(pushed.database, .conflictDetected).isEmpty)
        #expect(try await events(pushed.database, .invoiceChanged).isEmpty)
    }

    @Test func aPaymentEnteredInTheBooksIsReportedWithBillingsInvoice() async throws {
        let pushed = try await pushedInvoice()
        pushed.connector.publish(
            .payment, remoteID: "P9", updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_600),
            data: [
                "customer_id": "C1", "currency": "INR", "amount": "53100.00", "received_at": "2026-11-20",
                "allocations": [["invoice_id": .string(pushed.remoteID), "amount": "53100.00"]],
            ])
        // A payment against an invoice billing never had: not billing's business.
        pushed.connector.publish(
            .payment, remoteID: "P10", updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_700),
            data: ["amount": "10.00", "allocations": [["invoice_id": "999", "amount": "10.00"]]])
        try await poll(pushed.runner, pushed.database, pushed.integration)
        let recorded = try await events(pushed.database, .paymentRecorded)
        #expect(recorded.count == 1)
        let payment = try #require(recorded.first)
        #expect(payment["invoice_id"] == "inv_1" && payment["amount"] == "53100.00" && payment["currency"] == "INR")
        #expect(payment["date"] == "2026-11-20" && payment["remote_payment_id"] == "P9")
        #expect(payment["platform"] == "quickbooks_online" && payment["change"] == "created")
        #expect(payment["allocations"]?.arrayValue?.first?["remote_invoice_id"] == .string(pushed.remoteID))
    }
}

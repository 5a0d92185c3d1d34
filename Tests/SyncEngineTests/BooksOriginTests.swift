import Accounting
import Connectors
import Persistence
import SyncEngine
import TestSupport
import Testing

/// Records that came from the books and come back from billing: linked to what the books hold, never written again;
/// and changes in the books that billing's record already agrees with, not reported.
@Suite struct BooksOriginTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    /// Billing's invoice `inv_1` pushed, and a payment of it (`P9`, 53,100.00 on 20 November, UTR 77) entered in the
    /// books and told to billing.
    func paidInTheBooks() async throws -> (AppDatabase, Integration, ScriptedConnector, SyncEngine, String) {
        let (database, integrations) = try await setUp()
        try await database.saveMappings(
            integrationID: integrations[0].id,
            CodeMappings(
                accounts: ["4000-TUITION": "79"], taxCodes: ["GST18": "5"], depositAccounts: ["BANK-MAIN": "35"]),
            actor: "test", at: clock.now())
        let connector = ScriptedConnector()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        try await drain(engine, database)
        let invoice = try #require(connector.written.values.first)
        connector.publish(
            .payment, remoteID: "P9", updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_600),
            data: [
                "customer_id": "C1", "currency": "INR", "amount": "53100", "received_at": "2026-11-20",
                "reference": "UTR 77", "allocations": [["invoice_id": .string(invoice), "amount": "53100"]],
            ])
        try await poll(runner(database, connector), database, integrations[0])
        let recorded = try await events(database, .paymentRecorded)
        #expect(recorded.count == 1 && recorded.first?["amount"] == "53100.00")
        return (database, integrations[0], connector, engine, invoice)
    }

    /// Billing's payment as billing books the event it was sent.
    func payment(_ id: String, amount: String = "53100.00", reference: String? = "UTR 77") -> SyncCommand {
        var data: [String: JSONValue] = [
            "id": .string(id), "customer_id": "cus_1", "currency": "INR", "amount": .string(amount),
            "received_at": "2026-11-20T00:00:00Z", "method": "bank_transfer", "deposit_account": "BANK-MAIN",
            "allocations": [["invoice_id": "inv_1", "amount": .string(amount)]],
            "updated_at": "2026-11-20T10:00:00Z",
        ]
        if let reference { data["reference"] = .string(reference) }
        return SyncCommand(
            tenantID: Tenant.ID(tenant), recordType: .payment, localID: id, action: .upsert,
            updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_700), data: .object(data))
    }

    func link(_ database: AppDatabase, _ localID: String) async throws -> String? {
        try await database.records(tenantID: tenant, recordType: "payment", localID: localID, page: PageRequest())
            .items.first?.links.first?.remoteID
    }

    @Test func billingsCopyOfAPaymentFromTheBooksIsLinkedNotWritten() async throws {
        let (database, integration, connector, engine, invoice) = try await paidInTheBooks()
        try await deliver(database, "msg_2", [payment("pay_1")])
        try await drain(engine, database)
        #expect(connector.pushes.map(\.recordType) == [.invoice])
        #expect(try await link(database, "pay_1") == "P9")
        let jobs = try await database.jobs(page: PageRequest()).items.filter { $0.recordType == "payment" }
        #expect(jobs.map(\.status) == [.succeeded])
        // The payment heard again from the books (a new version, the same payment) is billing's own now: billing is
        // not told a second time.
        connector.publish(
            .payment, remoteID: "P9", updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_800),
            data: [
                "customer_id": "C1", "currency": "INR", "amount": "53100", "received_at": "2026-11-20",
                "reference": "UTR 77", "allocations": [["invoice_id": .string(invoice), "amount": "53100"]],
            ])
        try await poll(runner(database, connector), database, integration)
        #expect(try await events(database, .paymentRecorded).count == 1)
        #expect(connector.pushes.map(\.recordType) == [.invoice])
    }

    @Test func aPaymentWhoseAmountDiffersIsPushedAsANewPayment() async throws {
        let (database, _, connector, engine, _) = try await paidInTheBooks()
        try await deliver(database, "msg_2", [payment("pay_1", amount: "50000.00")])
        try await drain(engine, database)
        #expect(connector.pushes.map(\.recordType) == [.invoice, .payment])
        #expect(connector.pushes.last?.action == .create)
        let remote = try #require(try await link(database, "pay_1"))
        #expect(remote != "P9")
    }

    @Test func aPaymentWithAnotherReferenceIsPushedAndTheBooksPaymentLinksOnce() async throws {
        let (database, _, connector, engine, _) = try await paidInTheBooks()
        // Billing's reference differs: another payment.
        try await deliver(database, "msg_2", [payment("pay_0", reference: "UTR 78")])
        // The same payment twice in billing: whichever runs first takes the books' payment, the other is written.
        try await deliver(database, "msg_3", [payment("pay_1")])
        try await deliver(database, "msg_4", [payment("pay_2")])
        try await drain(engine, database)
        let links = [try await link(database, "pay_1"), try await link(database, "pay_2")]
        #expect(links.filter { $0 == "P9" }.count == 1 && links.allSatisfy { $0 != nil })
        let written = links[0] == "P9" ? "pay_2" : "pay_1"
        #expect(connector.pushes.filter { $0.recordType == .payment }.map(\.localID).sorted() == ["pay_0", written])
    }

    /// A payment (Ledgerwire's own, or the books') moves the invoice's balance and version in the books: billing's
    /// invoice says the same as before, so neither an invoice change nor a conflict is reported.
    @Test func anInvoiceChangedOnlyInItsBalanceIsNotReported() async throws {
        let (database, integrations) = try await setUp(policy: .manual)
        let connector = ScriptedConnector()
        try await deliver(database, "msg_1", [invoice("inv_1")])
        let engine = engine(database, connector)
        try await drain(engine, database)
        let remote = try #require(connector.written.values.first)
        // Billing has a newer version not pushed yet: a real change in the books would be a conflict.
        try await deliver(database, "msg_2", [invoice("inv_1", total: "59000.00", at: 1_795_000_100)])
        connector.publish(
            .invoice, remoteID: remote, updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_200),
            data: [
                "number": "INV-1", "customer_id": "C1", "currency": "INR", "total": "53100", "tax_total": "8100",
                "balance": "0",
                "lines": [
                    [
                        "amount": "45000", "quantity": 1, "unit_amount": "45000", "account_id": "79",
                        "tax_code_id": "5",
                    ]
                ],
            ])
        try await poll(runner(database, connector), database, integrations[0])
        #expect(try await events(database, .invoiceChanged).isEmpty)
        #expect(try await events(database, .conflictDetected).isEmpty)
        try await drain(engine, database)
        #expect(connector.pushes.map(\.version) == [1, 2])
        // Its version is remembered: billing's push names it.
        #expect(connector.pushes.last?.remoteVersion == "2")
    }
}

import Accounting
import App
import Connectors
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Persistence
import Sandbox
import SyncEngine
import Synchronization
import TestSupport
import Testing

/// Records that came from QuickBooks go to billing and come back: billing's copy is linked to what QuickBooks holds,
/// never written a second time, and the balance a payment moves is not echoed as an invoice change.
@Suite struct BooksLoopTests {
    typealias World = QuickBooksWorld

    /// Billing's side: a receiver of Ledgerwire's events on loopback, and the dispatcher that sends them.
    final class BillingReceiver: Sendable {
        private let bodies = Mutex<[JSONValue]>([])

        var events: [JSONValue] { bodies.withLock { $0 } }

        func run(_ body: @Sendable (String) async throws -> Void) async throws {
            let router = Router()
            router.post("events") { request, _ in
                let bytes = try await request.body.collect(upTo: 1 << 20)
                let event = try JSONValue(parsing: Array(buffer: bytes))
                self.bodies.withLock { $0.append(event) }
                return Response(status: .noContent)
            }
            var logger = Logger(label: "e2e.billing")
            logger.logLevel = .critical
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
            try await app.test(.live) { client in try await body("http://127.0.0.1:\(try #require(client.port))") }
        }

        /// The events of one type billing received, their data.
        func received(_ type: String) -> [JSONValue] {
            events.filter { $0["type"] == .string(type) }.compactMap { $0["data"] }
        }
    }

    /// Billing subscribes to every event; Ledgerwire's events are sent to it by `send()`.
    func subscribe(_ world: World, _ url: String) async throws -> @Sendable () async throws -> Void {
        let created = try await world.api(
            "POST", "/webhook-subscriptions", ["url": .string(url + "/events"), "event_types": ["*"]])
        #expect(created.status == 201, "\(created.json)")
        let dispatcher = EventDispatcher(
            database: world.components.database, box: world.components.box, transport: world.transport)
        return { while try await dispatcher.deliverDue() > 0 {} }
    }

    /// Billing's customer and invoice (57,820.00) in QuickBooks, with the accounts mapped.
    func invoiced(_ world: World) async throws -> (invoice: [String: JSONValue], customer: [String: JSONValue]) {
        try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
        try await world.bill(
            "invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1", updated: World.billed))
        let integration = try await world.connect()
        _ = try await world.mapAccounts(integration)
        try await world.fullSync(integration)
        return (
            try #require(await world.objects("Invoice").first), try #require(await world.objects("Customer").first)
        )
    }

    /// Webhooks for everything since the last call, fetched and handled.
    func hearTheBooks(_ world: World) async throws {
        let reports = await world.sandbox.deliverWebhooks(with: world.sender())
        #expect(reports.allSatisfy { $0.delivered })
        try await world.hearFromTheBooks()
    }

    func job(_ world: World, _ localID: String) async throws -> Job? {
        try await world.components.database.jobs(page: try PageRequest(limit: 500)).items.first {
            $0.localID == localID
        }
    }

    @Test func aPaymentTypedInQuickBooksAndSentBackByBillingIsLinkedNotWritten() async throws {
        let billing = BillingReceiver()
        try await billing.run { url in
            try await World.run { world in
                let send = try await subscribe(world, url)
                let (invoice, customer) = try await invoiced(world)
                // The bookkeeper enters the family's bank transfer in QuickBooks.
                let paid = try await world.bookkeeper(
                    "POST", "payment",
                    [
                        "CustomerRef": ["value": customer["Id"] ?? .null], "TotalAmt": 57820, "TxnDate": "2026-11-20",
                        "PaymentRefNum": "UTR-4471",
                        "Line": [
                            ["Amount": 57820, "LinkedTxn": [["TxnId": invoice["Id"] ?? .null, "TxnType": "Invoice"]]]
                        ],
                    ])
                #expect(paid.status == 200, "\(paid.json)")
                let paymentID = try #require(paid.json["Payment"]?["Id"]?.stringValue)
                try await hearTheBooks(world)
                try await send()
                let recorded = try #require(billing.received("ledger.payment.recorded").first)
                #expect(recorded["customer_id"] == "cus_1" && recorded["remote_customer_id"] == customer["Id"])
                #expect(recorded["currency"] == "INR" && recorded["amount"] == "57820.00")
                #expect(recorded["remote_payment_id"] == .string(paymentID) && recorded["invoice_id"] == "inv_1")

                // Billing books it and sends it back, as billing does with every payment it records.
                let allocations = (recorded["allocations"]?.arrayValue ?? []).map { allocation -> JSONValue in
                    ["invoice_id": allocation["invoice_id"] ?? .null, "amount": allocation["amount"] ?? .null]
                }
                try await world.bill(
                    "payment.received",
                    [
                        "id": "pay_1", "customer_id": recorded["customer_id"] ?? .null,
                        "currency": recorded["currency"] ?? .null, "amount": recorded["amount"] ?? .null,
                        "received_at": .string((recorded["date"]?.stringValue ?? "") + "T00:00:00Z"),
                        "method": "bank_transfer", "reference": recorded["reference"] ?? .null,
                        "deposit_account": "BANK-MAIN", "allocations": .array(allocations),
                        "updated_at": .string(Timestamp.now().rfc3339),
                    ])
                try await world.drain()
                #expect(await world.objects("Payment").count == 1)
                #expect(try await job(world, "pay_1")?.status == .succeeded)
                let records = try await world.api("GET", "/records?type=payment&local_id=pay_1")
                #expect(records.json["items"]?[0]?["links"]?[0]?["remote_id"] == .string(paymentID))
                #expect(await world.objects("Invoice").first?["Balance"] == .number("0"))

                // Whatever QuickBooks says next about the payment and the invoice it paid, billing hears no echo.
                try await hearTheBooks(world)
                try await world.poll(try #require(try await job(world, "pay_1")?.integrationID))
                try await send()
                #expect(billing.received("ledger.invoice.changed").isEmpty)
                #expect(billing.received("ledger.payment.recorded").count == 1)
                #expect(try await world.events("ledger.invoice.changed").isEmpty)
                #expect(await world.sandbox.limitViolations == 0)
            }
        }
    }

    @Test func aCreditNoteTypedInQuickBooksAndSentBackByBillingIsLinkedNotWritten() async throws {
        let billing = BillingReceiver()
        try await billing.run { url in
            try await World.run { world in
                let send = try await subscribe(world, url)
                let (invoice, customer) = try await invoiced(world)
                let item = try #require(invoice["Line"]?[0]?["SalesItemLineDetail"]?["ItemRef"]?["value"])
                let credited = try await world.bookkeeper(
                    "POST", "creditmemo",
                    [
                        "CustomerRef": ["value": customer["Id"] ?? .null], "DocNumber": "CN-0001",
                        "TxnDate": "2026-11-25",
                        "Line": [
                            [
                                "Description": "Sibling scholarship", "Amount": 5000,
                                "DetailType": "SalesItemLineDetail",
                                "SalesItemLineDetail": [
                                    "ItemRef": ["value": item], "ItemAccountRef": ["value": "1"], "Qty": 1,
                                    "UnitPrice": 5000,
                                ],
                            ]
                        ],
                    ])
                #expect(credited.status == 200, "\(credited.json)")
                let memoID = try #require(credited.json["CreditMemo"]?["Id"]?.stringValue)
                try await hearTheBooks(world)
                try await send()
                let created = try #require(billing.received("ledger.credit_note.created").first)
                #expect(created["customer_id"] == "cus_1" && created["remote_credit_note_id"] == .string(memoID))
                #expect(created["total"] == "5000.00" && created["currency"] == "INR" && created["number"] == "CN-0001")

                // Billing issues its copy of the credit note.
                let lines = (created["lines"]?.arrayValue ?? []).enumerated().map { index, line -> JSONValue in
                    [
                        "id": .string("line_\(index + 1)"), "description": line["description"] ?? .null,
                        "quantity": 1, "unit_amount": line["amount"] ?? .null, "amount": line["amount"] ?? .null,
                        "revenue_account": "4000-TUITION",
                    ]
                }
                try await world.bill(
                    "credit_note.issued",
                    [
                        "id": "cn_1", "number": created["number"] ?? .null,
                        "customer_id": created["customer_id"] ?? .null,
                        "currency": created["currency"] ?? .null, "issue_date": created["date"] ?? .null,
                        "lines": .array(lines), "subtotal": created["total"] ?? .null,
                        "tax_total": created["tax_total"] ?? .null, "total": created["total"] ?? .null,
                        "reason": "Sibling scholarship", "updated_at": .string(Timestamp.now().rfc3339),
                    ])
                try await world.drain()
                #expect(await world.objects("CreditMemo").count == 1)
                #expect(try await job(world, "cn_1")?.status == .succeeded)
                let records = try await world.api("GET", "/records?type=credit_note&local_id=cn_1")
                #expect(records.json["items"]?[0]?["links"]?[0]?["remote_id"] == .string(memoID))
                try await hearTheBooks(world)
                try await send()
                #expect(billing.received("ledger.credit_note.created").count == 1)
            }
        }
    }

    /// Billing's own payment, pushed by Ledgerwire, moves the invoice's balance and SyncToken in QuickBooks: that is
    /// not a change to tell billing about. An invoice the bookkeeper changes, and billing then sends with the same
    /// content, is not written again.
    @Test func ledgerwiresOwnPaymentIsNotEchoedAndAnInvoiceBillingAgreesWithIsNotRewritten() async throws {
        try await World.run { world in
            _ = try await invoiced(world)
            try await world.bill(
                "payment.received",
                [
                    "id": "pay_1", "customer_id": "cus_1", "currency": "INR", "amount": "20000.00",
                    "received_at": "2026-11-20T09:00:00Z", "method": "upi", "deposit_account": "BANK-MAIN",
                    "allocations": [["invoice_id": "inv_1", "amount": "20000.00"]],
                    "updated_at": .string(Timestamp.now().rfc3339),
                ])
            try await world.drain()
            #expect(await world.objects("Payment").count == 1)
            #expect(await world.objects("Invoice").first?["Balance"] == .number("37820"))
            try await hearTheBooks(world)
            #expect(try await world.events("ledger.invoice.changed").isEmpty)
            #expect(try await world.events("ledger.payment.recorded").isEmpty)

            // The bookkeeper moves the due date; billing takes it and sends the invoice back as it now is.
            let invoice = try #require(await world.objects("Invoice").first)
            let edited = try await world.bookkeeper(
                "POST", "invoice",
                [
                    "Id": invoice["Id"] ?? .null, "SyncToken": invoice["SyncToken"] ?? .null, "sparse": true,
                    "DueDate": "2026-12-01",
                ])
            #expect(edited.status == 200)
            try await hearTheBooks(world)
            let changed = try await world.events("ledger.invoice.changed")
            #expect(changed.count == 1 && changed.first?["data"]?["due_date"] == "2026-12-01")
            #expect(
                changed.first?["data"]?["balance"] == "37820.00" && changed.first?["data"]?["customer_id"] == "cus_1")
            let token = await world.objects("Invoice").first?["SyncToken"]
            try await world.bill(
                "invoice.updated",
                World.invoice(
                    "inv_1", number: "GF-0001", customer: "cus_1", updated: World.billed.adding(.seconds(3600))
                )
                .merging(["due_date": "2026-12-01"]))
            try await world.drain()
            #expect(await world.objects("Invoice").first?["SyncToken"] == token)
            let jobs = try await world.components.database.jobs(page: try PageRequest(limit: 500)).items
            #expect(jobs.filter { $0.localID == "inv_1" }.map(\.status) == [.succeeded, .succeeded])
            #expect(await world.sandbox.limitViolations == 0)
        }
    }
}

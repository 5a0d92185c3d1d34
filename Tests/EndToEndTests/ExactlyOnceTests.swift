import Accounting
import App
import Connectors
import Persistence
import Sandbox
import SyncEngine
import Testing

/// Every kind of record billing sends reaches QuickBooks once, though billing delivers it twice and the answer to
/// its first write is lost after QuickBooks made it. The emulator's duplicate-number check is off, as in a new
/// QuickBooks company, so nothing but Ledgerwire keeps the second copy out: with the look-up before a resend, and
/// again with `requestid` alone.
@Suite struct ExactlyOnceTests {
    typealias World = QuickBooksWorld

    @Test(arguments: [true, false])
    func eachRecordIsMadeOnceThoughDeliveredTwiceAndItsFirstAnswerLost(findsUncertainWrites: Bool) async throws {
        try await World.run(findsUncertainWrites: findsUncertainWrites) { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            let preferences = await world.sandbox.preferences(realmID: World.realm)
            #expect(
                preferences?["SalesFormsPrefs"]?["CustomTxnNumbers"] == false, "QuickBooks allows a DocNumber twice")

            /// Billing sends `data` twice, under two webhook ids; QuickBooks makes the first write and its answer
            /// is lost. Then the workers run until nothing is open.
            func twiceWithTheAnswerLost(_ type: String, _ data: JSONValue) async throws {
                try await world.bill(type, data)
                try await world.bill(type, data)
                await world.sandbox.dropAnswers(1)
                try await world.drain()
                #expect(await world.sandbox.droppedAnswers == 0, "no write of the \(type) lost its answer")
            }

            try await twiceWithTheAnswerLost("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await twiceWithTheAnswerLost(
                "invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await twiceWithTheAnswerLost(
                "credit_note.issued",
                [
                    "id": "cn_1", "number": "CN-0001", "customer_id": "cus_1", "invoice_id": "inv_1",
                    "currency": "INR", "issue_date": "2026-11-10",
                    "lines": [
                        [
                            "id": "line_1", "description": "Sibling scholarship", "quantity": 1,
                            "unit_amount": "5000.00", "amount": "5000.00", "revenue_account": "4000-TUITION",
                        ]
                    ],
                    "subtotal": "5000.00", "tax_total": "0.00", "total": "5000.00", "reason": "Scholarship",
                    "updated_at": "2026-11-10T09:00:00Z",
                ])
            try await twiceWithTheAnswerLost(
                "payment.received",
                [
                    "id": "pay_1", "customer_id": "cus_1", "currency": "INR", "amount": "20000.00",
                    "received_at": "2026-11-20T09:00:00Z", "method": "upi", "deposit_account": "BANK-MAIN",
                    "allocations": [["invoice_id": "inv_1", "amount": "20000.00"]],
                    "updated_at": "2026-11-20T09:00:00Z",
                ])
            try await twiceWithTheAnswerLost(
                "refund.issued",
                [
                    "id": "ref_1", "customer_id": "cus_1", "currency": "INR", "amount": "1500.00",
                    "refunded_at": "2026-11-22T09:00:00Z", "method": "bank_transfer", "payment_id": "pay_1",
                    "deposit_account": "BANK-MAIN", "updated_at": "2026-11-22T09:00:00Z",
                ])

            let made: [(entity: String, localType: String, localID: String, amount: String)] = [
                ("Customer", "customer", "cus_1", ""), ("Invoice", "invoice", "inv_1", "57820"),
                ("CreditMemo", "credit_note", "cn_1", "5000"), ("Payment", "payment", "pay_1", "20000"),
                ("RefundReceipt", "refund", "ref_1", "1500"),
            ]
            for (entity, localType, localID, amount) in made {
                let objects = await world.objects(entity)
                #expect(objects.count == 1, "\(entity): \(objects.count) in the books")
                if !amount.isEmpty { #expect(objects.first?["TotalAmt"] == .number(amount), "\(entity) total") }
                let record = try await world.api("GET", "/records?type=\(localType)&local_id=\(localID)")
                #expect(
                    record.json["items"]?[0]?["links"]?[0]?["remote_id"] == objects.first?["Id"],
                    "\(localID) is linked to the \(entity) in the books")
            }
            #expect(await world.objects("Invoice").first?["Balance"] == .number("37820"))
            let jobs = try await world.components.database.jobs(page: try PageRequest(limit: 500)).items
            #expect(jobs.allSatisfy { $0.status == .succeeded }, "\(jobs.map { "\($0.localID) \($0.status)" })")
        }
    }
}

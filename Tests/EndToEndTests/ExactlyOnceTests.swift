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
            /// is lost, and so is the answer to the connector's resending of it: the job's next attempt must find
            /// out. Then the workers run until nothing is open.
            func twiceWithTheAnswerLost(_ type: String, _ data: JSONValue) async throws {
                try await world.bill(type, data)
                try await world.bill(type, data)
                await world.sandbox.dropAnswers(2)
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

    /// Two invoices go in one batch; its answer is lost, and so is the answer to its resending. Meanwhile a third
    /// invoice comes, so their next attempt is another batch under another `requestid`: only the look-up before it
    /// keeps the first two from being made again.
    @Test func aBatchWhoseAnswersWereLostIsFoundWhenRetriedInAnotherBatch() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await world.drain()
            for number in 1...2 {
                try await world.bill(
                    "invoice.issued", World.invoice("inv_\(number)", number: "GF-000\(number)", customer: "cus_1"))
            }
            await world.sandbox.dropAnswers(2)
            try await world.engine.runDueJobs()
            #expect(await world.sandbox.droppedAnswers == 0, "the batch and its resending lost their answers")
            #expect(await world.objects("Invoice").count == 2)
            let retried = try await world.components.database.jobs(status: .pending, page: PageRequest()).items
            #expect(retried.count == 2 && retried.allSatisfy { $0.attempts == 1 })

            try await world.bill("invoice.issued", World.invoice("inv_3", number: "GF-0003", customer: "cus_1"))
            try await world.drain()
            let invoices = await world.objects("Invoice")
            #expect(invoices.compactMap { $0["DocNumber"]?.stringValue }.sorted() == ["GF-0001", "GF-0002", "GF-0003"])
        }
    }

    /// A full sync of 400 invoices, 60 credit notes, 60 payments and 30 refunds through a network interruption:
    /// eight writes lose their answers, each once, then QuickBooks is down for maintenance a while. With the
    /// look-up switched off, only `requestid` — each write sent again as it was — keeps every record single.
    @Test func aFullSyncThroughANetworkInterruptionMakesEachRecordOnceByRequestIDAlone() async throws {
        try await World.run(
            limits: World.unthrottled, sandboxLimits: World.unthrottledSandbox, findsUncertainWrites: false
        ) { world in
            for customer in 1...20 {
                try await world.bill("customer.created", World.customer("cus_\(customer)", name: "Family \(customer)"))
            }
            for index in 1...400 {
                try await world.bill(
                    "invoice.issued",
                    World.invoice("inv_\(index)", number: "GF-\(index)", customer: "cus_\(index % 20 + 1)"))
            }
            for index in 1...60 {
                let customer = JSONValue.string("cus_\(index % 20 + 1)")
                try await world.bill(
                    "credit_note.issued",
                    [
                        "id": .string("cn_\(index)"), "number": .string("CN-\(index)"), "customer_id": customer,
                        "invoice_id": .string("inv_\(index)"), "currency": "INR", "issue_date": "2026-11-10",
                        "lines": [
                            [
                                "id": "line_1", "description": "Sibling scholarship", "quantity": 1,
                                "unit_amount": "5000.00", "amount": "5000.00", "revenue_account": "4000-TUITION",
                            ]
                        ],
                        "subtotal": "5000.00", "tax_total": "0.00", "total": "5000.00",
                        "updated_at": "2026-11-10T09:00:00Z",
                    ])
                try await world.bill(
                    "payment.received",
                    [
                        "id": .string("pay_\(index)"), "customer_id": customer, "currency": "INR",
                        "amount": "10000.00", "received_at": "2026-11-20T09:00:00Z", "method": "upi",
                        "deposit_account": "BANK-MAIN",
                        "allocations": [["invoice_id": .string("inv_\(index)"), "amount": "10000.00"]],
                        "updated_at": "2026-11-20T09:00:00Z",
                    ])
            }
            for index in 1...30 {
                try await world.bill(
                    "refund.issued",
                    [
                        "id": .string("ref_\(index)"), "customer_id": .string("cus_\(index % 20 + 1)"),
                        "currency": "INR", "amount": "1000.00", "refunded_at": "2026-11-22T09:00:00Z",
                        "method": "bank_transfer", "payment_id": .string("pay_\(index)"),
                        "deposit_account": "BANK-MAIN", "updated_at": "2026-11-22T09:00:00Z",
                    ])
            }
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            let requested = try await world.api("POST", "/integrations/\(integration)/sync", ["mode": "full"])
            #expect(requested.status < 300)
            while try await world.runner.runDueOperation() {}
            var lost = 0
            for _ in 0..<8 {
                await world.sandbox.dropAnswers(1)
                try await world.engine.runDueJobs()
                if await world.sandbox.droppedAnswers == 0 { lost += 1 }
            }
            #expect(lost >= 5, "writes lost their answers in \(lost) of 8 rounds")
            await world.sandbox.setMaintenance(true)
            for _ in 0..<3 { try await world.engine.runDueJobs() }
            await world.sandbox.setMaintenance(false)
            try await world.drain()
            while try await world.runner.runDueOperation() {}
            for (entity, count) in [("Invoice", 400), ("CreditMemo", 60), ("Payment", 60), ("RefundReceipt", 30)] {
                let objects = await world.objects(entity)
                #expect(objects.count == count, "\(entity): \(objects.count) in the books")
                let markers = Set(objects.compactMap { $0["PrivateNote"]?.stringValue })
                #expect(markers.count == count, "\(entity): each billing record once")
            }
            #expect(await world.objects("Customer").count == 20)
            // 57,820 each, less the 10,000 paid on the first 60.
            let otherBalances = await world.objects("Invoice").filter { invoice in
                let number = Int(invoice["DocNumber"]?.stringValue?.dropFirst(3) ?? "") ?? 0
                return invoice["Balance"] != .number(number <= 60 ? "47820" : "57820")
            }.count
            #expect(otherBalances == 0, "invoices with another balance")
            let jobs = try await world.components.database.jobs(page: try PageRequest(limit: 1000)).items
            #expect(
                jobs.allSatisfy { $0.status == .succeeded }, "\(jobs.filter { $0.status != .succeeded }.count) open")
        }
    }
}

import Accounting
import App
import Foundation
import Persistence
import Sandbox
import SyncEngine
import TestSupport
import Testing

/// QuickBooks Desktop end to end (issue 19): the real pipeline, `/qbwc`, and the fake Web Connector with its fake
/// company on loopback.
@Suite struct QuickBooksDesktopEndToEndTests {
    @Test func aSchoolConnectsItsQuickBooksAndItsBillingHistoryArrivesToTheCent() async throws {
        try await QuickBooksDesktopWorld.run { world in
            let (id, password) = try await world.createIntegration()
            #expect(try await world.api("GET", "/integrations/\(id)").json["status"] == "pending")
            let qbwc = try await world.webConnector(id, password: password)
            #expect(qbwc.application.runEveryMinutes == 5)
            #expect(qbwc.application.userName == "greenfield-qb")

            // The first run signs in, records the company and reads its lists; there is nothing to push yet.
            let first = try await qbwc.run()
            #expect(first.authentication == "")
            #expect(first.clientVersionAnswer == "")
            #expect(first.percents.last == 100, "\(first)")
            #expect(first.closeMessage != nil)
            let integration = try await world.api("GET", "/integrations/\(id)")
            #expect(integration.json["status"] == "connected")
            #expect(integration.json["settings"]?["country"] == "US")
            #expect(integration.json["settings"]?["password"] == nil, "the password is never shown again")
            try await world.map(id)

            // Billing's history: a customer and two invoices.
            try await world.bill("customer.created", QuickBooksDesktopWorld.customer("cus_1", name: "Priya Sharma"))
            try await world.bill(
                "invoice.issued", QuickBooksDesktopWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await world.bill(
                "invoice.issued",
                QuickBooksDesktopWorld.invoice("inv_2", number: "GF-2026-TERM2-000002", customer: "cus_1"))
            try await world.eventually("the customer's job waits for QuickBooks") {
                try await world.job("customer", "cus_1")?.status == .awaitingPlatform
            }

            let second = try await qbwc.run()
            #expect(second.authentication == "")
            #expect(second.percents.last == 100, "\(second)")
            #expect(second.percents == second.percents.sorted(), "percent done only grows: \(second)")
            #expect(second.lastError == nil, "\(second)")

            let customer = try #require(world.company.customer(named: "Priya Sharma"))
            #expect(customer.email == "cus_1@families.example")
            let invoice = try #require(world.company.document(refNumber: "GF-0001"))
            #expect(invoice.customerListID == customer.listID)
            #expect(invoice.lines.map(\.amount) == [4_500_00, 400_00])
            #expect(invoice.lines.map(\.itemListID) == [world.lists.tuition, world.lists.transport])
            #expect(invoice.lines.map(\.taxCodeListID) == [world.lists.taxable, world.lists.nonTaxable])
            #expect(invoice.lines.map(\.description) == ["Term 2 tuition", "School bus"])
            #expect(invoice.salesTaxItem == world.lists.salesTax)
            #expect(invoice.salesTax == 371_25)
            #expect(invoice.total == 5_271_25)
            #expect(invoice.date == "2026-11-03" && invoice.dueDate == "2026-11-17")
            // A number longer than RefNumber's 11 characters is not cut: a stable reference, the number in the memo.
            let long = try #require(world.company.documents.first { $0.memo.contains("GF-2026-TERM2-000002") })
            #expect(long.refNumber.count == 11 && long.refNumber.hasPrefix("LW"))
            #expect(world.company.documents.count == 2)
            for (type, localID) in [("customer", "cus_1"), ("invoice", "inv_1"), ("invoice", "inv_2")] {
                #expect(try await world.job(type, localID)?.status == .succeeded)
            }

            // A payment entered in QuickBooks reaches billing on the next run that reads changes.
            world.company.receivePayment(
                customerListID: customer.listID, date: "2026-11-20", total: 5_271_25,
                applied: [(invoice.txnID, 5_271_25)], depositAccount: world.lists.bank)
            world.clock.advance(by: .seconds(6 * 60))
            let third = try await qbwc.run()
            #expect(third.authentication == "")
            #expect(third.percents.last == 100)
            try await world.eventually("billing is told of the payment") {
                try await !world.events("ledger.payment.recorded").isEmpty
            }
            let recorded = try #require(try await world.events("ledger.payment.recorded").first)
            #expect(recorded["amount"] == "5271.25", "\(recorded)")
            #expect(recorded["allocations"]?[0]?["invoice_id"] == "inv_1", "\(recorded)")

            // Nothing queued and the changes read lately: the Web Connector is told there is nothing to do.
            #expect(try await qbwc.run().authentication == "none")
        }
    }

    @Test func nothingIsPushedTwice() async throws {
        try await QuickBooksDesktopWorld.run { world in
            let (_, qbwc) = try await world.connected()
            try await world.bill("customer.created", QuickBooksDesktopWorld.customer("cus_1", name: "Priya Sharma"))
            _ = try await qbwc.run()
            #expect(try await world.job("customer", "cus_1")?.status == .succeeded)

            // The same event delivered twice makes one job, one invoice.
            let event = QuickBooksDesktopWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1")
            try await world.bill("invoice.issued", event, id: "msg_same_delivery")
            try await world.bill("invoice.issued", event, id: "msg_same_delivery")
            try await world.eventually("the invoice waits for QuickBooks") {
                try await world.job("invoice", "inv_1")?.status == .awaitingPlatform
            }

            // The PC sleeps after QuickBooks ran the document and before its answer reached Ledgerwire.
            qbwc.breakOffAfterNextWrite()
            let broken = try await qbwc.run()
            #expect(broken.closeMessage == nil, "the run broke off")
            #expect(world.company.documents.count == 1, "QuickBooks did make the invoice: \(broken)")

            // A second Web Connector for the company while that session is still open is told busy.
            #expect(try await qbwc.run().authentication == "busy")

            // Once the broken session has gone quiet, the next run asks QuickBooks before writing again.
            world.clock.advance(by: .seconds(6 * 60))
            let next = try await qbwc.run()
            #expect(next.authentication == "")
            #expect(next.percents.last == 100)
            #expect(try await world.job("invoice", "inv_1")?.status == .succeeded, "found by its mark in this run")
            #expect(world.company.documents.count == 1, "no second invoice")
            #expect(try await world.job("invoice", "inv_1")?.remoteID == world.company.documents.first?.txnID)
        }
    }

    @Test func theWebConnectorIsToldWhatIsWrongAndNothingIsLost() async throws {
        try await QuickBooksDesktopWorld.run { world in
            let (id, password) = try await world.createIntegration()
            let qbwc = try await world.webConnector(id, password: password)

            // A wrong password: nvu, audited, and no session.
            let intruder = try await world.webConnector(id, password: "not-the-password-at-all")
            #expect(try await intruder.run().authentication == "nvu")
            let audit = try await world.api("GET", "/audit?integration_id=\(id)&limit=100")
            let entries = (audit.json["items"]?.arrayValue ?? []).filter {
                $0["action"] == "web_connector.sign_in_failed"
            }
            #expect(entries.count == 1, "\(audit.json)")
            #expect("\(entries)".contains("wrong_password"))
            #expect(!"\(entries)".contains("not-the-password-at-all"), "the password is never audited")

            _ = try await qbwc.run()
            try await world.map(id)
            try await world.bill("customer.created", QuickBooksDesktopWorld.customer("cus_1", name: "Priya Sharma"))

            // QuickBooks is not running on the PC: connectionError, the reason shown, the customer still queued.
            qbwc.setQuickBooksRunning(false)
            let closed = try await qbwc.run()
            #expect(closed.connectionErrorAnswer == "done")
            let shown = try await world.api("GET", "/integrations/\(id)")
            #expect(shown.json["reachability"]?["status"] == "unreachable", "\(shown.json)")
            #expect(
                shown.json["reachability"]?["last_error"]?["message"]?.stringValue?.contains(
                    "could not open QuickBooks") == true, "\(shown.json)")
            #expect(world.company.customers.isEmpty)
            #expect(try await world.job("customer", "cus_1")?.status == .awaitingPlatform)

            // QuickBooks is open again: the next run delivers, and the reason is cleared.
            qbwc.setQuickBooksRunning(true)
            let next = try await qbwc.run()
            #expect(next.percents.last == 100)
            #expect(world.company.customer(named: "Priya Sharma") != nil)
            #expect(try await world.api("GET", "/integrations/\(id)").json["reachability"]?["status"] == "reachable")
        }
    }

    @Test func aStaleEditSequenceIsReadAgainAndAQuickBooksRefusalFailsTheJobInItsWords() async throws {
        try await QuickBooksDesktopWorld.run { world in
            let (_, qbwc) = try await world.connected()
            try await world.bill("customer.created", QuickBooksDesktopWorld.customer("cus_1", name: "Priya Sharma"))
            try await world.bill(
                "invoice.issued", QuickBooksDesktopWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            _ = try await qbwc.run()
            let invoice = try #require(world.company.document(refNumber: "GF-0001"))

            // Someone edits the invoice in QuickBooks; then billing changes it too.
            world.company.touch(invoice.txnID, memo: "Checked by the bursar")
            var fields =
                QuickBooksDesktopWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1").objectValue ?? [:]
            fields["due_date"] = "2026-11-30"
            fields["updated_at"] = .string(Timestamp.now().adding(.seconds(1)).rfc3339)
            let changed = JSONValue.object(fields)
            try await world.bill("invoice.updated", changed)
            try await world.eventually("the change waits for QuickBooks") {
                try await world.components.database.jobs(page: PageRequest(limit: 50)).items.contains {
                    $0.localID == "inv_1" && $0.status == .awaitingPlatform
                }
            }
            let run = try await qbwc.run()
            #expect(run.percents.last == 100, "\(run)")
            try await world.eventually("the change is written") {
                world.company.document(refNumber: "GF-0001")?.dueDate == "2026-11-30"
            }
            #expect(world.company.documents.count == 1)
            #expect(world.company.statuses[3200] == 1, "QuickBooks refused the first change as stale")

            // The family's new email reaches the customer in QuickBooks (CustomerMod with its EditSequence).
            var family = QuickBooksDesktopWorld.customer("cus_1", name: "Priya Sharma").objectValue ?? [:]
            family["email"] = "priya.sharma@families.example"
            family["updated_at"] = .string(Timestamp.now().adding(.seconds(2)).rfc3339)
            try await world.bill("customer.updated", .object(family))
            try await world.eventually("the customer's change waits for QuickBooks") {
                try await world.components.database.jobs(page: PageRequest(limit: 50)).items.contains {
                    $0.localID == "cus_1" && $0.status == .awaitingPlatform
                }
            }
            _ = try await qbwc.run()
            #expect(world.company.customer(named: "Priya Sharma")?.email == "priya.sharma@families.example")
            #expect(world.company.customers.count == 1)

            // The accountant deletes the bus item the mapping names: QuickBooks refuses, in its words.
            world.company.removeItem(world.lists.transport)
            try await world.bill(
                "invoice.issued", QuickBooksDesktopWorld.invoice("inv_2", number: "GF-0002", customer: "cus_1"))
            try await world.eventually("the invoice waits for QuickBooks") {
                try await world.job("invoice", "inv_2")?.status == .awaitingPlatform
            }
            _ = try await qbwc.run()
            let job = try #require(try await world.job("invoice", "inv_2"))
            #expect(job.status == .failed)
            #expect(job.lastError?.code == "qbxml_3140")
            #expect(job.lastError?.message.contains("invalid reference to QuickBooks Item") == true, "\(job)")
            let api = try await world.api("GET", "/jobs/\(job.id)")
            #expect("\(api.json)".contains("invalid reference to QuickBooks Item"))
        }
    }

    @Test func aBacklogOf2000InvoicesDrainsInDocumentsTheWebConnectorHandles() async throws {
        try await QuickBooksDesktopWorld.run { world in
            let (_, qbwc) = try await world.connected()
            for customer in 1...20 {
                try await world.bill(
                    "customer.created", QuickBooksDesktopWorld.customer("cus_\(customer)", name: "Family \(customer)"))
            }
            for number in 1...2_000 {
                try await world.bill(
                    "invoice.issued",
                    QuickBooksDesktopWorld.invoice(
                        "inv_\(number)", number: "GF-\(number)", customer: "cus_\(number % 20 + 1)"))
            }
            var runs: [WebConnector.Run] = []
            for _ in 0..<10 where world.company.documents.count < 2_000 {
                runs.append(try await qbwc.run())
            }
            #expect(world.company.documents.count == 2_000)
            #expect(world.company.customers.count == 20)
            let percents = runs.flatMap(\.percents)
            #expect(Set(percents).count > 5, "the Web Connector shows progress: \(percents)")
            for run in runs {
                #expect(run.percents.last == 100, "\(run.percents)")
                #expect(run.percents == run.percents.sorted())
                #expect(run.largestDocument <= 512 * 1024)
            }
            #expect(runs.map(\.requests).reduce(0, +) >= 2_020)
            #expect(runs.allSatisfy { $0.requests <= $0.documents * 100 })
            let total = world.company.documents.reduce(Int64(0)) { $0 + $1.total }
            #expect(total == 2_000 * 5_271_25)

            // The next read of changes pages through the 2,000 invoices by QuickBooks' iterator: all echoes.
            world.clock.advance(by: .seconds(6 * 60))
            let read = try await qbwc.run()
            #expect(read.percents.last == 100, "\(read.percents)")
            #expect(read.documents >= 20, "100 invoices a page: \(read.documents) documents")
            try await world.handleChangesHeard()
            #expect(try await world.events("ledger.invoice.changed").isEmpty)
        }
    }

    @Test func changesMadeInQuickBooksReachBillingOnceAndItsOwnWritesAreEchoes() async throws {
        try await QuickBooksDesktopWorld.run { world in
            let (_, qbwc) = try await world.connected()
            try await world.bill("customer.created", QuickBooksDesktopWorld.customer("cus_1", name: "Priya Sharma"))
            for number in 1...2 {
                try await world.bill(
                    "invoice.issued",
                    QuickBooksDesktopWorld.invoice("inv_\(number)", number: "GF-000\(number)", customer: "cus_1"))
            }
            _ = try await qbwc.run()
            #expect(world.company.documents.count == 2)

            // The next read of changes hears Ledgerwire's own invoices: echoes, nothing told.
            world.clock.advance(by: .seconds(6 * 60))
            #expect(try await qbwc.run().percents.last == 100)
            try await world.handleChangesHeard()
            #expect(try await world.events("ledger.invoice.changed").isEmpty, "Ledgerwire's own invoices are echoes")

            // The bursar corrects GF-0001's bus line in QuickBooks and voids GF-0002.
            let first = try #require(world.company.document(refNumber: "GF-0001"))
            let second = try #require(world.company.document(refNumber: "GF-0002"))
            world.company.setLineAmounts(first.txnID, [4_500_00, 300_00])
            world.company.void(second.txnID)
            world.clock.advance(by: .seconds(6 * 60))
            #expect(try await qbwc.run().percents.last == 100)
            try await world.eventually("billing is told of both") {
                try await world.events("ledger.invoice.changed").count == 2
            }
            let changed = try await world.events("ledger.invoice.changed")
            let edited = try #require(changed.first { $0["invoice_id"] == "inv_1" })
            #expect(edited["platform"] == "quickbooks_desktop", "\(edited)")
            #expect(edited["remote_invoice_id"]?.stringValue == first.txnID)
            #expect(edited["data"]?["total"] == "5171.25", "\(edited)")
            let voided = try #require(changed.first { $0["invoice_id"] == "inv_2" })
            #expect(voided["change"] == "voided", "\(voided)")
        }
    }

    @Test func aUKCompanyTakesEachLinesVATAsBillingCharged() async throws {
        try await QuickBooksDesktopWorld.run(country: "UK") { world in
            let (id, password) = try await world.createIntegration()
            let qbwc = try await world.webConnector(id, password: password)
            _ = try await qbwc.run()
            #expect(try await world.api("GET", "/integrations/\(id)").json["settings"]?["country"] == "UK")
            try await world.map(id)
            try await world.bill("customer.created", QuickBooksDesktopWorld.customer("cus_1", name: "Olivia Brown"))
            try await world.bill(
                "invoice.issued", QuickBooksDesktopWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            let run = try await qbwc.run()
            #expect(run.percents.last == 100, "\(run)")
            let invoice = try #require(world.company.document(refNumber: "GF-0001"))
            #expect(invoice.salesTaxItem == nil, "VAT goes by line, not by a sales-tax item")
            #expect(invoice.lines.map(\.taxAmount) == [371_25, 0])
            #expect(invoice.lines.map(\.taxCodeListID) == [world.lists.taxable, world.lists.nonTaxable])
            #expect(invoice.total == 5_271_25)
            #expect(try await world.job("invoice", "inv_1")?.status == .succeeded)
        }
    }

    @Test func aRecordInUseInQuickBooksIsTriedAgainOnALaterRun() async throws {
        try await QuickBooksDesktopWorld.run { world in
            let (_, qbwc) = try await world.connected()
            try await world.bill("customer.created", QuickBooksDesktopWorld.customer("cus_1", name: "Priya Sharma"))
            try await world.bill(
                "invoice.issued", QuickBooksDesktopWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            _ = try await qbwc.run()
            let invoice = try #require(world.company.document(refNumber: "GF-0001"))

            // The bursar has the invoice open in QuickBooks when billing's change arrives.
            world.company.lock(invoice.txnID)
            var fields =
                QuickBooksDesktopWorld.invoice("inv_1", number: "GF-0001", customer: "cus_1").objectValue ?? [:]
            fields["due_date"] = "2026-12-15"
            fields["updated_at"] = .string(Timestamp.now().adding(.seconds(1)).rfc3339)
            try await world.bill("invoice.updated", .object(fields))
            try await world.eventually("the change waits for QuickBooks") {
                try await world.components.database.jobs(page: PageRequest(limit: 50)).items.contains {
                    $0.localID == "inv_1" && $0.status == .awaitingPlatform
                }
            }
            #expect(try await qbwc.run().percents.last == 100)
            #expect(world.company.statuses[3170] == 1)
            let waiting = try await world.components.database.jobs(page: PageRequest(limit: 50)).items.filter {
                $0.localID == "inv_1" && $0.status == .pending
            }
            #expect(waiting.count == 1, "the change waits for a later run, not failed")

            // Closed again; a later run writes the change.
            world.company.unlockAll()
            world.clock.advance(by: .seconds(120))
            try await world.eventually("the change is written") {
                _ = try await qbwc.run()
                return world.company.document(refNumber: "GF-0001")?.dueDate == "2026-12-15"
            }
        }
    }

    @Test func paymentsCreditNotesAndVoidsReachQuickBooksAndRefundsStayInBilling() async throws {
        try await QuickBooksDesktopWorld.run { world in
            let (_, qbwc) = try await world.connected()
            try await world.bill("customer.created", QuickBooksDesktopWorld.customer("cus_1", name: "Priya Sharma"))
            for number in 1...3 {
                try await world.bill(
                    "invoice.issued",
                    QuickBooksDesktopWorld.invoice("inv_\(number)", number: "GF-000\(number)", customer: "cus_1"))
            }
            _ = try await qbwc.run()
            var payment = XeroWorld.payment("pay_1", invoice: "inv_1", amount: "5271.25", currency: "USD")
            payment = payment.setting([.key("reference")], to: "CHK 1044")
            try await world.bill("payment.received", payment)
            var note = XeroWorld.creditNote("cn_1", number: "CN-1", invoice: "inv_1", amount: "100.00")
            note = note.setting([.key("currency")], to: "USD")
            try await world.bill("credit_note.issued", note)
            var refund = XeroWorld.refund("ref_1", creditNote: "cn_1", amount: "100.00")
            refund = refund.setting([.key("currency")], to: "USD")
            try await world.bill("refund.issued", refund)
            var scholarship = XeroWorld.creditNote("cn_2", number: "CN-2", invoice: "inv_3", amount: "1000.00")
            scholarship = scholarship.setting([.key("currency")], to: "USD")
            try await world.bill("credit_note.issued", scholarship)
            try await world.bill("invoice.voided", XeroWorld.voided("inv_2", number: "GF-0002"))
            try await world.eventually("the payment waits for QuickBooks") {
                try await world.job("payment", "pay_1")?.status == .awaitingPlatform
            }
            let run = try await qbwc.run()
            #expect(run.percents.last == 100, "\(run)")

            let invoice = try #require(world.company.document(refNumber: "GF-0001"))
            let received = try #require(world.company.payments.first { $0.credits.isEmpty })
            #expect(world.company.payments.count == 2, "the payment, and the credit applied")
            #expect(received.total == 5_271_25 && received.refNumber == "CHK 1044")
            #expect(received.depositAccount == world.lists.bank)
            #expect(received.applied.map(\.txnID) == [invoice.txnID] && received.applied.map(\.amount) == [5_271_25])
            #expect(invoice.balance == 0, "paid in full")
            // CN-1 credits a paid invoice: QuickBooks keeps it as the customer's credit. CN-2 is applied to GF-0003.
            let memo = try #require(world.company.document(refNumber: "CN-1"))
            #expect(memo.kind == "CreditMemo" && memo.total == 100_00 && memo.balance == 100_00)
            #expect(memo.lines.map(\.itemListID) == [world.lists.tuition])
            let scholarshipMemo = try #require(world.company.document(refNumber: "CN-2"))
            #expect(scholarshipMemo.balance == 0, "its whole credit is applied")
            #expect(world.company.document(refNumber: "GF-0003")?.balance == 4_271_25)
            let application = try #require(world.company.payments.first { !$0.credits.isEmpty })
            #expect(application.total == 0 && application.credits.map(\.amount) == [1_000_00])
            let voided = try #require(world.company.document(refNumber: "GF-0002"))
            #expect(voided.voided && voided.total == 0 && voided.memo.hasPrefix("VOID:"))
            for (type, localID) in [("payment", "pay_1"), ("credit_note", "cn_1"), ("credit_note", "cn_2")] {
                #expect(try await world.job(type, localID)?.status == .succeeded, "\(type)")
            }
            #expect(try await world.job("refund", "ref_1") == nil, "refunds are recorded in QuickBooks by hand")
        }
    }
}

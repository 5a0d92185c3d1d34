import Accounting
import Connectors
import Foundation
import Sandbox
import Testing

/// Billing and a school's Tally kept in agreement, end to end: signed billing webhooks into Ledgerwire, the Tally
/// connector posting XML to the emulator on loopback, the emulator's books read back as Tally would show them.
@Suite struct TallyEndToEndTests {
    func amount(_ text: String) -> TallyAmount { TallyAmount(parsing: text)! }

    @Test func invoicesBecomeBalancedSalesVouchersWithTheGSTSplitByPlaceOfSupply() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            try await world.bill(
                "customer.created",
                TallyWorld.customer("cus_b", name: "Ravi Kumar", state: "Maharashtra", gstin: "27AAPFU0939F1ZV"))
            // 18 % of 1000.05 is 180.01: 90.00 CGST + 90.00 SGST and a paisa to round-off.
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.05", tax: "180.01", transport: "500.00",
                    total: "1680.06"))
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_2", number: "INV-2", customer: "cus_b", tuition: "2000.00", tax: "360.00", total: "2360.00"))
            try await world.drain()

            let asha = try #require(await world.ledger("Asha Rao"))
            #expect(asha.parent == "Sundry Debtors")
            #expect(asha.value("LEDSTATENAME") == "Karnataka")
            #expect(asha.value("GSTREGISTRATIONTYPE") == "Unregistered")
            let ravi = try #require(await world.ledger("Ravi Kumar"))
            #expect(ravi.value("PARTYGSTIN") == "27AAPFU0939F1ZV")
            #expect(ravi.value("GSTREGISTRATIONTYPE") == "Regular")

            let intra = try await world.voucher(number: "INV-1")
            #expect(intra.type == "Sales" && intra.date == 20260403 && intra.partyLedger == "Asha Rao")
            #expect(intra.placeOfSupply == "Karnataka")
            #expect(
                intra.entries.map { "\($0.ledger) \($0.amount)" } == [
                    "Asha Rao -1680.06", "Tuition Fees 1000.05", "Transport Fees 500.00", "Output CGST 9% 90.00",
                    "Output SGST 9% 90.00", "Round Off 0.01",
                ])
            #expect(
                intra.entries[0].bills == [
                    TallyBillAllocation(name: "INV-1", type: "New Ref", amount: amount("-1680.06"))
                ])
            let inter = try await world.voucher(number: "INV-2")
            #expect(
                inter.entries.map { "\($0.ledger) \($0.amount)" } == [
                    "Ravi Kumar -2360.00", "Tuition Fees 2000.00", "Output IGST 18% 360.00",
                ])
            #expect(inter.placeOfSupply == "Maharashtra")
            #expect(
                await world.sandbox.outstandingBills(company: TallyWorld.company, party: "Asha Rao").map {
                    "\($0.name) \($0.pending)"
                } == ["INV-1 -1680.06"])

            try await world.expectEveryJobSucceeded()
        }
    }

    @Test func paymentsCreditNotesRefundsAndVoidsLandAsTallyExpectsThem() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            try await world.bill("customer.created", TallyWorld.customer("cus_b", name: "Ravi Kumar", state: "MH"))
            for (id, number, customer) in [
                ("inv_1", "INV-1", "cus_a"), ("inv_2", "INV-2", "cus_b"), ("inv_3", "INV-3", "cus_a"),
            ] {
                try await world.bill(
                    "invoice.issued",
                    TallyWorld.invoice(
                        id, number: number, customer: customer, tuition: "1000.00", tax: "180.00", total: "1180.00"))
            }
            try await world.drain()
            // Asha pays part of INV-1; Ravi pays INV-2 in full, is credited 180.00 on it, and is refunded that.
            try await world.bill(
                "payment.received", XeroWorld.payment("pay_1", invoice: "inv_1", amount: "500.00", customer: "cus_a"))
            try await world.bill(
                "payment.received", XeroWorld.payment("pay_2", invoice: "inv_2", amount: "1180.00", customer: "cus_b"))
            try await world.bill(
                "credit_note.issued",
                XeroWorld.creditNote("cn_1", number: "CN-1", invoice: "inv_2", amount: "180.00", customer: "cus_b"))
            try await world.drain()
            try await world.bill(
                "refund.issued", XeroWorld.refund("ref_1", creditNote: "cn_1", amount: "180.00", customer: "cus_b"))
            try await world.bill("invoice.voided", XeroWorld.voided("inv_3", number: "INV-3"))
            try await world.drain()

            let receipt = try #require(
                await world.vouchers().first { $0.type == "Receipt" && $0.partyLedger == "Asha Rao" })
            #expect(receipt.entries.map { "\($0.ledger) \($0.amount)" } == ["HDFC Bank -500.00", "Asha Rao 500.00"])
            #expect(
                receipt.entries[1].bills == [
                    TallyBillAllocation(name: "INV-1", type: "Agst Ref", amount: amount("500.00"))
                ])
            #expect(receipt.date == 20261120)
            let credit = try await world.voucher(number: "CN-1")
            #expect(credit.type == "Credit Note")
            #expect(
                credit.entries.map { "\($0.ledger) \($0.amount)" } == ["Ravi Kumar 180.00", "Tuition Fees -180.00"])
            #expect(
                credit.entries[0].bills == [
                    TallyBillAllocation(name: "INV-2", type: "Agst Ref", amount: amount("180.00"))
                ])
            let refund = try #require(await world.vouchers().first { $0.type == "Payment" })
            #expect(refund.entries.map { "\($0.ledger) \($0.amount)" } == ["Ravi Kumar -180.00", "HDFC Bank 180.00"])
            let voided = try await world.voucher(number: "INV-3")
            #expect(voided.isCancelled)

            // What each party still owes, bill by bill.
            #expect(
                await world.sandbox.outstandingBills(company: TallyWorld.company, party: "Asha Rao").map {
                    "\($0.name) \($0.pending)"
                } == ["INV-1 -680.00"])
            #expect(await world.sandbox.outstandingBills(company: TallyWorld.company, party: "Ravi Kumar").isEmpty)
            #expect(
                await world.sandbox.closingBalance(company: TallyWorld.company, ledger: "HDFC Bank")
                    == amount("-1500.00"))
        }
    }

    @Test func theSameEventTwiceOrARetryAfterALostAnswerMakesOneVoucher() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            try await world.drain()
            let invoice = TallyWorld.invoice(
                "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.00", tax: "180.00", total: "1180.00")
            try await world.bill("invoice.issued", invoice, id: "msg_same")
            try await world.bill("invoice.issued", invoice, id: "msg_same")
            // Tally takes the voucher, and the answer is lost on its way back: the retry alters, never duplicates.
            await world.sandbox.dropAnswers(ofNextImports: 1)
            try await world.drain()
            #expect(await world.sandbox.answersDropped == 1)
            #expect(await world.vouchers().filter { $0.type == "Sales" }.count == 1)
            _ = try await world.voucher(number: "INV-1")
            #expect(
                await world.sandbox.outstandingBills(company: TallyWorld.company, party: "Asha Rao").map(\.name)
                    == ["INV-1"])
        }
    }

    @Test func aVoucherAlteredOrCancelledInTallyReachesBillingAsAChangedInvoice() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            try await world.poll(integration)
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            for (id, number) in [("inv_1", "INV-1"), ("inv_2", "INV-2")] {
                try await world.bill(
                    "invoice.issued",
                    TallyWorld.invoice(
                        id, number: number, customer: "cus_a", tuition: "1000.00", tax: "180.00", total: "1180.00"))
            }
            try await world.drain()
            try await world.poll(integration)
            try await world.drain()
            #expect(try await world.events("ledger.invoice.changed").isEmpty, "Ledgerwire's own vouchers are echoes")

            // The accountant gives INV-1 a sibling rate in Tally, and cancels INV-2.
            let first = try await world.voucher(number: "INV-1")
            let second = try await world.voucher(number: "INV-2")
            try await world.sandbox.alterVoucher(
                company: TallyWorld.company, guid: first.guid,
                entries: [
                    TallyEntry(
                        ledger: "Asha Rao", amount: amount("-1062.00"), isPartyLedger: true,
                        bills: [TallyBillAllocation(name: "INV-1", type: "New Ref", amount: amount("-1062.00"))]),
                    TallyEntry(ledger: "Tuition Fees", amount: amount("900.00")),
                    TallyEntry(ledger: "Output CGST 9%", amount: amount("81.00")),
                    TallyEntry(ledger: "Output SGST 9%", amount: amount("81.00")),
                ])
            try await world.sandbox.cancelVoucher(company: TallyWorld.company, guid: second.guid)
            try await world.poll(integration)
            try await world.drain()
            let changed = try await world.events("ledger.invoice.changed")
            #expect(changed.count == 2, "\(changed)")
            let edited = try #require(changed.first { $0["invoice_id"] == "inv_1" })
            #expect(edited["change"] == "updated" && edited["platform"] == "tally", "\(edited)")
            #expect(edited["remote_invoice_id"]?.stringValue == first.guid)
            #expect(edited["data"]?["total"] == "1062.00", "\(edited)")
            let voided = try #require(changed.first { $0["invoice_id"] == "inv_2" })
            #expect(voided["change"] == "voided", "\(voided)")
        }
    }

    @Test func theGSTSummaryReadBackFromTallyAgreesWithBillingsAndNamesADifference() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            try await world.bill("customer.created", TallyWorld.customer("cus_b", name: "Ravi Kumar", state: "MH"))
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.05", tax: "180.01", total: "1180.06"))
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_2", number: "INV-2", customer: "cus_b", tuition: "2000.00", tax: "360.00", total: "2360.00"))
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_3", number: "INV-3", customer: "cus_a", tuition: "1000.00", tax: "180.00", transport: "500.00",
                    total: "1680.00"))
            try await world.bill(
                "credit_note.issued",
                XeroWorld.creditNote("cn_1", number: "CN-1", invoice: "inv_2", amount: "180.00", customer: "cus_b"))
            try await world.drain()
            try await world.expectEveryJobSucceeded()

            let path = "/integrations/\(integration)/gst-summary?from=2026-04-01&to=2026-11-30"
            let summary = try await world.api("GET", path)
            #expect(summary.status == 200, "\(summary.json)")
            #expect(
                summary.json["books"] == [
                    ["rate": "0", "taxable_value": "320.00", "cgst": "0.00", "sgst": "0.00", "igst": "0.00"],
                    ["rate": "18", "taxable_value": "4000.05", "cgst": "180.00", "sgst": "180.00", "igst": "360.00"],
                ], "\(summary.json)")
            #expect(summary.json["billing"] == summary.json["books"], "\(summary.json)")
            #expect(summary.json["differences"] == [])

            // The accountant changes INV-2's integrated tax in Tally: the difference is named.
            let second = try await world.voucher(number: "INV-2")
            try await world.sandbox.alterVoucher(
                company: TallyWorld.company, guid: second.guid,
                entries: [
                    TallyEntry(
                        ledger: "Ravi Kumar", amount: amount("-2350.00"), isPartyLedger: true,
                        bills: [TallyBillAllocation(name: "INV-2", type: "New Ref", amount: amount("-2350.00"))]),
                    TallyEntry(ledger: "Tuition Fees", amount: amount("2000.00")),
                    TallyEntry(ledger: "Output IGST 18%", amount: amount("350.00")),
                ])
            let changed = try await world.api("GET", path)
            let differences = changed.json["differences"]?.arrayValue ?? []
            #expect(
                differences.contains(["rate": "18", "field": "igst", "books": "350.00", "billing": "360.00"]),
                "\(changed.json)")
            let refused = try await world.api("GET", "/integrations/\(integration)/gst-summary?from=2026-04-31")
            #expect(refused.status == 422, "\(refused.json)")
        }
    }

    @Test func twoFamiliesOfOneNameSentTogetherBecomeTwoLedgersEachWithItsOwnInvoice() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            // Both customers and both invoices before any job runs: the customers go in one import.
            try await TallyExportTests.billTwoOfOneName(world, drainEach: false)
            try await world.drain()
            try await world.expectEveryJobSucceeded()
            let first = try await world.voucher(number: "INV-1")
            let second = try await world.voucher(number: "INV-2")
            #expect(first.partyLedger == "Asha Rao")
            #expect(second.partyLedger == "Asha Rao (cus_b@families.example)")
        }
    }

    @Test func aReceiptTypedInTallyReachesBillingOnTheNextPoll() async throws {
        try await TallyWorld.run { world in
            let integration = try await world.connect()
            try await world.map(integration)
            try await world.poll(integration)
            try await world.bill("customer.created", TallyWorld.customer("cus_a", name: "Asha Rao", state: "KA"))
            try await world.bill(
                "invoice.issued",
                TallyWorld.invoice(
                    "inv_1", number: "INV-1", customer: "cus_a", tuition: "1000.00", tax: "180.00", total: "1180.00"))
            try await world.drain()
            try await world.poll(integration)
            #expect(try await world.events("ledger.payment.recorded").isEmpty, "Ledgerwire's own vouchers are echoes")

            // The accountant enters the family's cheque in Tally, against the invoice's bill.
            try await world.sandbox.enterReceipt(
                company: TallyWorld.company, party: "Asha Rao", bill: "INV-1", amount: amount("700.00"),
                account: "HDFC Bank", date: 20260410)
            try await world.poll(integration)
            try await world.drain()
            let recorded = try await world.events("ledger.payment.recorded")
            #expect(recorded.count == 1, "\(recorded)")
            let event = try #require(recorded.first)
            #expect(event["amount"]?.stringValue == "700.00")
            #expect(event["currency"]?.stringValue == "INR")
            let allocations = event["allocations"]?.arrayValue ?? []
            #expect(allocations.first?["invoice_id"]?.stringValue == "inv_1", "\(event)")
        }
    }
}

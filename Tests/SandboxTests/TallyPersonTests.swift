import Connectors
import Foundation
import Testing

@testable import Sandbox

/// What a person does in Tally, for tests: a receipt against a bill, an altered or cancelled voucher, a ledger made
/// by hand. Each bumps ALTERID as an import does, and shows in the next poll.
@Suite struct TallyPersonTests {
    typealias H = TallyHarness

    @Test func aReceiptAgainstABillSettlesItAndShowsInThePoll() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1")])
            let company = try #require(await tally.sandbox.company(H.company))
            let receipt = try await tally.sandbox.enterReceipt(
                company: H.company, party: "Asha Rao", bill: "INV-1", amount: TallyAmount(paise: 118_000),
                account: "HDFC Bank", date: 20_261_125)
            #expect(receipt.guid == company.guid + "-" + String(format: "%08x", receipt.masterID))
            #expect(receipt.alterID == company.lastAlterID + 1)
            #expect(await tally.sandbox.outstandingBills(company: H.company, party: "Asha Rao").isEmpty)
            #expect(
                await tally.sandbox.closingBalance(company: H.company, ledger: "HDFC Bank")
                    == TallyAmount(paise: -118_000))
            let poll = try await tally.collection("Voucher", formulae: ["$AlterID > \(company.lastAlterID)"])
            let exported = try #require(poll.objects.first)
            #expect(poll.objects.count == 1 && exported[attribute: "REMOTEID"] == receipt.guid)
            #expect(exported[attribute: "VCHTYPE"] == "Receipt" && exported.value("PARTYLEDGERNAME") == "Asha Rao")
            let party = exported.children("ALLLEDGERENTRIES.LIST").first { $0.value("LEDGERNAME") == "Asha Rao" }
            #expect(party?.value("ISDEEMEDPOSITIVE") == "No" && party?.value("AMOUNT") == "1180.00")
            #expect(party?.child("BILLALLOCATIONS.LIST")?.value("BILLTYPE") == "Agst Ref")
            #expect(party?.child("BILLALLOCATIONS.LIST")?.value("NAME") == "INV-1")
        }
    }

    @Test func aReceiptAgainstABillThePartyDoesNotHaveIsRefused() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            await #expect(throws: TallyRefusal.self) {
                try await tally.sandbox.enterReceipt(
                    company: H.company, party: "Asha Rao", bill: "INV-404", amount: TallyAmount(paise: 100),
                    date: 20_261_125)
            }
            #expect(await tally.sandbox.vouchers(company: H.company).isEmpty)
        }
    }

    @Test func alteringAndCancellingAVoucherBumpItsAlterID() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1")])
            let original = try #require(await tally.sandbox.vouchers(company: H.company).first)
            let altered = try await tally.sandbox.alterVoucher(
                company: H.company, guid: "lw-inv-1", narration: "Term 2 fees, corrected",
                entries: [
                    TallyEntry(
                        ledger: "Asha Rao", amount: TallyAmount(paise: -100_000), isPartyLedger: true,
                        bills: [
                            TallyBillAllocation(name: "INV-1", type: "New Ref", amount: TallyAmount(paise: -100_000))
                        ]),
                    TallyEntry(ledger: "Tuition Fees", amount: TallyAmount(paise: 100_000)),
                ])
            #expect(altered.alterID > original.alterID && altered.masterID == original.masterID)
            #expect(altered.narration == "Term 2 fees, corrected" && altered.guid == "lw-inv-1")
            #expect(
                await tally.sandbox.outstandingBills(company: H.company, party: "Asha Rao")
                    == [TallyBill(name: "INV-1", pending: TallyAmount(paise: -100_000))])
            await #expect(throws: TallyRefusal.self) {
                try await tally.sandbox.alterVoucher(
                    company: H.company, guid: "lw-inv-1",
                    entries: [TallyEntry(ledger: "Asha Rao", amount: TallyAmount(paise: -1))])
            }
            let cancelled = try await tally.sandbox.cancelVoucher(company: H.company, guid: "lw-inv-1")
            #expect(cancelled.isCancelled && cancelled.alterID > altered.alterID)
            #expect(await tally.sandbox.outstandingBills(company: H.company, party: "Asha Rao").isEmpty)
            #expect(await tally.sandbox.closingBalance(company: H.company, ledger: "Tuition Fees") == .zero)
        }
    }

    @Test func aLedgerCreatedByHandIsPolledLikeAnImportedOne() async throws {
        try await H.run { tally in
            let before = try #require(await tally.sandbox.company(H.company))
            let ledger = try await tally.sandbox.createLedger(
                company: H.company, name: "Output CGST 9%", parent: "Duties & Taxes",
                fields: [.leaf("TAXTYPE", "GST"), .leaf("GSTDUTYHEAD", "Central Tax")])
            #expect(ledger.alterID == before.lastAlterID + 1)
            #expect(ledger.guid == before.guid + "-" + String(format: "%08x", ledger.masterID))
            let poll = try await tally.collection("Ledger", formulae: ["$AlterID > \(before.lastAlterID)"])
            #expect(poll.objects.map { $0[attribute: "NAME"] } == ["Output CGST 9%"])
            #expect(poll.objects.first?.value("GSTDUTYHEAD") == "Central Tax")
            await #expect(throws: TallyRefusal.self) {
                try await tally.sandbox.createLedger(
                    company: H.company, name: "output cgst 9%", parent: "Duties & Taxes")
            }
        }
    }
}

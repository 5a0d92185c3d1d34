import Connectors
import Foundation
import Testing

@testable import Sandbox

/// Vouchers: Tally's rules (date, type, ledgers, the sign rule, the zero sum, bill allocations), identities
/// (GUID = REMOTEID, MASTERID, ALTERID), upserts, cancel, delete and `TAGNAME`/`TAGVALUE`.
@Suite struct TallyVoucherTests {
    typealias H = TallyHarness

    @Test func aBalancedSaleIsCreatedWithGUIDEqualToItsRemoteID() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let answer = try await tally.importing([H.sale("lw-inv-1001", number: "INV-1001")])
            #expect(answer.counters["CREATED"] == 1 && answer.counters["ERRORS"] == 0 && answer.status == "1")
            let voucher = try #require(await tally.sandbox.vouchers(company: H.company).first)
            #expect(voucher.guid == "lw-inv-1001" && voucher.number == "INV-1001" && voucher.type == "Sales")
            #expect(answer.counters["LASTVCHID"] == voucher.masterID)
            #expect(voucher.entries.map(\.amount) == [TallyAmount(paise: -118_000), TallyAmount(paise: 118_000)])
            let exported = try #require(try await tally.collection("Voucher").objects.first)
            #expect(exported[attribute: "REMOTEID"] == "lw-inv-1001" && exported.value("GUID") == "lw-inv-1001")
            #expect(exported[attribute: "VCHTYPE"] == "Sales" && exported.value("ISCANCELLED") == "No")
            let party = try #require(exported.children("ALLLEDGERENTRIES.LIST").first)
            #expect(party.value("ISDEEMEDPOSITIVE") == "Yes" && party.value("AMOUNT") == "-1180.00")
            #expect(party.child("BILLALLOCATIONS.LIST")?.value("BILLTYPE") == "New Ref")
            #expect(
                await tally.sandbox.outstandingBills(company: H.company, party: "Asha Rao")
                    == [TallyBill(name: "INV-1001", pending: TallyAmount(paise: -118_000))])
            #expect(
                await tally.sandbox.closingBalance(company: H.company, ledger: "Tuition Fees")
                    == TallyAmount(paise: 118_000))
        }
    }

    @Test func unbalancedVouchersAreRefusedWithTallysTotalsMessage() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let answer = try await tally.importing([
                H.voucher(
                    remoteID: "lw-inv-1", number: "INV-1",
                    entries: [H.entry("Asha Rao", "-291836210.00"), H.entry("Tuition Fees", "291836211.00")])
            ])
            #expect(answer.counters["CREATED"] == 0 && answer.counters["ERRORS"] == 1)
            #expect(
                answer.lineErrors == [
                    "Voucher totals do not match! Dr: ₹ 29,18,36,210.00 Dr Cr: ₹ 29,18,36,211.00 Cr Diff: ₹ 1.00 Cr"
                ])
        }
    }

    @Test func aVoucherWithoutADateIsRefusedAsTallyWordsIt() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let answer = try await tally.importing([
                H.voucher(
                    remoteID: "lw-inv-2", date: nil, number: "INV-2",
                    entries: [H.entry("Asha Rao", "-10.00"), H.entry("Tuition Fees", "10.00")]),
                H.voucher(
                    remoteID: "lw-inv-3", date: "20260231", number: "INV-3",
                    entries: [H.entry("Asha Rao", "-10.00"), H.entry("Tuition Fees", "10.00")]),
            ])
            #expect(
                answer.lineErrors == [
                    "Voucher date is missing for 'Sales' voucher lw-inv-2.",
                    "Voucher date is missing for 'Sales' voucher lw-inv-3.",
                ])
        }
    }

    @Test func everyLedgerAndTheVoucherTypeMustExist() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let answer = try await tally.importing([
                H.voucher(entries: [H.entry("Asha Rao", "-10.00"), H.entry("Output CGST", "10.00")]),
                H.voucher("Sales Invoice", entries: [H.entry("Asha Rao", "-10.00"), H.entry("Tuition Fees", "10.00")]),
            ])
            #expect(answer.counters["ERRORS"] == 2)
            #expect(
                answer.lineErrors == [
                    "Ledger 'Output CGST' does not exist!", "Voucher Type 'Sales Invoice' does not exist!",
                ])
        }
    }

    @Test func theSignRuleTiesIsDeemedPositiveToANegativeAmount() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let answer = try await tally.importing([
                H.voucher(
                    entries: [H.entry("Asha Rao", "-10.00", deemed: "No"), H.entry("Tuition Fees", "10.00")])
            ])
            #expect(answer.counters["ERRORS"] == 1 && answer.counters["CREATED"] == 0)
            #expect(answer.lineErrors.first?.contains("ISDEEMEDPOSITIVE") == true)
        }
    }

    @Test func oneRefusedObjectDoesNotStopTheOthersAndErrorsComeInRequestOrder() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let answer = try await tally.importing([
                H.sale("lw-inv-1", number: "INV-1"),
                H.voucher(entries: [H.entry("Nobody", "-1.00"), H.entry("Tuition Fees", "1.00")]),
                H.sale("lw-inv-2", number: "INV-2"),
                H.voucher(entries: [H.entry("Asha Rao", "-1.00"), H.entry("Tuition Fees", "2.00")]),
            ])
            #expect(answer.counters["CREATED"] == 2 && answer.counters["ERRORS"] == 2)
            #expect(answer.lineErrors.count == 2 && answer.lineErrors[0] == "Ledger 'Nobody' does not exist!")
            #expect(answer.lineErrors[1].hasPrefix("Voucher totals do not match!"))
            let vouchers = await tally.sandbox.vouchers(company: H.company)
            #expect(vouchers.map(\.guid) == ["lw-inv-1", "lw-inv-2"])
            #expect(answer.counters["LASTVCHID"] == vouchers.last?.masterID)
        }
    }

    @Test func aCreateWithAKnownRemoteIDAltersTheVoucherKeepingItsMasterID() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1")])
            let before = try #require(await tally.sandbox.vouchers(company: H.company).first)
            let answer = try await tally.importing([H.sale("lw-inv-1", number: "INV-1", total: "1200.00")])
            #expect(answer.counters["CREATED"] == 0 && answer.counters["ALTERED"] == 1)
            let vouchers = await tally.sandbox.vouchers(company: H.company)
            #expect(vouchers.count == 1)
            #expect(vouchers[0].masterID == before.masterID && vouchers[0].alterID > before.alterID)
            #expect(
                await tally.sandbox.outstandingBills(company: H.company, party: "Asha Rao")
                    == [TallyBill(name: "INV-1", pending: TallyAmount(paise: -120_000))])
        }
    }

    @Test func billAllocationsFollowTallysRules() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1")])
            let answer = try await tally.importing([
                // Bills on a ledger that is not bill-wise.
                H.voucher(
                    "Receipt",
                    entries: [
                        H.entry("HDFC Bank", "-10.00", bills: [("INV-1", "New Ref", "-10.00")]),
                        H.entry("Asha Rao", "10.00"),
                    ]),
                // Bills that do not add up to the entry.
                H.voucher(
                    "Receipt",
                    entries: [
                        H.entry("HDFC Bank", "-10.00"),
                        H.entry("Asha Rao", "10.00", party: true, bills: [("INV-1", "Agst Ref", "9.00")]),
                    ]),
                // A bill the party does not have.
                H.voucher(
                    "Receipt",
                    entries: [
                        H.entry("HDFC Bank", "-10.00"),
                        H.entry("Asha Rao", "10.00", party: true, bills: [("INV-404", "Agst Ref", "10.00")]),
                    ]),
                // A part payment of INV-1: accepted.
                H.voucher(
                    "Receipt", remoteID: "lw-pay-1",
                    entries: [
                        H.entry("HDFC Bank", "-180.00"),
                        H.entry("Asha Rao", "180.00", party: true, bills: [("INV-1", "Agst Ref", "180.00")]),
                    ]),
            ])
            #expect(answer.counters["CREATED"] == 1 && answer.counters["ERRORS"] == 3, "\(answer.lineErrors)")
            #expect(answer.lineErrors[2].contains("INV-404"))
            #expect(
                await tally.sandbox.outstandingBills(company: H.company, party: "Asha Rao")
                    == [TallyBill(name: "INV-1", pending: TallyAmount(paise: -100_000))])
        }
    }

    @Test func cancelKeepsTheVoucherButTakesItOutOfBalancesAndBills() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1"), H.sale("lw-inv-2", number: "INV-2")])
            let answer = try await tally.importing([
                H.voucher(remoteID: "lw-inv-1", action: "Cancel", date: nil, entries: [])
            ])
            #expect(answer.counters["CANCELLED"] == 1 && answer.counters["ERRORS"] == 0)
            let vouchers = await tally.sandbox.vouchers(company: H.company)
            #expect(vouchers.count == 2 && vouchers.last?.guid == "lw-inv-1" && vouchers.last?.isCancelled == true)
            #expect(
                await tally.sandbox.outstandingBills(company: H.company, party: "Asha Rao").map(\.name) == ["INV-2"])
            #expect(
                await tally.sandbox.closingBalance(company: H.company, ledger: "Asha Rao")
                    == TallyAmount(paise: -118_000))
            let exported = try await tally.collection("Voucher", formulae: ["$IsCancelled = \"Yes\""])
            #expect(exported.objects.map { $0.value("ISCANCELLED") } == ["Yes"])
        }
    }

    @Test func alterCancelAndDeleteFindVouchersByTagNameAndTagValue() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1"), H.sale("lw-inv-2", number: "INV-2")])
            let vouchers = await tally.sandbox.vouchers(company: H.company)
            let first = vouchers[0]
            let answer = try await tally.importing([
                H.voucher(
                    action: "Alter", date: nil, narration: "Corrected",
                    attributes: " DATE=\"20261121\" TAGNAME=\"MasterId\" TAGVALUE=\"\(first.masterID)\"", entries: []),
                H.voucher(
                    action: "Delete", date: nil,
                    attributes: " DATE=\"20261121\" TAGNAME=\"VoucherNumber\" TAGVALUE=\"INV-2\"", entries: []),
                H.voucher(
                    action: "Cancel", date: nil,
                    attributes: " DATE=\"20261121\" TAGNAME=\"VoucherNumber\" TAGVALUE=\"INV-9\"", entries: []),
            ])
            #expect(answer.counters["ALTERED"] == 1 && answer.counters["DELETED"] == 1)
            #expect(answer.counters["ERRORS"] == 1 && answer.lineErrors == ["Voucher 'INV-9' does not exist!"])
            let after = await tally.sandbox.vouchers(company: H.company)
            #expect(after.count == 1 && after[0].narration == "Corrected" && after[0].alterID > first.alterID)
            #expect(after[0].entries == first.entries, "an alter without entries keeps them")
        }
    }

    @Test func amountsTakeAtMostTwoDecimalsAndTwelveDigits() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let answer = try await tally.importing([
                H.voucher(entries: [H.entry("Asha Rao", "-10.005"), H.entry("Tuition Fees", "10.005")]),
                H.voucher(
                    entries: [H.entry("Asha Rao", "-99999999999999999999"), H.entry("Tuition Fees", "1e3")]),
                H.voucher(entries: [H.entry("Asha Rao", "-1,000.00"), H.entry("Tuition Fees", "1000")]),
            ])
            #expect(answer.counters["ERRORS"] == 3 && answer.counters["CREATED"] == 0)
            #expect(answer.lineErrors.allSatisfy { $0.hasPrefix("Invalid amount") }, "\(answer.lineErrors)")
            #expect(TallyAmount(parsing: "999999999999.99") == TallyAmount(paise: TallyAmount.limit))
            #expect(TallyAmount(parsing: "-0.5")?.description == "-0.50")
        }
    }
}

import Accounting
import Persistence
import SyncEngine
import Testing

/// What a change heard from the books is, decided from the facts alone: no database.
@Suite struct LedgerChangeDeciderTests {
    let translation = RecordMatch.Translation(
        remoteIDs: [RecordReference(.customer, "cus_1"): "14", RecordReference(.invoice, "inv_1"): "31"],
        mappings: CodeMappings(
            accounts: [:], taxCodes: [:], items: [:], depositAccounts: ["BANK": "3"]))

    /// Billing's payment `pay_1` of 59.00 on invoice `inv_1`.
    let billingPayment: JSONValue = [
        "id": "pay_1", "customer_id": "cus_1", "currency": "INR", "amount": "59.00",
        "received_at": "2026-11-20T00:00:00Z", "reference": "UTR 77", "deposit_account": "BANK",
        "allocations": [["invoice_id": "inv_1", "amount": "59.00"]],
    ]
    /// The same payment as the books hold it.
    let booksPayment: JSONValue = [
        "id": "42", "customer_id": "14", "currency": "INR", "amount": "59", "received_at": "2026-11-20",
        "reference": "UTR 77", "deposit_account_id": "3", "allocations": [["invoice_id": "31", "amount": "59"]],
    ]

    /// The books' version `"3"` of a payment linked to billing's `pay_1`, last written as version `"2"` at
    /// 1,000 s; billing's record was at version 1 then and is at `version` now, changed at 1,500 s.
    func linked(
        remoteVersion: String = "3", remoteUpdatedAt: Int64 = 2_000, knownVersion: String? = "2",
        version: Int = 1, deleted: Bool = false, books: JSONValue? = nil, pushInFlight: Bool = false,
        policy: Integration.ConflictPolicy = .manual
    ) -> LedgerChangeFacts {
        LedgerChangeFacts(
            recordType: "payment", remoteVersion: remoteVersion,
            remoteUpdatedAt: Timestamp(secondsSinceEpoch: remoteUpdatedAt), deleted: deleted,
            data: books ?? ["id": "42", "amount": "60", "allocations": [["invoice_id": "31", "amount": "60"]]],
            link: LedgerChangeFacts.Link(
                recordID: "rec_1", localID: "pay_1", remoteVersion: knownVersion,
                remoteUpdatedAt: knownVersion == nil ? nil : Timestamp(secondsSinceEpoch: 1_000),
                lastSyncedAt: Timestamp(secondsSinceEpoch: 1_000), syncedVersion: 1, version: version,
                updatedAt: Timestamp(secondsSinceEpoch: 1_500)),
            pushInFlight: pushInFlight, conflictPolicy: policy)
    }

    func withBilling(_ facts: LedgerChangeFacts, _ versions: [(Int, JSONValue)]) -> LedgerChangeFacts {
        var facts = facts
        facts.billingVersions = versions.map {
            LedgerChangeFacts.BillingVersion(version: $0.0, data: $0.1, translation: translation)
        }
        return facts
    }

    @Test func aChangeToARecordWhosePushIsInFlightWaitsForThePush() {
        #expect(LedgerChangeDecider.decide(linked(pushInFlight: true)) == .wait)
    }

    @Test func theVersionLedgerwireWroteHeardBackIsAnEcho() {
        #expect(LedgerChangeDecider.decide(linked(remoteVersion: "2")) == .echo)
    }

    @Test func aVersionOlderThanTheOneKnownIsStale() {
        #expect(LedgerChangeDecider.decide(linked(remoteVersion: "1", remoteUpdatedAt: 999)) == .stale)
    }

    /// A platform without versions: the modification instant stands for the version.
    @Test func withoutVersionsAChangeNoNewerThanLedgerwiresLastWriteIsItsEcho() {
        let own = linked(remoteVersion: "at:1000000000", remoteUpdatedAt: 1_000, knownVersion: nil, version: 2)
        #expect(LedgerChangeDecider.decide(own) == .echo)
        let later = linked(remoteVersion: "at:1000000001", remoteUpdatedAt: 1_001, knownVersion: nil)
        #expect(LedgerChangeDecider.decide(later) == .compare(versions: [1]))
    }

    /// Before anything is reported, the books' version is compared with billing's as last synced and its newest.
    @Test func aNewVersionIsComparedWithBillingsSyncedAndNewestVersions() {
        #expect(LedgerChangeDecider.decide(linked()) == .compare(versions: [1]))
        #expect(LedgerChangeDecider.decide(linked(version: 3)) == .compare(versions: [1, 3]))
    }

    @Test func aVersionThatSaysWhatBillingsRecordSaysAgreesAndNobodyIsTold() {
        let facts = withBilling(
            linked(version: 2, books: booksPayment), [(1, ["amount": "1.00"]), (2, billingPayment)])
        #expect(LedgerChangeDecider.decide(facts) == .agrees(version: 2))
    }

    @Test func aVersionBillingDoesNotAgreeWithWhileBillingIsUnchangedIsTaken() {
        let facts = withBilling(linked(), [(1, billingPayment)])
        #expect(LedgerChangeDecider.decide(facts) == .take)
    }

    /// A deletion, or a record type that is not compared, is never taken as one billing agrees with.
    @Test func aDeletionIsTakenWithoutComparing() {
        #expect(LedgerChangeDecider.decide(linked(deleted: true, books: booksPayment)) == .take)
        var customer = linked()
        customer.recordType = "customer"
        #expect(LedgerChangeDecider.decide(customer) == .take)
    }

    @Test func aChangeWhileBillingChangedTheRecordTooIsAConflictThePolicyDecides() {
        let facts = withBilling(linked(version: 2, policy: .ledgerWins), [(1, billingPayment), (2, billingPayment)])
        #expect(
            LedgerChangeDecider.decide(facts)
                == .conflict(
                    ConflictPlan(
                        resolution: .useRemote,
                        steps: [.supersedePushes(upToVersion: 2), .takeBooksVersion(settlingVersion: 2)])))
    }

    func unlinked(
        _ recordType: String, _ facts: LedgerChangeFacts.Unlinked, deleted: Bool = false
    ) -> LedgerChangeFacts {
        LedgerChangeFacts(
            recordType: recordType, remoteVersion: "0", remoteUpdatedAt: Timestamp(secondsSinceEpoch: 2_000),
            deleted: deleted, data: [:], link: nil, unlinked: facts, pushInFlight: false, conflictPolicy: .manual)
    }

    @Test func aPaymentEnteredInTheBooksOnBillingsInvoiceIsReported() {
        let facts = unlinked("payment", .init(invoiceIDs: ["inv_1"], heardBefore: false))
        #expect(LedgerChangeDecider.decide(facts) == .report(.paymentRecorded, change: "created"))
        let again = unlinked("payment", .init(invoiceIDs: ["inv_1"], heardBefore: true))
        #expect(LedgerChangeDecider.decide(again) == .report(.paymentRecorded, change: "updated"))
        let deleted = unlinked("payment", .init(invoiceIDs: ["inv_1"], heardBefore: true), deleted: true)
        #expect(LedgerChangeDecider.decide(deleted) == .report(.paymentRecorded, change: "deleted"))
    }

    @Test func aPaymentOnNoInvoiceBillingKnowsIsUnmatched() {
        let facts = unlinked("payment", .init(invoiceIDs: [], customerID: "cus_1", heardBefore: false))
        #expect(LedgerChangeDecider.decide(facts) == .unmatched)
    }

    @Test func aCreditNoteOfBillingsCustomerOrInvoiceIsReportedTheFirstTimeOnly() {
        let byCustomer = unlinked("credit_note", .init(customerID: "cus_1", heardBefore: false))
        #expect(LedgerChangeDecider.decide(byCustomer) == .report(.creditNoteCreated, change: "created"))
        let byInvoice = unlinked("credit_note", .init(invoiceID: "inv_1", heardBefore: false))
        #expect(LedgerChangeDecider.decide(byInvoice) == .report(.creditNoteCreated, change: "created"))
        let again = unlinked("credit_note", .init(invoiceID: "inv_1", heardBefore: true))
        #expect(LedgerChangeDecider.decide(again) == .report(nil, change: "updated"))
    }

    @Test func aCreditNoteOfNothingBillingKnowsIsUnmatched() {
        #expect(LedgerChangeDecider.decide(unlinked("credit_note", .init(heardBefore: false))) == .unmatched)
    }

    @Test func otherRecordsBillingDoesNotKnowAreUnmatched() {
        #expect(LedgerChangeDecider.decide(unlinked("customer", .init(heardBefore: false))) == .unmatched)
        #expect(
            LedgerChangeDecider.decide(unlinked("invoice", .init(invoiceIDs: ["inv_1"], heardBefore: false)))
                == .unmatched)
    }
}

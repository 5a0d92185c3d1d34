import Accounting
public import Persistence

/// What a change heard from the books (by change feed or webhook) is: for a record linked to billing's, Ledgerwire's
/// own write heard back (an echo), older than what is known (stale), a version billing already agrees with, the
/// record's newest state to take, or a conflict when billing changed the record since its last sync too; for a record
/// billing does not know, a report when it concerns billing's records (a payment allocated to synced invoices, a
/// credit note of a synced customer or invoice). A change to a record whose push is in flight waits for the push.
///
/// Persistence reads the facts and applies the decision in one transaction.
public enum LedgerChangeDecider {
    /// The decision for one change. It may ask for billing's versions first (``LedgerChangeDecision/compare(versions:)``)
    /// and is then asked again with them.
    @Sendable public static func decide(_ facts: LedgerChangeFacts) -> LedgerChangeDecision {
        guard let link = facts.link else { return decideUnlinked(facts) }
        if facts.pushInFlight { return .wait }
        if let known = link.remoteVersion, known == facts.remoteVersion { return .echo }
        if let knownAt = link.remoteUpdatedAt, facts.remoteUpdatedAt < knownAt { return .stale }
        if facts.remoteVersion.hasPrefix("at:"), link.remoteVersion == nil, let syncedAt = link.lastSyncedAt,
            facts.remoteUpdatedAt <= syncedAt
        {
            // A platform without versions: a change no newer than Ledgerwire's own last write is that write.
            return .echo
        }
        if !facts.deleted, let recordType = RecordType(rawValue: facts.recordType), RecordMatch.compares(recordType) {
            // Billing's version as last synced, or its newest: a payment moved an invoice's balance, or the books
            // already hold what billing sent. Neither billing nor a conflict is told.
            guard let versions = facts.billingVersions else {
                return .compare(versions: Set([link.syncedVersion, link.version]).sorted())
            }
            for billing in versions
            where RecordMatch.agrees(
                recordType, billing: billing.data, books: facts.data, translation: billing.translation,
                writtenFields: true)
            {
                return .agrees(version: billing.version)
            }
        }
        guard link.version > link.syncedVersion else { return .take }
        return .conflict(
            facts.conflictPolicy.plan(
                booksUpdatedAt: facts.remoteUpdatedAt, billingUpdatedAt: link.updatedAt, billingVersion: link.version))
    }

    /// A record billing does not know: a payment allocated to billing's invoices is `ledger.payment.recorded`; a
    /// credit note of billing's customer or invoice is `ledger.credit_note.created` the first time it is heard.
    private static func decideUnlinked(_ facts: LedgerChangeFacts) -> LedgerChangeDecision {
        guard let unlinked = facts.unlinked else { return .unmatched }
        let change = facts.deleted ? "deleted" : unlinked.heardBefore ? "updated" : "created"
        switch RecordType(rawValue: facts.recordType) {
        case .payment:
            guard !unlinked.invoiceIDs.isEmpty else { return .unmatched }
            return .report(.paymentRecorded, change: change)
        case .creditNote:
            guard unlinked.invoiceID != nil || unlinked.customerID != nil else { return .unmatched }
            return .report(unlinked.heardBefore ? nil : .creditNoteCreated, change: change)
        default:
            return .unmatched
        }
    }
}

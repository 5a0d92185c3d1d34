public import Accounting
public import Persistence

extension AppDatabase {
    /// Handles the changes heard from the books and not yet handled, oldest first, up to `limit` of them, as the
    /// ``LedgerChangeDecider`` decides each.
    @discardableResult
    public func processLedgerChanges(
        integrationID: String? = nil, limit: Int = 500, at now: Timestamp
    ) async throws -> LedgerChangeSummary {
        try await processLedgerChanges(
            integrationID: integrationID, limit: limit, at: now, decide: LedgerChangeDecider.decide)
    }

    /// A person's resolution of a held conflict, as ``Persistence/ConflictDecision/outcome(_:)`` decides it.
    ///
    /// - Returns: the resolved conflict, or `nil` when there is no such conflict (of `tenantID`, when given).
    /// - Throws: `PersistenceError.conflict` when the conflict is not open, or billing changed the record since the
    ///   values were based on it.
    public func resolveConflict(
        id: String, tenantID: String?, decision: ConflictDecision, actor: String, at now: Timestamp
    ) async throws -> Conflict? {
        try await resolveConflict(
            id: id, tenantID: tenantID, decision: decision, actor: actor, at: now, decide: ConflictDecision.outcome)
    }
}

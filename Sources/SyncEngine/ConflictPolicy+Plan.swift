public import Accounting
public import Persistence

extension Integration.ConflictPolicy {
    /// What the policy does with a conflict it detects: the newer side wins (`last_modified_wins`, billing on a tie),
    /// always billing (`billing_wins`), always the books (`ledger_wins`), or nobody (`manual`: the record's pending
    /// pushes to the integration are held for a person).
    ///
    /// - Parameters:
    ///   - booksUpdatedAt: when the books' version was made.
    ///   - billingUpdatedAt: when billing's version was made.
    ///   - billingVersion: billing's version in conflict with the books'.
    public func plan(booksUpdatedAt: Timestamp, billingUpdatedAt: Timestamp, billingVersion: Int) -> ConflictPlan {
        let winner: Conflict.Resolution? =
            switch self {
            case .manual: nil
            case .billingWins: .useLocal
            case .ledgerWins: .useRemote
            case .lastModifiedWins: booksUpdatedAt > billingUpdatedAt ? .useRemote : .useLocal
            }
        switch winner {
        case nil:
            return ConflictPlan(resolution: nil, steps: [.holdPendingPushes])
        case .useLocal:
            // Billing's version goes on to the books, over the version just heard (which the push must name).
            return ConflictPlan(resolution: .useLocal, steps: [.rememberBooksVersion])
        case .useRemote, .custom:
            return ConflictPlan(
                resolution: winner,
                steps: [
                    .supersedePushes(upToVersion: billingVersion), .takeBooksVersion(settlingVersion: billingVersion),
                ])
        }
    }
}

import Accounting
import GRDB

/// The front door of the store for every webhook source (billing's events and the platforms' notifications alike):
/// deliveries are group-committed, so concurrent requests share one transaction and one fsync, and each caller
/// returns only once its delivery is durable.
public struct Inbox: Sendable {
    public let database: AppDatabase
    private let committer: GroupCommitter<Database, IncomingDelivery, DeliveryOutcome>

    /// - Parameters:
    ///   - maximumBatchSize: the most deliveries one transaction takes.
    ///   - onBatch: told the size of every committed batch (a metric).
    ///   - onJobsQueued: told after a committed batch queued jobs (the workers' `WorkSignal`).
    public init(
        database: AppDatabase, maximumBatchSize: Int = 512, onBatch: @escaping @Sendable (Int) -> Void = { _ in },
        onJobsQueued: @escaping @Sendable () -> Void = {}
    ) {
        self.database = database
        self.committer = database.makeInboxCommitter(
            maximumBatchSize: maximumBatchSize, onBatch: onBatch, onJobsQueued: onJobsQueued)
    }

    /// How many deliveries wait for a transaction now.
    public var waiting: Int { committer.waiting }

    /// Records a delivery (with any others arriving now); returns once it is on disk.
    public func record(_ delivery: IncomingDelivery) async throws -> DeliveryOutcome {
        try await committer.submit(delivery)
    }
}

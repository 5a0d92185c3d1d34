import Accounting
import Logging
import Persistence
import ServiceLifecycle

/// Runs full syncs: claims a requested operation and queues its records page by page (each page committed with
/// its checkpoint, under a lease renewed with every page), then marks operations complete once their jobs have
/// finished. The jobs themselves are run by the workers like any other, dependencies and retries included.
///
/// An operation whose runner stopped (a crash, a shutdown) is claimed again once its lease expires and continues
/// from its checkpoint: no record is queued twice.
public struct SyncOperationRunner: Sendable {
    private let database: AppDatabase
    private let workerID: String
    private let clock: any SyncClock
    private let pageSize: Int
    private let lease: Duration

    public init(
        database: AppDatabase, workerID: String, clock: any SyncClock = SystemSyncClock(), pageSize: Int = 500,
        lease: Duration = .seconds(60)
    ) {
        self.database = database
        self.workerID = workerID
        self.clock = clock
        self.pageSize = pageSize
        self.lease = lease
    }

    /// Queues one due operation, up to `maximumPages` pages (all by default), and completes finished ones.
    /// - Returns: whether an operation was worked on.
    @discardableResult
    public func runDueOperation(maximumPages: Int = .max) async throws -> Bool {
        guard let id = try await database.claimSyncOperation(worker: workerID, now: clock.now(), lease: lease) else {
            try await database.completeFinishedSyncOperations(at: clock.now())
            return false
        }
        var pages = 0
        while pages < maximumPages, !Task.isCancelled {
            pages += 1
            let more = try await database.queueSyncPage(
                operationID: id, worker: workerID, limit: pageSize, now: clock.now(), lease: lease)
            if !more { break }
        }
        try await database.completeFinishedSyncOperations(at: clock.now())
        return true
    }
}

/// Runs due sync operations for as long as the server runs, polling when there is none.
public struct SchedulerService: Service {
    let runner: SyncOperationRunner
    let pollInterval: Duration

    public init(runner: SyncOperationRunner, pollInterval: Duration = .seconds(1)) {
        self.runner = runner
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let worked = (try? await runner.runDueOperation()) ?? false
            if !worked {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
            }
        }
    }
}

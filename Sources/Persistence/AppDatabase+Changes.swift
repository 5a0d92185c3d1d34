import GRDB

/// A running observation of the store's commits; it stops when released (or with `cancel()`).
public final class ChangeObservation: Sendable {
    private let cancellable: AnyDatabaseCancellable

    init(_ cancellable: AnyDatabaseCancellable) { self.cancellable = cancellable }

    public func cancel() { cancellable.cancel() }
}

extension AppDatabase {
    /// The tables whose changes the dashboard shows live: the queue, sync operations, conflicts, records and
    /// integrations.
    static let watchedTables = ["jobs", "sync_operations", "conflicts", "records", "integration_configs"]

    /// Calls `onChange` after every commit of this process that changed a table the dashboard shows live.
    ///
    /// `onChange` runs on the writer, inside the commit's aftermath: it must only take note (bump a counter, resume a
    /// waiter) and return.
    public func observeChanges(_ onChange: @escaping @Sendable () -> Void) -> ChangeObservation {
        let observation = DatabaseRegionObservation(tracking: Self.watchedTables.map { Table($0) })
        return ChangeObservation(observation.start(in: writer, onError: { _ in }, onChange: { _ in onChange() }))
    }
}

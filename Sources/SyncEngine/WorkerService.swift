public import ServiceLifecycle

/// Runs the engine's due jobs for as long as the server runs (`SyncEngine.work(pollInterval:)`): a slot freed is
/// claimed again at once, so one integration's slow platform cannot hold the others' jobs up.
///
/// On graceful shutdown it stops claiming and gives the jobs in flight `SyncEngine.Limits.shutdownGrace` to finish
/// (each is also bounded by its platform calls' deadlines); a job cut short is taken over once its lease expires.
public struct WorkerService: Service {
    let engine: SyncEngine
    let pollInterval: Duration

    public init(engine: SyncEngine, pollInterval: Duration = .seconds(1)) {
        self.engine = engine
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        await engine.work(pollInterval: pollInterval)
    }
}

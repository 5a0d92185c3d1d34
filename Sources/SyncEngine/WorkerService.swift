import ServiceLifecycle

/// Runs the engine's due jobs for as long as the server runs, polling when the queue is empty.
///
/// On graceful shutdown it stops claiming and lets the jobs in flight finish (each is bounded by its platform
/// call's own timeout); a job cut short any other way is taken over once its lease expires.
public struct WorkerService: Service {
    let engine: SyncEngine
    let pollInterval: Duration

    public init(engine: SyncEngine, pollInterval: Duration = .seconds(1)) {
        self.engine = engine
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let ran = (try? await engine.runDueJobs()) ?? 0
            if ran == 0 {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
            }
        }
    }
}

import Persistence
import ServiceLifecycle

/// Runs the database's background WAL checkpointer for as long as the server runs.
///
/// Services shut down in reverse order, so the HTTP server has drained before this stops.
struct CheckpointService: Service {
    let checkpointer: WALCheckpointer

    func run() async throws {
        await withGracefulShutdownHandler {
            await checkpointer.run()
        } onGracefulShutdown: {
            checkpointer.finish()
        }
    }
}

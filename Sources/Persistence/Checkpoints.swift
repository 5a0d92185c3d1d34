import GRDB
import Logging
import Synchronization

/// Copies the write-ahead log back into the database file on a connection of its own, off the writer's path.
///
/// Under sustained load, checkpoints are about a third of the single writer's work when it runs them itself
/// (SQLite's automatic checkpoint runs inside the commit that crosses `wal_autocheckpoint`). Here they run on
/// another thread, so the writer keeps committing meanwhile; checkpoints never block the writer or readers.
/// `run()` belongs in the service group; until it runs, nothing is lost: the writer's automatic checkpoint stays
/// as the backstop.
public final class WALCheckpointer: Sendable {
    private let connection: DatabaseQueue
    private let requests: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let logger = Logger(label: "ledgerwire.checkpointer")

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.label = "ledgerwire.checkpointer"
        connection = try DatabaseQueue(path: path, configuration: configuration)
        (requests, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a checkpoint soon; requests made while one runs fold into the next.
    func request() {
        continuation.yield()
    }

    /// Checkpoints on request until `finish()`.
    public func run() async {
        for await _ in requests {
            // Passive: copies what no reader still needs, never waits for the writer or readers.
            do {
                _ = try await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            } catch {
                // The writer's automatic checkpoint stays as the backstop; the next request tries again.
                logger.warning(
                    "service loop step failed",
                    metadata: ["loop": "checkpointer", "step": "checkpoint", "error": "\(String(describing: error))"])
            }
        }
    }

    /// Ends `run()` once the checkpoint in progress, if any, is done.
    public func finish() {
        continuation.finish()
    }
}

/// When the inbox checkpoints its write-ahead log.
///
/// A checkpoint inside a commit makes every caller of that batch wait for it: a small log makes the stalls short but
/// frequent, a large one rare but long, and cheaper per delivery, since a page written by many commits is copied back
/// once. So, by load:
/// - light (small batches): whenever the writer goes idle after `idleThreshold` deliveries (about 24 KiB of log each),
///   on the writer itself, between batches: each checkpoint is small and in nobody's way;
/// - heavy (batches of `heavyBatchSize` or more, so the writer is rarely idle): every `backgroundThreshold`
///   deliveries on the background checkpointer, while the writer goes on committing.
final class CheckpointPolicy: Sendable {
    private struct Counts {
        var deliveries = 0
        var batches = 0
    }

    private let counts = Mutex(Counts())
    private let idleThreshold: Int
    private let backgroundThreshold: Int
    private let heavyBatchSize: Int
    private let background: WALCheckpointer?

    init(idleThreshold: Int, backgroundThreshold: Int = 400, heavyBatchSize: Int = 8, background: WALCheckpointer?) {
        self.idleThreshold = max(1, idleThreshold)
        self.backgroundThreshold = max(1, backgroundThreshold)
        self.heavyBatchSize = heavyBatchSize
        self.background = background
    }

    /// Told of every committed batch, on the writer.
    func written(_ count: Int) {
        let wantsBackground = counts.withLock { counts in
            counts.deliveries += count
            counts.batches += 1
            guard background != nil, counts.deliveries >= backgroundThreshold,
                counts.deliveries >= heavyBatchSize * counts.batches
            else { return false }
            counts = Counts()
            return true
        }
        if wantsBackground { background?.request() }
    }

    /// Called on the writer when it has nothing queued.
    func writerIsIdle(_ db: Database) {
        let isDue = counts.withLock { counts in
            guard counts.deliveries >= idleThreshold else { return false }
            let lightLoad = counts.deliveries < heavyBatchSize * counts.batches
            if lightLoad { counts = Counts() }
            return lightLoad
        }
        if isDue { _ = try? db.checkpoint(.passive) }
    }
}

import Accounting
import Connectors
import GRDB
import Logging
import SyncEngine
import TestSupport
import Testing

@testable import Persistence

@Suite struct LoopLoggingTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    @Test func aFailingClaimIsLoggedAndTheWorkerGoesOnClaiming() async throws {
        let (database, _) = try await setUp()
        let connector = ScriptedConnector()
        let capture = LogCapture()
        let engine = SyncEngine(
            database: database, connectors: [connector], tokens: tokens(database, connector), workerID: "w1",
            clock: clock, logger: capture.logger())
        // The job queue is unreadable: every claim fails.
        try await database.writer.write { db in try db.execute(sql: "DROP TABLE jobs") }
        let worker = Task { await engine.work(pollInterval: .milliseconds(5)) }
        let failedClaims: @Sendable (LogCapture.Entry) -> Bool = {
            $0.level == .error && $0.metadata["loop"] == "jobs" && $0.metadata["step"] == "claim"
                && $0.metadata["error"]?.contains("jobs") == true
        }
        // Logged, and the loop still runs: it claims again on its next tick and logs again.
        #expect(await capture.waitFor(failedClaims))
        let logged = capture.entries.filter(failedClaims).count
        #expect(await capture.waitFor { _ in capture.entries.filter(failedClaims).count > logged })
        worker.cancel()
        await worker.value
    }
}

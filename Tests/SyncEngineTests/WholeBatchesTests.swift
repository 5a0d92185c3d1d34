import Accounting
import Persistence
import TestSupport
import Testing

@testable import SyncEngine

/// The workers claim a batching platform's jobs in whole batches, so chunks are not cut short by the claim.
@Suite struct WholeBatchesTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "greenfield"

    @Test func freeSlotsAreClaimedInWholeBatchesOfThirty() async throws {
        let database = try AppDatabase.inMemory()
        let engine = engine(database, ScriptedConnector())
        #expect(engine.wholeBatches(240) == 240)
        #expect(engine.wholeBatches(59) == 30)
        #expect(engine.wholeBatches(29) == 0)
        #expect(engine.wholeBatches(-3) == 0)
    }

    @Test func aLimitBelowOneBatchClaimsWhatIsFree() async throws {
        let database = try AppDatabase.inMemory()
        let engine = SyncEngine(
            database: database, connectors: [ScriptedConnector()],
            tokens: tokens(database, ScriptedConnector(), authority: nil), workerID: "w",
            limits: .init(batchedJobs: 10), clock: clock)
        #expect(engine.wholeBatches(7) == 7)
    }
}

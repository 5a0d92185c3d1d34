import Accounting
import Connectors
import Testing

@testable import SyncEngine

/// A round's pushes gather into chunks in the round's order (the claim's: billing's), whatever order their jobs
/// happen to reach the batch in.
@Suite struct PushBatchTests {
    @Test func aChunkKeepsTheRoundsOrderWhateverOrderItsPushesArriveIn() async throws {
        let batch = PushBatch(jobs: ["job_a", "job_b", "job_c"], size: 3)
        var leaders: [(job: String, chunk: [String])] = []
        var results: [String: String] = [:]
        await withTaskGroup(of: (String, PushBatch.Turn).self) { group in
            // The last job of the round gets there first, then the second; the first comes last.
            for id in ["c", "b", "a"] {
                let waiting = await batch.waiting
                group.addTask { ("cus_\(id)", await batch.submit(jobID: "job_\(id)", Self.customer("cus_\(id)"))) }
                while await batch.waiting == waiting, id != "a" { await Task.yield() }
            }
            for await (localID, turn) in group {
                switch turn {
                case .lead(let chunk, let requests):
                    leaders.append((localID, requests.map(\.localID)))
                    await batch.deliver(
                        chunk: chunk, requests.map { .success(PushResult(remoteID: "remote-\($0.localID)")) })
                    results[localID] = "remote-\(localID)"
                case .result(let result):
                    results[localID] = (try? result.get())?.remoteID
                }
            }
        }
        #expect(leaders.map(\.job) == ["cus_a"], "the round's first job leads its chunk")
        #expect(leaders.first?.chunk == ["cus_a", "cus_b", "cus_c"])
        #expect(results == ["cus_a": "remote-cus_a", "cus_b": "remote-cus_b", "cus_c": "remote-cus_c"])
    }

    static func customer(_ id: String) -> PushRequest {
        PushRequest(
            integrationID: "int_1", tenantID: "school", localID: id, version: 1, action: .create,
            record: .customer(
                Customer(id: .init(id), name: "Asha Rao", updatedAt: Timestamp(secondsSinceEpoch: 1_795_000_000))),
            remoteID: nil, idempotencyKey: "job_\(id)", attempt: 1, mappings: CodeMappings())
    }
}

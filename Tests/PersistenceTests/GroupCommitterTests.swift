import Dispatch
import Persistence
import Synchronization
import Testing

@Suite struct GroupCommitterTests {
    /// Records each transaction's items, and how many callers have started submitting.
    final class Recorder: Sendable {
        let batches = Mutex<[[Int]]>([])
        let started = Atomic<Int>(0)
    }

    /// A serial queue stands in for the database writer.
    static func committer(
        recorder: Recorder,
        maximumBatchSize: Int = 64,
        commit: @escaping @Sendable ([Int]) -> [Result<Int, any Error>]
    ) -> GroupCommitter<Void, Int, Int> {
        let queue = DispatchQueue(label: "writer")
        return GroupCommitter(
            maximumBatchSize: maximumBatchSize,
            schedule: { body in queue.async { body(()) } },
            commit: { _, batch in
                recorder.batches.withLock { $0.append(batch) }
                return commit(batch)
            }
        )
    }

    @Test func concurrentSubmissionsShareTransactions() async throws {
        let recorder = Recorder()
        let committer = Self.committer(recorder: recorder) { batch in
            // Stand-in for the fsync: the first transaction lasts until every caller has arrived.
            while recorder.started.load(ordering: .relaxed) < 400 {}
            return batch.map { .success($0 * 10) }
        }
        let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for value in 0..<400 {
                group.addTask {
                    recorder.started.add(1, ordering: .relaxed)
                    return (value, try await committer.submit(value))
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 400)
        #expect(results.allSatisfy { $0.value == $0.key * 10 })
        let batches = recorder.batches.withLock { $0 }
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<400))
        #expect(batches.count < 400 / 4, "expected batching, got \(batches.count) transactions")
        #expect(batches.allSatisfy { $0.count <= 64 })
    }

    @Test func oneItemsFailureIsItsOwnAndABatchFailureIsEveryones() async throws {
        struct Refused: Error {}
        let committer = Self.committer(recorder: Recorder()) { batch in
            if batch.contains(-1) { return batch.map { _ in .failure(Refused()) } }
            return batch.map { $0 == 13 ? .failure(Refused()) : .success($0) }
        }
        #expect(try await committer.submit(12) == 12)
        await #expect(throws: Refused.self) { try await committer.submit(13) }
        await #expect(throws: Refused.self) { try await committer.submit(-1) }
        #expect(try await committer.submit(14) == 14)
    }

    /// Upkeep runs once each time the queue runs empty, never between batches, and what arrives meanwhile commits.
    @Test func idleUpkeepRunsWhenTheQueueRunsEmpty() async throws {
        let events = Mutex<[String]>([])
        let queue = DispatchQueue(label: "writer")
        let committer = GroupCommitter<Void, Int, Int>(
            onIdle: { _ in events.withLock { $0.append("idle") } },
            schedule: { body in queue.async { body(()) } },
            commit: { _, batch in
                events.withLock { $0.append("commit \(batch)") }
                return batch.map { .success($0) }
            }
        )
        #expect(try await committer.submit(1) == 1)
        // The drain may still be finishing with its idle call; wait until it has.
        while events.withLock({ $0.last }) != "idle" { await Task.yield() }
        #expect(try await committer.submit(2) == 2)
        while events.withLock({ $0.count }) < 4 { await Task.yield() }
        #expect(events.withLock { $0 } == ["commit [1]", "idle", "commit [2]", "idle"])
    }
}

import Synchronization

/// Shared state of concurrent test clients.
final class Tally: Sendable {
    let acknowledged = Mutex<[String]>([])
    let statuses = Mutex<[Int]>([])
    let stopped = Atomic<Bool>(false)

    var acknowledgedCount: Int { acknowledged.withLock { $0.count } }
    var statusCount: Int { statuses.withLock { $0.count } }
}

import Accounting
import Connectors
import Foundation
import Persistence
import SyncEngine
import Synchronization
import TestSupport

/// A clock the test moves by hand.
final class ManualClock: SyncClock {
    private let current: Mutex<Int64>

    init(_ start: Timestamp = Timestamp(secondsSinceEpoch: 1_795_000_000)) {
        current = Mutex(start.microsecondsSinceEpoch)
    }

    func now() -> Timestamp { Timestamp(microsecondsSinceEpoch: current.withLock { $0 }) }

    func advance(by duration: Duration) {
        current.withLock { $0 += duration.wholeMicroseconds }
    }

    func sleep(for duration: Duration) async throws { advance(by: duration) }
}

import Accounting
import Connectors
import Persistence
import SyncEngine
import Synchronization

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

/// A platform that answers pushes from a script, then succeeds, and keeps what was written by idempotency key the way
/// a platform with idempotent writes does: the same key twice makes one record.
final class ScriptedConnector: Connector {
    struct Push: Sendable, Hashable {
        var idempotencyKey: String
        var localID: String
        var version: Int
        var action: PushRequest.Action
    }

    let platform: Platform = .quickBooksOnline
    let capabilities = ConnectorCapabilities(webhooks: true, maximumBatchSize: 30, changeFeed: true)
    private struct State {
        var script: [ConnectorError] = []
        var pushes: [Push] = []
        var written: [String: String] = [:]
        var nextID = 1
    }

    private let state = Mutex(State())

    init(failing script: [ConnectorError] = []) {
        state.withLock { $0.script = script }
    }

    /// Every push the engine made, in order (including the refused ones).
    var pushes: [Push] { state.withLock { $0.pushes } }
    /// The records the platform holds, by idempotency key.
    var written: [String: String] { state.withLock { $0.written } }

    func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult {
        let result: Result<PushResult, ConnectorError> = state.withLock { state in
            state.pushes.append(
                Push(
                    idempotencyKey: request.idempotencyKey, localID: request.localID, version: request.version,
                    action: request.action))
            if !state.script.isEmpty { return .failure(state.script.removeFirst()) }
            if let existing = state.written[request.idempotencyKey] { return .success(PushResult(remoteID: existing)) }
            let remoteID = request.remoteID ?? "\(state.nextID)"
            state.nextID += 1
            state.written[request.idempotencyKey] = remoteID
            return .success(PushResult(remoteID: remoteID))
        }
        return try result.get()
    }

    func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord? { nil }

    func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        ChangePage(changes: [], nextCursor: cursor, hasMore: false)
    }

    func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        RemoteChart(accounts: [], taxCodes: [], items: [])
    }
}

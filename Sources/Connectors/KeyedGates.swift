import Synchronization

/// A first-come, first-served gate per key: whatever runs through one key's gate runs one at a time, in the order it
/// came. One Tally's requests go through its gate (Tally answers one request at a time); one integration's file
/// downloads go through theirs (two at once would put a record in both files).
public final class KeyedGates: Sendable {
    private let gates = Mutex<[String: Gate]>([:])

    public init() {}

    /// Runs `body` once every earlier caller with `key` is done.
    public func run<T: Sendable, Failure: Error>(
        _ key: String, _ body: () async throws(Failure) -> T
    ) async throws(Failure) -> T {
        let gate = gates.withLock { gates in
            if let gate = gates[key] { return gate }
            let gate = Gate()
            gates[key] = gate
            return gate
        }
        await gate.acquire()
        do {
            let value = try await body()
            await gate.release()
            return value
        } catch {
            await gate.release()
            throw error
        }
    }

    /// One key's gate: held by one caller, the others waiting in order.
    private actor Gate {
        private var busy = false
        private var waiting: [CheckedContinuation<Void, Never>] = []

        func acquire() async {
            guard busy else {
                busy = true
                return
            }
            await withCheckedContinuation { waiting.append($0) }
        }

        func release() {
            if waiting.isEmpty {
                busy = false
            } else {
                waiting.removeFirst().resume()
            }
        }
    }
}

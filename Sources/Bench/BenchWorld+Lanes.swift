import Accounting

extension BenchWorld {
    /// Billing events 1...count, made by `event` and signed with `key`, sent by `lanes` senders at once; returns once
    /// Ledgerwire has acknowledged every one.
    func sendEach(
        count: Int, lanes: Int, key: [UInt8], event: @escaping @Sendable (Int) -> JSONValue
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    for index in stride(from: 1 + lane, through: count, by: lanes) {
                        try await send(event(index), key: key)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}

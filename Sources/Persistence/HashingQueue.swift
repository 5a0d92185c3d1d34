import Foundation

/// Runs password hashing (tens of milliseconds of CPU and 32 MiB each) off Swift's cooperative pool, at most two at a
/// time: a burst of sign-ins neither holds up the server's tasks nor takes 32 MiB for every request in flight.
enum HashingQueue {
    private static let queue: OperationQueue = {
        let queue = OperationQueue()
        queue.name = "ledgerwire.password-hashing"
        queue.maxConcurrentOperationCount = 2
        queue.qualityOfService = .userInitiated
        return queue
    }()

    /// `work`'s result, computed on the hashing queue.
    static func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.addOperation { continuation.resume(with: Result { try work() }) }
        }
    }
}

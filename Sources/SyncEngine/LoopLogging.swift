import Logging

extension Logger {
    /// Runs one step of a service loop: its result, or `nil` once its error is logged, so the loop goes on to its
    /// next round instead of stopping, and a failing step (the database unavailable, a full disk) shows in the log
    /// rather than as work silently not done. Cancellation is not an error here: the loop is stopping.
    ///
    /// Metadata: `loop` (which loop), `step` (what it was doing) and `error`.
    func loopStep<T>(
        _ loop: String, _ step: String, level: Logger.Level = .error, _ operation: () async throws -> T
    ) async -> T? {
        do {
            return try await operation()
        } catch is CancellationError {
            return nil
        } catch {
            log(
                level: level, "service loop step failed",
                metadata: ["loop": "\(loop)", "step": "\(step)", "error": "\(String(describing: error))"])
            return nil
        }
    }
}

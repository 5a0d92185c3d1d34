import Logging
import Synchronization

/// Keeps every entry logged through it, for tests that check what an operator would see in the log.
final class LogCapture: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let captured = Mutex<[Entry]>([])

    var entries: [Entry] { captured.withLock { $0 } }

    /// A logger writing here, at every level.
    func logger(label: String = "test.captured") -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ entry: Entry) { captured.withLock { $0.append(entry) } }

    /// Waits (ten seconds at most, in real time) until an entry satisfies `matching`.
    func waitFor(_ matching: (Entry) -> Bool) async -> Bool {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(10) {
            if entries.contains(where: matching) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return entries.contains(where: matching)
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata.mapValues { "\($0)" }
            for (key, value) in event.metadata ?? [:] { all[key] = "\(value)" }
            capture.append(Entry(level: event.level, message: "\(event.message)", metadata: all))
        }
    }
}

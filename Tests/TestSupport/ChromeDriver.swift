import Accounting
public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A `chromedriver` process on 127.0.0.1 and a free port, and the Chromium it starts. `stop()` ends both; so does
/// dropping it, and so does the test process's exit: no process outlives the tests.
///
/// `@unchecked Sendable`: `Process` is not marked Sendable; this type only reads its pid and `isRunning`, which
/// Foundation guards, and keeps its own state in a `Mutex`.
public final class ChromeDriver: @unchecked Sendable {
    /// Where Chromium and ChromeDriver are.
    public struct Binaries: Sendable {
        public let chromium: String
        public let chromedriver: String

        public static let installHint = "install chromium and chromium-driver: apt-get install chromium chromium-driver"

        /// Found on `path` (the `PATH`), else at Debian's places.
        /// - Throws: `BrowserFailure` saying what is missing and how to install it.
        public static func find(
            path: String? = ProcessInfo.processInfo.environment["PATH"],
            chromiumCandidates: [String] = ["/usr/bin/chromium"],
            chromedriverCandidates: [String] = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        ) throws -> Binaries {
            let chromium = locate(["chromium", "chromium-browser"], path: path, candidates: chromiumCandidates)
            let chromedriver = locate(["chromedriver"], path: path, candidates: chromedriverCandidates)
            guard let chromium, let chromedriver else {
                let missing = [chromium == nil ? "Chromium" : nil, chromedriver == nil ? "ChromeDriver" : nil]
                    .compactMap { $0 }.joined(separator: " and ")
                let places = (chromiumCandidates + chromedriverCandidates).joined(separator: ", ")
                throw BrowserFailure(
                    "\(missing) not found (on the PATH, or at \(places)); the browser tests need a real browser: "
                        + installHint)
            }
            return Binaries(chromium: chromium, chromedriver: chromedriver)
        }

        public static func locate(_ names: [String], path: String?, candidates: [String]) -> String? {
            let directories = (path ?? "").split(separator: ":").map(String.init)
            let onPath = names.lazy.flatMap { name in directories.lazy.map { "\($0)/\(name)" } }
            return (Array(onPath) + candidates).first { FileManager.default.isExecutableFile(atPath: $0) }
        }
    }

    public let process: ChildProcess
    public let port: Int
    public let log: URL
    public let client: WebDriverClient

    private init(process: ChildProcess, port: Int, log: URL) {
        self.process = process
        self.port = port
        self.log = log
        self.client = WebDriverClient(port: port)
    }

    /// Starts chromedriver and waits until it is ready (a port taken meanwhile by another process: tried again).
    public static func start(_ binaries: Binaries, logs: URL) async throws -> ChromeDriver {
        var lastLog = ""
        for _ in 0..<3 {
            let port = try LoopbackSocket.freePort()
            let log = logs.appendingPathComponent("chromedriver-\(port).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let process = try ChildProcess(
                executable: URL(fileURLWithPath: binaries.chromedriver),
                arguments: ["--port=\(port)", "--allowed-ips=127.0.0.1", "--log-level=WARNING"], stdout: log,
                stderr: log)
            let driver = ChromeDriver(process: process, port: port, log: log)
            Self.live.withLock { _ = $0.insert(process.processIdentifier) }
            let (ready, answer) = try await driver.becomesReady(within: .seconds(10))
            if ready { return driver }
            lastLog = ((try? String(contentsOf: log, encoding: .utf8)) ?? "") + answer
            driver.stop()
        }
        throw BrowserFailure("chromedriver did not start: \(lastLog)")
    }

    /// Whether `GET /status` says ready before the deadline (false when the process ended first, or with the last
    /// answer or error).
    private func becomesReady(within limit: Duration) async throws -> (ready: Bool, last: String) {
        let deadline = ContinuousClock.now + limit
        var last = ""
        while ContinuousClock.now < deadline, process.isRunning {
            do {
                let status = try await client.send("GET", "status", timeout: .seconds(2))
                if status["ready"] == true { return (true, "") }
                last = "\(status)"
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return (false, last)
    }

    deinit { stop() }

    /// Ends chromedriver and every process it started (Chromium's), at once.
    public func stop() {
        let pid = process.processIdentifier
        guard Self.live.withLock({ $0.remove(pid) }) != nil else { return }
        Self.terminate(pid)
        let deadline = ContinuousClock.now + .seconds(3)
        while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
    }

    /// chromedrivers not yet stopped, by pid: ended by `atexit` if the tests end without stopping them.
    private static let live: Mutex<Set<pid_t>> = {
        atexit {
            for pid in ChromeDriver.live.withLock({ $0 }) { ChromeDriver.terminate(pid) }
        }
        return Mutex([])
    }()

    /// Kills `pid` and its descendants (found in `/proc` first, since they are re-parented once it dies).
    private static func terminate(_ pid: pid_t) {
        let family = [pid] + descendants(of: pid)
        for member in family { kill(member, SIGKILL) }
    }

    /// Every process whose chain of parents leads to `root`, from `/proc/<pid>/stat`.
    public static func descendants(of root: pid_t) -> [pid_t] {
        var children: [pid_t: [pid_t]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After `pid (comm)`: the state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { children[parent, default: []].append(pid) }
        }
        var found: [pid_t] = []
        var queue = children[root] ?? []
        while let next = queue.popLast() {
            found.append(next)
            queue += children[next] ?? []
        }
        return found
    }
}

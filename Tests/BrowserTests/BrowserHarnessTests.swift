import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The harness itself: a missing browser fails with what to install, and a closed browser leaves no process.
@Suite(.timeLimit(.minutes(1)))
struct BrowserHarnessTests {
    @Test func aMissingBrowserFailsSayingHowToInstallIt() {
        let error = #expect(throws: BrowserFailure.self) {
            try ChromeDriver.Binaries.find(
                path: "/nonexistent", chromiumCandidates: ["/nonexistent/chromium"],
                chromedriverCandidates: ["/nonexistent/chromedriver"])
        }
        let text = error?.description ?? ""
        #expect(text.hasPrefix("Chromium and ChromeDriver not found"), "\(text)")
        #expect(text.hasSuffix("install chromium and chromium-driver: apt-get install chromium chromium-driver"))
    }

    @Test func aClosedBrowserLeavesNoProcessBehind() async throws {
        let browser = try await Browser.start()
        let driver = browser.driver.process.processIdentifier
        try await browser.open("data:text/html,<title>Blank</title><p>blank")
        #expect(try await browser.title == "Blank")
        let chromium = ChromeDriver.descendants(of: driver)
        #expect(!chromium.isEmpty, "Chromium runs under chromedriver")
        await browser.close()
        let deadline = ContinuousClock.now + .seconds(3)
        while ([driver] + chromium).contains(where: Self.isRunning), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(
            !([driver] + chromium).contains(where: Self.isRunning), "\(([driver] + chromium).filter(Self.isRunning))")
    }

    @Test func aTestThatThrowsStillClosesItsBrowser() async throws {
        struct Stop: Error {}
        let family = Mutex<[pid_t]>([])
        await #expect(throws: Stop.self) {
            try await Browser.run { browser in
                try await browser.open("data:text/html,<p>about to fail")
                let driver = browser.driver.process.processIdentifier
                family.withLock { $0 = [driver] + ChromeDriver.descendants(of: driver) }
                throw Stop()
            }
        }
        let pids = family.withLock { $0 }
        #expect(pids.count > 1, "chromedriver and Chromium ran")
        let deadline = ContinuousClock.now + .seconds(3)
        while pids.contains(where: Self.isRunning), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!pids.contains(where: Self.isRunning), "\(pids.filter(Self.isRunning))")
    }

    /// Whether `pid` is a process that has not ended (a zombie has).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }
}

public import Accounting
public import Foundation

/// A headless Chromium driven over WebDriver, for tests that use the product as a person does.
///
/// ```swift
/// try await Browser.run(window: .desktop) { browser in
///     try await browser.open(server.baseURL + "/")
///     try await browser.fill("#email", with: "asha@example.com")
///     try await browser.click("#connect")
///     try await browser.waitUntil("back on the callback") { try await browser.url.hasPrefix(callback) }
///     try await browser.screenshot("overview")
///     #expect(try await browser.text("h1") == "Overview")
/// }
/// ```
///
/// - `run` starts chromedriver and Chromium (`--headless=new`, a 1,280 × 900 window, or a phone's 390 × 844
///   viewport with `.phone`), and ends both however `body` ends. `start()` and `close()` do the same by hand.
/// - Commands by CSS selector wait for the element (up to `timeout`, 5 s unless said), so a page that is still
///   loading or updating itself is no cause for a flaky test; `find`, `findAll` and `exists` look once.
/// - `screenshot(_:)` saves a PNG named for the page into `$LEDGERWIRE_SCREENSHOTS` when that names a folder (the
///   README's pictures in docs/screenshots/ are made so), else into a temporary folder.
/// - Chromium and ChromeDriver missing is a failure that says how to install them, never a skip.
public final class Browser: Sendable {
    /// The window's size.
    public enum Window: Sendable {
        /// 1,280 × 900: a laptop's.
        case desktop
        /// A 390 × 844 viewport (an iPhone's), as a phone's browser lays pages out: mobile, touch.
        case phone
    }

    public let driver: ChromeDriver
    public let session: String
    /// How long selector commands wait for their element.
    public let timeout: Duration

    private init(driver: ChromeDriver, session: String, timeout: Duration) {
        self.driver = driver
        self.session = session
        self.timeout = timeout
    }

    /// A new browser; `close()` it when done (or use `run`).
    public static func start(window: Window = .desktop, timeout: Duration = .seconds(5)) async throws -> Browser {
        let binaries = try ChromeDriver.Binaries.find()
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("ledgerwire-browser")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let driver = try await ChromeDriver.start(binaries, logs: logs)
        do {
            let created = try await driver.client.send(
                "POST", "session", ["capabilities": ["alwaysMatch": capabilities(binaries, window)]])
            guard let session = created["sessionId"]?.stringValue else {
                throw BrowserFailure("chromedriver gave no session: \(created)")
            }
            return Browser(driver: driver, session: session, timeout: timeout)
        } catch {
            driver.stop()
            throw BrowserFailure("Chromium did not start (\(binaries.chromium)): \(error)")
        }
    }

    /// Runs `body` with a new browser and closes it however `body` ends.
    public static func run<T>(
        window: Window = .desktop, timeout: Duration = .seconds(5), _ body: (Browser) async throws -> T
    ) async throws -> T {
        let browser = try await start(window: window, timeout: timeout)
        do {
            let result = try await body(browser)
            await browser.close()
            return result
        } catch {
            await browser.close()
            throw error
        }
    }

    public static func capabilities(_ binaries: ChromeDriver.Binaries, _ window: Window) -> JSONValue {
        var arguments: [JSONValue] = [
            "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=en-GB",
        ]
        var options: [String: JSONValue] = ["binary": .string(binaries.chromium)]
        switch window {
        case .desktop:
            arguments.append("--window-size=1280,900")
        case .phone:
            // Chromium keeps a window at least 500 px wide; a phone's viewport is emulated instead.
            arguments.append("--window-size=390,844")
            options["mobileEmulation"] = [
                "deviceMetrics": ["width": 390, "height": 844, "pixelRatio": 1, "mobile": true, "touch": true]
            ]
        }
        options["args"] = .array(arguments)
        return [
            "browserName": "chrome", "goog:chromeOptions": .object(options),
            "timeouts": ["pageLoad": 15_000, "script": 5_000, "implicit": 0],
        ]
    }

    /// Ends the session (Chromium quits), then chromedriver; never throws, so teardown always finishes.
    public func close() async {
        _ = try? await driver.client.send("DELETE", "session/\(session)", timeout: .seconds(5))
        driver.stop()
    }

    /// One command of this session: `path` after `/session/{id}/`.
    @discardableResult
    public func command(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        try await driver.client.send(method, "session/\(session)/\(path)", body)
    }

    // MARK: Pages

    /// Goes to `url` and waits for the page to load.
    public func open(_ url: String) async throws {
        try await command("POST", "url", ["url": .string(url)])
    }

    /// The address of the page shown now.
    public var url: String {
        get async throws { try await command("GET", "url").stringValue ?? "" }
    }

    /// The page's `<title>`.
    public var title: String {
        get async throws { try await command("GET", "title").stringValue ?? "" }
    }

    public func back() async throws { try await command("POST", "back") }

    public func refresh() async throws { try await command("POST", "refresh") }

    /// Runs `script` (a function body; `arguments[0]`… are `arguments`) in the page and gives back what it returns.
    @discardableResult
    public func execute(_ script: String, _ arguments: [JSONValue] = []) async throws -> JSONValue {
        try await command("POST", "execute/sync", ["script": .string(script), "args": .array(arguments)])
    }

    /// The page's cookie `name` (`value`, `httpOnly`, `sameSite`, `secure`, …), or `nil`.
    public func cookie(_ name: String) async throws -> JSONValue? {
        do {
            return try await command("GET", "cookie/\(name)")
        } catch let error as WebDriverClient.CommandError where error.code == "no such cookie" {
            return nil
        }
    }

    // MARK: Waiting

    /// Waits until `condition` holds, asking every 50 ms; fails after `timeout` naming `what` and the page.
    public func waitUntil(
        _ what: String, timeout: Duration? = nil, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + (timeout ?? self.timeout)
        var lastError: (any Error)?
        while true {
            do {
                if try await condition() { return }
            } catch {
                lastError = error
            }
            guard ContinuousClock.now < deadline else {
                let page = (try? await url) ?? "an unknown page"
                throw BrowserFailure(
                    "timed out after \(timeout ?? self.timeout) waiting until \(what), on \(page)"
                        + (lastError.map { " (last error: \($0))" } ?? ""))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: Screenshots

    /// Where screenshots go: `$LEDGERWIRE_SCREENSHOTS`, else a temporary folder.
    public static var screenshotDirectory: URL {
        if let folder = ProcessInfo.processInfo.environment["LEDGERWIRE_SCREENSHOTS"], !folder.isEmpty {
            return URL(fileURLWithPath: folder)
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("ledgerwire-screenshots")
    }

    /// Saves what the window shows as `<name>.png` in `screenshotDirectory` (or at `path`); returns where.
    @discardableResult
    public func screenshot(_ name: String, to path: URL? = nil) async throws -> URL {
        let encoded = try await command("GET", "screenshot").stringValue ?? ""
        guard let png = Data(base64Encoded: encoded), png.starts(with: [0x89, 0x50, 0x4E, 0x47]) else {
            throw BrowserFailure("the screenshot of \(name) is not a PNG")
        }
        let file = path ?? Self.screenshotDirectory.appendingPathComponent("\(name).png")
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try png.write(to: file)
        return file
    }
}

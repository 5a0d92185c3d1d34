public import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `ledgerwire` process, as an operator would run it.
public final class ServerProcess: Sendable {
    public static let adminToken = "cli-test-admin-token-0123456789-abcdefgh"
    public static let masterKey = Data(repeating: 7, count: 32).base64EncodedString()

    /// `.build/<configuration>/ledgerwire`, beside the test bundle.
    public static var executable: URL {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("ledgerwire")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return Fixtures.root.appendingPathComponent(".build/debug/ledgerwire")
    }

    public let process: ChildProcess
    public let output: URL
    /// Where its standard error goes.
    public let errorOutput: URL
    public let port: Int

    /// What it wrote to standard error so far.
    public var standardError: String { (try? String(contentsOf: errorOutput, encoding: .utf8)) ?? "" }

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var pid: Int32 { process.processIdentifier }

    /// Starts `ledgerwire serve --port 0` on `database` and waits until it says where it listens.
    /// - Parameter environment: extra `LEDGERWIRE_*` settings (`LEDGERWIRE_HTTP_MAX_CONNECTIONS`, …).
    public convenience init(database: String, directory: URL, environment: [String: String] = [:]) async throws {
        try await self.init(
            ["serve", "--port", "0", "--database", database, "--log-level", "warning"],
            announcing: "ledgerwire listening on ", directory: directory, environment: environment)
    }

    /// Starts `ledgerwire` with `arguments` and waits for the line beginning with `announcement`, which names the
    /// URL it listens on.
    /// - Parameters:
    ///   - adminToken: `LEDGERWIRE_ADMIN_TOKEN`; `nil` leaves it unset.
    ///   - workingDirectory: where it runs (relative paths such as the default database are relative to it).
    public init(
        _ arguments: [String], announcing announcement: String, directory: URL, environment: [String: String] = [:],
        adminToken: String? = adminToken, workingDirectory: URL? = nil
    ) async throws {
        output = directory.appendingPathComponent("stdout-\(UUID()).txt")
        errorOutput = directory.appendingPathComponent("stderr-\(UUID()).txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorOutput.path, contents: nil)
        process = try Self.launch(
            arguments, stdout: output, stderr: errorOutput, adminToken: adminToken, workingDirectory: workingDirectory,
            environment: environment)
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(announcement) }),
                let url = line.split(separator: " ").first(where: { $0.hasPrefix("http://") }),
                let port = URL(string: String(url))?.port
            {
                self.port = port
                return
            }
            guard process.isRunning, ContinuousClock.now < deadline else {
                process.terminate()
                throw CLIFailure("ledgerwire \(arguments[0]) did not start: \(text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// - Parameters:
    ///   - masterKey: `LEDGERWIRE_MASTER_KEY`; `nil` leaves it unset (the key file beside the database).
    ///   - extra: more environment variables (`LEDGERWIRE_HTTP_MAX_CONNECTIONS`, …).
    ///   - adminToken: `LEDGERWIRE_ADMIN_TOKEN`; `nil` leaves it unset.
    ///   - workingDirectory: where it runs; the tests' own when `nil`.
    public static func launch(
        _ arguments: [String], stdout: URL, stderr: URL? = nil, masterKey: String? = masterKey,
        adminToken: String? = adminToken, workingDirectory: URL? = nil, environment extra: [String: String] = [:]
    ) throws -> ChildProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["LEDGERWIRE_ADMIN_TOKEN"] = adminToken
        environment["LEDGERWIRE_MASTER_KEY"] = masterKey
        // The tests' receivers and platforms are on 127.0.0.1 over http: `outbound.allow_*`.
        environment["LEDGERWIRE_OUTBOUND_ALLOW_INSECURE"] = "true"
        environment["LEDGERWIRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true"
        environment.merge(extra) { _, new in new }
        return try ChildProcess(
            executable: executable, arguments: arguments, environment: environment, workingDirectory: workingDirectory,
            stdout: stdout, stderr: stderr)
    }

    /// Runs a `ledgerwire` command to completion; returns its exit status and standard output (and standard error
    /// after it).
    public static func run(
        _ arguments: [String], in directory: URL, masterKey: String? = masterKey, environment: [String: String] = [:]
    ) async throws -> (Int32, String) {
        let output = directory.appendingPathComponent("run-\(UUID()).txt")
        let errors = directory.appendingPathComponent("run-\(UUID()).err.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = try launch(
            arguments, stdout: output, stderr: errors, masterKey: masterKey, environment: environment)
        let status = try await waitForExit(process, within: .seconds(60))
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return (status, text + ((try? String(contentsOf: errors, encoding: .utf8)) ?? ""))
    }

    public static func waitForExit(_ process: ChildProcess, within limit: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.interrupt()
                throw CLIFailure("ledgerwire did not exit within \(limit)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    public func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    public func waitForExit(within limit: Duration = .seconds(30)) async throws -> (status: Int32, signaled: Bool) {
        let status = try await Self.waitForExit(process, within: limit)
        return (status, process.endedBySignal)
    }

    /// An HTTP call; `nil` when the connection failed (the server is down).
    public func call(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil) async -> (
        Int, Data
    )? {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body.map { Data($0) }
        guard let (data, response) = try? await URLSession.shared.data(for: request),
            let status = (response as? HTTPURLResponse)?.statusCode
        else { return nil }
        return (status, data)
    }

    /// Registers a billing secret through the admin API.
    public func addBillingSecret(_ secret: String) async throws {
        let body = Array(#"{"source":"billing","secret":"\#(secret)"}"#.utf8)
        let answer = await call(
            "POST",
            "/api/v1/webhook-sources",
            headers: ["authorization": "Bearer \(Self.adminToken)", "content-type": "application/json"],
            body: body
        )
        guard answer?.0 == 201 else {
            throw CLIFailure("could not add a webhook secret: \(String(describing: answer))")
        }
    }
}

public struct CLIFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh directory under the system's temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let url = FileManager.default.temporaryDirectory.appendingPathComponent("ledgerwire-cli-\(UUID())")

    public init() throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public var database: String { url.appendingPathComponent("ledgerwire.sqlite").path }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}

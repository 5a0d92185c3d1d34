import Foundation
import TestSupport
import Testing

/// `ledgerwire sandbox quickbooks-desktop` run as a developer runs it, against a `ledgerwire serve`: its Web Connector
/// signs in with the integration's password and runs; with another password it is refused.
@Suite struct QuickBooksDesktopSandboxProcessTests {
    @Test func theFakeWebConnectorRunsAgainstARealServer() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        defer { server.signal(SIGTERM) }
        let created = await server.call(
            "POST", "/api/v1/integrations", headers: ["authorization": "Bearer \(ServerProcess.adminToken)"],
            body: Array(
                #"{"tenant_id":"school","platform":"quickbooks_desktop","name":"QB","settings":{"username":"qb-pc"}}"#
                    .utf8))
        let settings = try #require(
            created.flatMap { try? JSONSerialization.jsonObject(with: $0.1) as? [String: Any] }?["settings"]
                as? [String: Any])
        let password = try #require(settings["password"] as? String)

        let (status, output) = try await ServerProcess.run(
            [
                "sandbox", "quickbooks-desktop", "--server", server.baseURL, "--username", "qb-pc", "--password",
                password, "--every", "1", "--runs", "2",
            ],
            in: directory.url)
        #expect(status == 0, "\(output)")
        #expect(output.contains("polling \(server.baseURL)/qbwc"), "\(output)")
        #expect(output.contains("authenticate: ok, 1 documents, 6 requests, percent [100]"), "\(output)")
        #expect(output.contains("authenticate: none"), "the second run finds nothing to do: \(output)")

        let (_, refused) = try await ServerProcess.run(
            [
                "sandbox", "quickbooks-desktop", "--server", server.baseURL, "--username", "qb-pc", "--password",
                "not-\(password)", "--runs", "1",
            ],
            in: directory.url)
        #expect(refused.contains("authenticate: nvu"), "\(refused)")
        let (invalid, words) = try await ServerProcess.run(
            [
                "sandbox", "quickbooks-desktop", "--server", server.baseURL, "--username", "u", "--password", "p",
                "--country", "FR",
            ],
            in: directory.url)
        #expect(invalid != 0 && words.contains("--country must be US, UK, CA or AU"), "\(words)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }
}

import Accounting
import Foundation
import Sandbox
import TestSupport
import Testing

/// A real `ledgerwire serve` at trace level, on a database file, through the OAuth dance with the QuickBooks
/// emulator, token refreshes, pushes and signed webhooks both ways: none of the secrets it was given or was issued
/// is in any file it wrote (the database, its `-wal` and `-shm`) or in anything it printed.
@Suite struct SecretsProcessTests {
    static let realm = "4620816365000000011"

    @Test func oauthAndWebhookSecretsAreInNeitherTheDatabaseFilesNorTheLogs() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Access tokens that live a minute, inside Ledgerwire's refresh margin: it refreshes before every call, so
        // several token pairs pass through it.
        let tap = QuickBooksTap(sandbox: QuickBooksOnlineSandbox(accessTokenLifetime: 60))
        try await tap.run { tap in
            let server = try await ServerProcess(
                ["serve", "--port", "0", "--database", directory.database, "--log-level", "trace"],
                announcing: "ledgerwire listening on ", directory: directory.url)
            defer { if server.process.isRunning { server.signal(SIGKILL) } }
            let signer = Signer()
            try await tap.registerWebhookSecrets(on: server, billing: signer)
            _ = try await tap.connect(server, realm: Self.realm)
            try await QuickBooksTap.bill(
                server, signer: signer, "customer.created", QuickBooksTap.customer("cus_1", name: "Asha Rao"))
            try await QuickBooksTap.bill(
                server, signer: signer, "invoice.issued",
                QuickBooksTap.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            let pushed = try await QuickBooksTap.eventually("the invoice is pushed to the books") {
                await tap.sandbox.count(realmID: Self.realm, entity: "Invoice") == 1
            }
            let jobs = try await QuickBooksTap.api(server, "GET", "/jobs").json
            try #require(pushed, "\(jobs)")
            // QuickBooks announces Ledgerwire's writes; Ledgerwire fetches them.
            #expect(await tap.announce(to: server).allSatisfy { $0 == 200 })
            let invoiceID = try #require(
                await tap.sandbox.objects(realmID: Self.realm, entity: "Invoice").first?["Id"]?.stringValue)
            let fetched = try await QuickBooksTap.eventually("the announced invoice is fetched") {
                tap.calls.contains("GET /v3/company/\(Self.realm)/invoice/\(invoiceID)")
            }
            #expect(fetched, "\(tap.calls)")

            let tokens = tap.issuedTokens
            // The dance's pair and at least one refreshed pair: the check below is not of an empty list.
            #expect(tokens.count >= 4, "\(tokens.count) tokens issued")
            var secrets: [String: String] = [
                "the OAuth client_secret": tap.clientSecret, "the QuickBooks verifier token": tap.verifierToken,
                "the billing webhook secret": signer.secret,
                "the billing webhook key": String(signer.secret.dropFirst("whsec_".count)),
                "the admin token": ServerProcess.adminToken, "the master key": ServerProcess.masterKey,
            ]
            for (index, token) in tokens.enumerated() { secrets["issued token #\(index + 1)"] = token }
            // Base64 too, as a column or a JSON value might hold bytes.
            for (name, secret) in secrets { secrets["\(name) (base64)"] = Data(secret.utf8).base64EncodedString() }

            let logs = [server.output, server.errorOutput]
            // While it runs (the write-ahead log holds the latest pages), and after it stopped.
            #expect(Self.leaks(of: secrets, in: directory.url, skipping: logs).isEmpty)
            server.signal(SIGTERM)
            _ = try await server.waitForExit()
            #expect(Self.leaks(of: secrets, in: directory.url, skipping: logs).isEmpty)

            let printed = try logs.map { try Data(contentsOf: $0) }
            // The logs are there to search: trace level, and the server spoke.
            #expect(printed.reduce(0) { $0 + $1.count } > 0)
            for (name, secret) in secrets {
                for (log, bytes) in zip(logs, printed) {
                    #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(name) is in \(log.lastPathComponent)")
                }
            }
        }
    }

    /// "<secret> in <file>" for each secret found in a file of `directory` (the database, `-wal`, `-shm`, the
    /// master key file if any), other than `skipping`.
    static func leaks(of secrets: [String: String], in directory: URL, skipping: [URL]) -> [String] {
        let skipped = Set(skipping.map(\.lastPathComponent))
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        #expect(files.contains { $0.hasSuffix(".sqlite") }, "no database file in \(files)")
        var found: [String] = []
        for file in files.sorted() where !skipped.contains(file) {
            guard let bytes = try? Data(contentsOf: directory.appendingPathComponent(file)) else { continue }
            for (name, secret) in secrets.sorted(by: { $0.key < $1.key })
            where bytes.range(of: Data(secret.utf8)) != nil {
                found.append("\(name) in \(file)")
            }
        }
        return found
    }
}

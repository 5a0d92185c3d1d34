import Foundation
import TestSupport
import Testing

/// What a new user met running the real `ledgerwire` for the first time (issue 12, items 6 and 7): a database made
/// silently in another directory, no way in without `LEDGERWIRE_ADMIN_TOKEN`, a typo'd path reported "intact", and
/// errors that named neither the port, the secret nor the URL.
@Suite(.serialized) struct FirstRunProcessTests {
    /// The first word of `text` that is an API key (`lw_…`).
    static func apiKey(in text: String) -> String? {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("lw_") }.map(String.init)
    }

    @Test func aFreshDatabaseWithoutAnAdminTokenGetsAOneTimeAdminKeyShownOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let arguments = ["serve", "--port", "0", "--database", directory.database, "--log-level", "warning"]
        let server = try await ServerProcess(
            arguments, announcing: "ledgerwire listening on ", directory: directory.url, adminToken: nil)
        let said = server.standardError
        #expect(said.contains("created a new, empty database \(directory.database)"), "\(said)")
        #expect(said.contains("No LEDGERWIRE_ADMIN_TOKEN is set"), "\(said)")
        let token = try #require(Self.apiKey(in: said), "\(said)")

        // The key lets its holder in as an admin; it is stored like every key and its creation audited.
        let keys = await server.call("GET", "/api/v1/api-keys", headers: ["authorization": "Bearer \(token)"])
        #expect(keys?.0 == 200)
        let listed = try JSONSerialization.jsonObject(with: keys?.1 ?? Data()) as? [String: Any]
        let items = listed?["items"] as? [[String: Any]] ?? []
        #expect(items.count == 1)
        #expect(items.first?["role"] as? String == "admin" && items.first?["name"] as? String == "first-run admin")
        let audit = await server.call("GET", "/api/v1/audit", headers: ["authorization": "Bearer \(token)"])
        let entries = String(decoding: audit?.1 ?? Data(), as: UTF8.self)
        #expect(entries.contains(#""action":"api_key.created""#) && entries.contains(#""actor":"first-run""#))
        #expect(!entries.contains(token))
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)

        // Started again, it opens the same database and shows no key: the first one still works.
        let again = try await ServerProcess(
            arguments, announcing: "ledgerwire listening on ", directory: directory.url, adminToken: nil)
        #expect(again.standardError.contains("using the database \(directory.database)"), "\(again.standardError)")
        #expect(Self.apiKey(in: again.standardError) == nil)
        #expect(await again.call("GET", "/api/v1/api-keys", headers: ["authorization": "Bearer \(token)"])?.0 == 200)
        again.signal(SIGTERM)
        #expect(try await again.waitForExit().status == 0)
    }

    @Test func serveStartedInAnotherDirectorySaysWhichDatabaseItCreated() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(
            ["serve", "--port", "0", "--log-level", "warning"], announcing: "ledgerwire listening on ",
            directory: directory.url, workingDirectory: directory.url)
        let expected = directory.url.resolvingSymlinksInPath().appendingPathComponent("data/ledgerwire.sqlite").path
        #expect(server.standardError.contains("created a new, empty database \(expected)"), "\(server.standardError)")
        // With LEDGERWIRE_ADMIN_TOKEN set, no key is made.
        #expect(Self.apiKey(in: server.standardError) == nil)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    @Test func auditVerifyOfAMissingFileRefusesNamingItAndCreatesNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let typo = directory.url.appendingPathComponent("ledgerwrie.sqlite").path
        for masterKey in [ServerProcess.masterKey, nil] {
            let (status, output) = try await ServerProcess.run(
                ["audit", "verify", "--database", typo], in: directory.url, masterKey: masterKey)
            #expect(status != 0)
            #expect(output.contains("there is no database \(typo); pass --database"), "\(output)")
            #expect(!output.contains("intact"))
            #expect(!FileManager.default.fileExists(atPath: typo))
            #expect(!FileManager.default.fileExists(atPath: typo + ".master-key"))
        }
        // migrate creates — that is its job — and says so.
        let (status, output) = try await ServerProcess.run(["migrate", "--database", typo], in: directory.url)
        #expect(status == 0)
        #expect(output.contains("created a new database \(typo)"), "\(output)")
        let (_, again) = try await ServerProcess.run(["migrate", "--database", typo], in: directory.url)
        #expect(!again.contains("created"), "\(again)")
    }

    @Test func aPortInUseIsNamedWithWhatToDo() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let occupant = try ScriptedReceiver(answers: [(200, "{}")])
        defer { occupant.stop() }
        let (status, output) = try await ServerProcess.run(
            ["serve", "--port", "\(occupant.port)", "--database", directory.database], in: directory.url)
        #expect(status != 0)
        #expect(
            output.contains(
                "port \(occupant.port) on 127.0.0.1 is already in use; stop the other process or pass --port"),
            "\(output)")
        #expect(!output.contains("errno"), "\(output)")

        let (sandboxStatus, sandbox) = try await ServerProcess.run(
            ["sandbox", "quickbooks-online", "--port", "\(occupant.port)"], in: directory.url)
        #expect(sandboxStatus != 0)
        #expect(sandbox.contains("port \(occupant.port) on 127.0.0.1 is already in use"), "\(sandbox)")
    }

    @Test func replayRefusesASecretThatIsNotOneInPlainWords() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (status, output) = try await ServerProcess.run(
            [
                "replay", Fixtures.billingDirectory.path, "--to", "http://127.0.0.1:9/webhooks/billing", "--secret",
                "my-secret",
            ], in: directory.url)
        #expect(status != 0)
        #expect(output.contains("the secret must be whsec_ followed by base64"), "\(output)")
        #expect(!output.contains("invalidSecret"))
    }

    @Test func freshIDsIsSpelledSoAndGivesEachDeliveryANewID() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (_, help) = try await ServerProcess.run(["replay", "--help"], in: directory.url)
        #expect(help.contains("--fresh-ids") && !help.contains("--fresh-i-ds"), "\(help)")

        let accepted = (200, #"{"delivery_id":"dlv_1","status":"accepted"}"#)
        let receiver = try ScriptedReceiver(answers: Array(repeating: accepted, count: 4))
        defer { receiver.stop() }
        let file = Fixtures.billingDirectory.appendingPathComponent("in-customer.created.json").path
        for fresh in [true, true, false, false] {
            let (status, output) = try await ServerProcess.run(
                ["replay", file, "--to", receiver.url, "--secret", Signer().secret] + (fresh ? ["--fresh-ids"] : []),
                in: directory.url)
            #expect(status == 0, "\(output)")
        }
        let ids = receiver.webhookIDs
        #expect(ids.count == 4)
        #expect(ids.count == 4 && ids[0] != ids[1] && ids[2] == ids[3], "\(ids)")
    }

    @Test func replayEndsWithASummaryAndFailsWhenTheServerWentAwayMidway() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let receiver = try ScriptedReceiver(answers: [
            (200, #"{"delivery_id":"dlv_1","status":"accepted"}"#),
            (200, #"{"delivery_id":"dlv_2","status":"duplicate"}"#),
            (422, #"{"status":422,"title":"Unprocessable Content","errors":[]}"#),
        ])
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixtures.billingDirectory.path)
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }
        #expect(files.count > 4)
        let (status, output) = try await ServerProcess.run(
            ["replay", Fixtures.billingDirectory.path, "--to", receiver.url, "--secret", Signer().secret],
            in: directory.url)
        #expect(status != 0)
        #expect(
            output.contains(
                "replayed: \(files.count) sent, 1 accepted, 1 duplicate, 1 rejected, \(files.count - 3) failed"),
            "\(output)")
        #expect(
            output.contains("could not reach \(receiver.url): connection refused — is `ledgerwire serve` running"),
            "\(output)")
        #expect(!output.contains("NSURLErrorDomain") && !output.contains("UserInfo"), "\(output)")
    }
}

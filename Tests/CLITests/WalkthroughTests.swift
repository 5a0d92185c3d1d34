import Accounting
import Foundation
import TestSupport
import Testing

/// docs/quickbooks-online-in-five-minutes.md, run as a newcomer would run it: its `sh` blocks in order, in one shell,
/// from the repository's root, with the built `ledgerwire` on the `PATH`.
@Suite struct WalkthroughTests {
    static let document = Fixtures.root.appendingPathComponent("docs/quickbooks-online-in-five-minutes.md")

    @Test func quickBooksOnlineInFiveMinutesWorksAsWritten() async throws {
        let text = try String(contentsOf: Self.document, encoding: .utf8)
        let blocks = Self.shellBlocks(in: text)
        #expect(blocks.count >= 6, "the walkthrough's sh blocks were not found")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (lwPort, qboPort) = (try LoopbackSocket.freePort(), try LoopbackSocket.freePort())
        let script =
            """
            set -euo pipefail
            trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
            export PATH="\(ServerProcess.executable.deletingLastPathComponent().path):$PATH"
            export LW_PORT=\(lwPort) QBO_PORT=\(qboPort) DEMO="\(directory.url.path)"

            """ + blocks.joined(separator: "\n")
        let (status, output, errors) = try await Self.bash(script, in: Fixtures.root, logs: directory.url)
        #expect(status == 0, "the walkthrough stopped: \(errors)\n\(output)")
        let lines = output.split(separator: "\n").map(String.init)

        // Step 2: connected, showing the company.
        let connected = try #require(Self.objects(in: lines).first { $0["status"] != nil })
        #expect(connected["status"]?.stringValue == "connected")
        #expect(connected["realm_id"]?.stringValue?.isEmpty == false)

        // Step 4: the five jobs of Greenfield's records all succeeded.
        let jobs =
            lines.filter { $0.hasPrefix("customer ") || $0.hasPrefix("invoice ") || $0.hasPrefix("payment ") }
            + lines.filter { $0.hasPrefix("credit_note ") || $0.hasPrefix("refund ") }
        #expect(jobs.count == 5, "\(lines)")
        #expect(jobs.allSatisfy { $0.hasSuffix(" succeeded") }, "\(jobs)")

        // Step 5: the invoice in the books, to the paisa.
        let invoice = try #require(
            Self.objects(in: lines).first { $0["DocNumber"]?.stringValue == "GF/2026-27/0187" }, "\(output)")
        #expect(invoice["TotalAmt"].flatMap(Self.paise) == 5_782_000)
        #expect(invoice["TotalTax"].flatMap(Self.paise) == 882_000)
        #expect(invoice["Balance"].flatMap(Self.paise) == 2_782_000)
    }

    /// The bodies of the ```sh blocks, in order (```console blocks are for the reader only).
    static func shellBlocks(in markdown: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```sh" {
                current = []
            } else if let body = current, line == "```" {
                blocks.append(body.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    static func objects(in lines: [String]) -> [JSONValue] {
        lines.compactMap { line in
            guard line.hasPrefix("{"), let value = try? JSONValue(parsing: Array(line.utf8)), value.objectValue != nil
            else { return nil }
            return value
        }
    }

    /// A JSON amount in rupees as whole paise.
    static func paise(_ value: JSONValue) -> Int? {
        guard case .number(let text) = value, let amount = Double(text) else { return nil }
        return Int((amount * 100).rounded())
    }

    static func bash(_ script: String, in directory: URL, logs: URL) async throws -> (Int32, String, String) {
        let output = logs.appendingPathComponent("walkthrough.out")
        let errors = logs.appendingPathComponent("walkthrough.err")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = try ChildProcess(
            executable: URL(fileURLWithPath: "/bin/bash"), arguments: ["-c", script], workingDirectory: directory,
            stdout: output, stderr: errors)
        let status = try await ServerProcess.waitForExit(process, within: .seconds(180))
        return (
            status, (try? String(contentsOf: output, encoding: .utf8)) ?? "",
            (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        )
    }
}

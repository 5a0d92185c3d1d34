import App
import ArgumentParser
import Foundation
import Logging
import Sandbox
import ServiceLifecycle
import UnixSignals

extension SandboxCommand {
    /// `ledgerwire sandbox tally`: the Tally emulator, with loaded companies to connect to.
    struct Tally: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tally",
            abstract:
                "Emulate Tally's XML server (TallyPrime or Tally.ERP 9): companies, groups, ledgers and vouchers with "
                + "Tally's rules, one request at a time."
        )

        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on (0 picks a free one; Tally's own is 9000).") var port = 9000
        @Option(help: "A company to load (repeatable).") var company: [String] = ["Sandbox School"]
        @Option(help: "Which Tally: prime (TallyPrime, both import dialects) or erp9 (Tally.ERP 9, legacy only).")
        var version = "prime"
        @Option(help: "The companies' state (their STATENAME), for GST.") var state = "Karnataka"

        func validate() throws {
            guard TallySandbox.Version(rawValue: version) != nil else {
                throw ValidationError("--version must be prime or erp9")
            }
            guard !company.isEmpty, company.allSatisfy({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
                throw ValidationError("add at least one --company with a name")
            }
            guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        }

        func run() async throws {
            let sandbox = TallySandbox(version: TallySandbox.Version(rawValue: version) ?? .prime)
            for name in company { await sandbox.addCompany(name, stateName: state) }
            let logger = Logger(label: "ledgerwire.sandbox.tally")
            let service = TallyService(
                sandbox: sandbox, host: host, port: port,
                announcement: "companies \(company.joined(separator: ", ")), version \(version)", logger: logger)
            let group = ServiceGroup(
                configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                throw ListenError(error, host: host, port: port) ?? error
            }
        }
    }
}

/// Serves a `TallySandbox` until the process is told to stop.
struct TallyService: Service {
    let sandbox: TallySandbox
    let host: String
    let port: Int
    let announcement: String
    let logger: Logger

    func run() async throws {
        let announcement = announcement
        let host = host
        do {
            try await cancelWhenGracefulShutdown {
                try await sandbox.run(host: host, port: port, logger: logger) { port in
                    // Unbuffered, so a test or a person reading a pipe sees it at once.
                    let text = "Tally sandbox on http://\(host):\(port) (\(announcement))\n"
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            }
        } catch is CancellationError {
            // Stopped by a signal.
        }
    }
}

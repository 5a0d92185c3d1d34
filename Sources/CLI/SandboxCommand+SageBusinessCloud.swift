import App
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Sandbox
import ServiceLifecycle
import UnixSignals

extension SandboxCommand {
    /// `ledgerwire sandbox sage-business-cloud`: the Sage Business Cloud Accounting emulator, with an app and the
    /// user's businesses.
    struct SageBusinessCloud: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sage-business-cloud",
            abstract:
                "Emulate Sage Business Cloud Accounting: its authorize page and token endpoint, and the Accounting API "
                + "v3.1 with its per-business limit and errors."
        )

        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on (0 picks a free one).") var port = 8093
        @Option(help: "The app's client id.") var clientID = "sandbox-client"
        @Option(help: "The app's client secret.") var clientSecret = "sandbox-secret"
        @Option(help: "The app's name on the consent page.") var appName = "Ledgerwire"
        @Option(help: "A redirect URI registered for the app (repeatable); requests must name one exactly.")
        var redirectURI: [String] = ["http://127.0.0.1:8080/oauth/callback"]
        @Option(help: "A business to add, as NAME:COUNTRY with COUNTRY GB or IE (repeatable); the first is the lead.")
        var business: [String] = ["Sandbox School:GB"]
        @Option(help: "Requests each business takes per 60 seconds before answering 429.")
        var requestsPerMinute = 200

        func businesses() throws -> [(name: String, country: String)] {
            try business.map { entry in
                let parts = entry.split(separator: ":").map(String.init)
                guard parts.count == 2, ["GB", "IE"].contains(parts[1].uppercased()) else {
                    throw ValidationError(
                        "--business must be NAME:COUNTRY with COUNTRY GB or IE, like Sandbox School:GB")
                }
                return (parts[0], parts[1].uppercased())
            }
        }

        func validate() throws {
            guard !(try businesses()).isEmpty else { throw ValidationError("add at least one --business") }
            guard (1...100_000).contains(requestsPerMinute) else {
                throw ValidationError("--requests-per-minute must be from 1 to 100000")
            }
        }

        func run() async throws {
            var limits = SageBusinessCloudSandbox.Limits()
            limits.requestsPerWindow = requestsPerMinute
            let sandbox = SageBusinessCloudSandbox(limits: limits)
            await sandbox.registerClient(id: clientID, secret: clientSecret, redirectURIs: redirectURI, name: appName)
            var ids: [String] = []
            for (name, country) in try businesses() {
                if let id = await sandbox.addBusiness(name: name, country: country) { ids.append(id) }
            }
            let clientID = clientID
            let businesses = ids.joined(separator: ", ")
            let application = Application(
                router: sandbox.router(),
                configuration: .init(address: .hostname(host, port: port), serverName: "sage-business-cloud-sandbox"),
                onServerRunning: { channel in
                    let address =
                        "http://\(channel.localAddress?.ipAddress ?? "127.0.0.1"):\(channel.localAddress?.port ?? 0)"
                    let text =
                        "Sage Business Cloud Accounting sandbox on \(address) (client \(clientID), businesses "
                        + "\(businesses), the first the lead)\n"
                        + "integration settings: {\"api_base_url\": \"\(address)/v3.1\", "
                        + "\"oauth_authorize_url\": \"\(address)/oauth2/auth/central\", "
                        + "\"oauth_token_url\": \"\(address)/token\"}\n"
                    FileHandle.standardOutput.write(Data(text.utf8))
                },
                logger: Logger(label: "ledgerwire.sandbox.sage-business-cloud"))
            do {
                try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch {
                throw ListenError(error, host: host, port: port) ?? error
            }
        }
    }
}

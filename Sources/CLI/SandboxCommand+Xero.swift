import App
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Sandbox
import ServiceLifecycle
import UnixSignals

extension SandboxCommand {
    /// `ledgerwire sandbox xero`: the Xero emulator, with an app and organisations to connect to.
    struct Xero: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "xero",
            abstract:
                "Emulate Xero: its identity service (consent, tokens, connections) and the Accounting API 2.0 with its "
                + "limits and errors."
        )

        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on (0 picks a free one).") var port = 8091
        @Option(help: "The app's client id.") var clientID = "sandbox-client"
        @Option(help: "The app's client secret.") var clientSecret = "sandbox-secret"
        @Option(help: "The app's name on the consent page.") var appName = "Ledgerwire"
        @Option(help: "A redirect URI registered for the app (repeatable); authorize requests must name one exactly.")
        var redirectURI: [String] = ["http://127.0.0.1:8080/oauth/callback"]
        @Option(help: "An organisation to add, as NAME:CURRENCY:COUNTRY (repeatable).")
        var organisation: [String] = ["Sandbox School:GBP:GB"]

        func organisations() throws -> [(name: String, currency: String, country: String)] {
            try organisation.map { entry in
                let parts = entry.split(separator: ":").map(String.init)
                guard parts.count == 3, parts[1].count == 3, parts[2].count == 2 else {
                    throw ValidationError("--organisation must be NAME:CURRENCY:COUNTRY, like Sandbox School:GBP:GB")
                }
                return (parts[0], parts[1].uppercased(), parts[2].uppercased())
            }
        }

        func validate() throws {
            guard !(try organisations()).isEmpty else { throw ValidationError("add at least one --organisation") }
        }

        func run() async throws {
            let sandbox = XeroSandbox()
            await sandbox.registerClient(id: clientID, secret: clientSecret, redirectURIs: redirectURI, name: appName)
            var tenants: [String] = []
            for (name, currency, country) in try organisations() {
                tenants.append(await sandbox.addOrganisation(name: name, baseCurrency: currency, countryCode: country))
            }
            let clientID = clientID
            let organisations = tenants.joined(separator: ", ")
            let application = Application(
                router: sandbox.router(),
                configuration: .init(address: .hostname(host, port: port), serverName: "xero-sandbox"),
                onServerRunning: { channel in
                    let address =
                        "http://\(channel.localAddress?.ipAddress ?? "127.0.0.1"):\(channel.localAddress?.port ?? 0)"
                    let text =
                        "Xero sandbox on \(address) (client \(clientID), organisations \(organisations))\n"
                        + "integration settings: {\"api_base_url\": \"\(address)/api.xro/2.0\", "
                        + "\"connections_url\": \"\(address)/connections\", "
                        + "\"oauth_authorize_url\": \"\(address)/identity/connect/authorize\", "
                        + "\"oauth_token_url\": \"\(address)/connect/token\", "
                        + "\"oauth_revoke_url\": \"\(address)/connect/revocation\"}\n"
                    FileHandle.standardOutput.write(Data(text.utf8))
                },
                logger: Logger(label: "ledgerwire.sandbox.xero"))
            do {
                try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch {
                throw ListenError(error, host: host, port: port) ?? error
            }
        }
    }
}

import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Sandbox
import UnixSignals

/// `ledgerwire sandbox <platform>`: a platform emulator to connect an integration to, on loopback.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a faithful emulator of an accounting platform's API.",
        subcommands: [QuickBooksOnline.self]
    )

    struct QuickBooksOnline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "quickbooks-online",
            abstract: "Emulate QuickBooks Online: OAuth 2.0 and the Accounting API v3 with its limits and Faults."
        )

        @Option(help: "Address to listen on.") var host = "127.0.0.1"
        @Option(help: "Port to listen on (0 picks a free one).") var port = 8090
        @Option(help: "The OAuth client id the emulator accepts.") var clientID = "sandbox-client"
        @Option(help: "The OAuth client secret the emulator accepts.") var clientSecret = "sandbox-secret"
        @Option(help: "The company (realm) authorizations connect to.") var realm = "9341453474484455"

        func run() async throws {
            let sandbox = QuickBooksOnlineSandbox()
            await sandbox.registerClient(id: clientID, secret: clientSecret)
            await sandbox.addCompany(realmID: realm)
            let logger = Logger(label: "ledgerwire.sandbox.quickbooks-online")
            let clientID = clientID
            let realm = realm
            let application = Application(
                router: sandbox.router(),
                configuration: .init(address: .hostname(host, port: port), serverName: "quickbooks-online-sandbox"),
                onServerRunning: { channel in
                    let address =
                        "http://\(channel.localAddress?.ipAddress ?? "127.0.0.1"):"
                        + "\(channel.localAddress?.port ?? 0)"
                    // Unbuffered, so a test or a person reading a pipe sees it at once.
                    let text =
                        "QuickBooks Online sandbox on \(address) (client \(clientID), realm \(realm))\n"
                        + "integration settings: {\"api_base_url\": \"\(address)\", "
                        + "\"oauth_authorize_url\": \"\(address)/connect/oauth2\", "
                        + "\"oauth_token_url\": \"\(address)/oauth2/v1/tokens/bearer\"}\n"
                    FileHandle.standardOutput.write(Data(text.utf8))
                },
                logger: logger)
            try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        }
    }
}

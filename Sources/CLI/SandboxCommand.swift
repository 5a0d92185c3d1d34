import App
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Sandbox
import ServiceLifecycle
import UnixSignals

/// `ledgerwire sandbox <platform>`: a platform emulator to connect an integration to, on loopback.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a faithful emulator of an accounting platform's API.",
        subcommands: [QuickBooksOnline.self, Xero.self, Tally.self, SageBusinessCloud.self, QuickBooksDesktop.self]
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
        @Option(help: "The company (realm) authorizations connect to; the consent page offers it first.")
        var realm = "9341453474484455"
        @Option(help: "Another company (realm id) the consent page offers to choose (repeatable).")
        var company: [String] = []
        @Option(help: "The app's name on the consent page.") var appName = "Ledgerwire"
        @Option(
            help: ArgumentHelp(
                "A redirect URI registered for the client (repeatable); authorize requests must name one exactly.",
                discussion: "Without any, loopback http redirect URIs (127.0.0.1, localhost, [::1]) are accepted."))
        var redirectURI: [String] = []
        @Option(help: "Where to send change webhooks, as Intuit does (none are sent without it).")
        var webhookURL: String?
        @Option(help: "The verifier token webhooks are signed with (intuit-signature); needed with --webhook-url.")
        var verifierToken: String?
        @Option(help: "Webhook format: legacy or cloudevents.") var webhookFormat = "legacy"
        @Option(help: "Seconds between webhook deliveries (changes made meanwhile go together).")
        var webhookEvery: Double = 5
        @Option(
            help: ArgumentHelp(
                "The company's country: IN, GB or US.",
                discussion: "Its home currency (INR, GBP, USD) and the tax codes and rates it starts with."))
        var country = "IN"
        @Flag(
            help: ArgumentHelp(
                "Turn on custom transaction numbers (Preferences.SalesFormsPrefs.CustomTxnNumbers).",
                discussion:
                    "A second invoice, credit memo or refund receipt with a DocNumber already used is then refused "
                    + "with Fault 6140, as QuickBooks does; off (a new company's setting), duplicates are stored."))
        var customTransactionNumbers = false
        @Option(
            help: ArgumentHelp(
                "Turn multicurrency on and add a currency with its exchange rate, as CODE=RATE (repeatable).",
                discussion:
                    "The rate is home-currency units for one unit, e.g. GBP=110.25 in an INR company; a transaction "
                    + "in that currency without ExchangeRate gets it."))
        var currency: [String] = []

        /// `--currency` as currency codes and rates.
        var rates: [String: Decimal] {
            get throws {
                var rates: [String: Decimal] = [:]
                for entry in currency {
                    let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, parts[0].count == 3, parts[0].allSatisfy({ $0.isASCII && $0.isUppercase }),
                        let rate = Decimal(string: parts[1], locale: Locale(identifier: "en_US_POSIX")), rate > 0
                    else {
                        throw ValidationError(
                            "--currency must be an ISO 4217 code and a rate above zero, like GBP=110.25; not \(entry)")
                    }
                    rates[parts[0]] = rate
                }
                return rates
            }
        }

        func validate() throws {
            guard QuickBooksCountry(rawValue: country) != nil else {
                throw ValidationError("--country must be IN, GB or US")
            }
            _ = try rates
            guard QuickBooksWebhookSender.Format(rawValue: webhookFormat) != nil else {
                throw ValidationError("--webhook-format must be legacy or cloudevents")
            }
            guard webhookEvery.isFinite, (0.001...86_400).contains(webhookEvery) else {
                throw ValidationError("--webhook-every must be from 0.001 to 86400 seconds")
            }
            if let webhookURL {
                guard let url = URL(string: webhookURL), url.scheme == "http" || url.scheme == "https" else {
                    throw ValidationError("--webhook-url must be an http(s) URL")
                }
                guard verifierToken?.isEmpty == false else {
                    throw ValidationError("--webhook-url needs --verifier-token, the token to sign webhooks with")
                }
            }
        }

        func run() async throws {
            let sandbox = QuickBooksOnlineSandbox()
            await sandbox.registerClient(id: clientID, secret: clientSecret, redirectURIs: redirectURI, name: appName)
            for realm in [realm] + company {
                await sandbox.addCompany(realmID: realm, country: QuickBooksCountry(rawValue: country) ?? .india)
            }
            await sandbox.setConsentRealm(realm)
            await sandbox.setCustomTransactionNumbers(realmID: realm, customTransactionNumbers)
            if !currency.isEmpty { await sandbox.enableMulticurrency(realmID: realm, rates: try rates) }
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
            var service = application
            if let webhookURL, let url = URL(string: webhookURL), let verifierToken,
                let format = QuickBooksWebhookSender.Format(rawValue: webhookFormat)
            {
                // `validate()` checked webhookEvery isFinite and in range.
                service.addServices(
                    WebhookDeliveries(
                        sandbox: sandbox,
                        sender: QuickBooksWebhookSender(url: url, verifierToken: verifierToken, format: format),
                        every: .milliseconds(Int64((webhookEvery * 1000).rounded())), logger: logger))
            }
            do {
                try await service.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            } catch {
                throw ListenError(error, host: host, port: port) ?? error
            }
        }
    }
}

/// Sends the emulator's change webhooks every `every`, as Intuit does: the changes made meanwhile together, signed,
/// retried on Intuit's schedule while the receiver fails or takes longer than 3 s.
struct WebhookDeliveries: Service {
    let sandbox: QuickBooksOnlineSandbox
    let sender: QuickBooksWebhookSender
    let every: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: every) }
            for report in await sandbox.deliverWebhooks(with: sender) where !report.delivered {
                logger.warning(
                    "webhook.undelivered",
                    metadata: [
                        "webhook.url": "\(sender.url)",
                        "webhook.statuses": "\(report.attempts.map { $0.status.map(String.init) ?? "none" })",
                    ])
            }
        }
    }
}

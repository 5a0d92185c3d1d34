import App
import ArgumentParser
import Configuration
import Connectors
import Foundation
import Hummingbird
import Logging
import Persistence
import UnixSignals

/// `ledgerwire serve`: the server, until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server: webhooks, admin API, metrics. Migrates the database first."
    )

    @Option(help: "Address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default 8080; 0 picks a free one, printed on start).")
    var port: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        if let host { values["http.host"] = ConfigValue(.string(host), isSecret: false) }
        if let port { values["http.port"] = ConfigValue(.int(port), isSecret: false) }
        let configuration = ServerConfiguration(config: try await options.reader(overrides: values))
        var logger = Logger(label: "ledgerwire")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let database = DatabaseFile(path: configuration.databasePath)
        let components = try database.opening {
            try Components.open(configuration: configuration, registry: ConnectorRegistry.standard, logger: logger)
        }
        database.announce(logger: logger)
        let needsFirstKey = configuration.adminToken == nil
        let firstRunLogger = logger
        let app = buildApplication(configuration: configuration, components: components, logger: logger) { host, port in
            // Once it listens (a server that cannot start makes no key to be lost in its output), before saying so.
            if needsFirstKey { await Self.createFirstAdminKey(in: components, logger: firstRunLogger) }
            // Unbuffered, so a supervisor or test reading a pipe sees it at once.
            FileHandle.standardOutput.write(Data("ledgerwire listening on http://\(host):\(port)\n".utf8))
        }
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            throw ListenError(error, host: configuration.host, port: configuration.port) ?? error
        }
    }

    /// Without `LEDGERWIRE_ADMIN_TOKEN`, a database with no API keys would have no way in: an admin key is made and
    /// shown once, on standard error (stored hashed and audited like every key; never logged).
    static func createFirstAdminKey(in components: Components, logger: Logger) async {
        let created: (APIKey, String)?
        do {
            created = try await components.database.createFirstAdminKey(name: "first-run admin", actor: "first-run")
        } catch {
            logger.error("api_key.first_run_failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            CommandOutput.standardError(
                "ledgerwire: could not create a first-run admin API key (\(error)); set LEDGERWIRE_ADMIN_TOKEN and "
                    + "start again\n")
            return
        }
        guard let (key, token) = created else { return }
        logger.notice("api_key.first_run_created", metadata: ["api_key.id": "\(key.id)"])
        CommandOutput.standardError(
            """
            No LEDGERWIRE_ADMIN_TOKEN is set and this database has no API keys, so an admin API key was created \
            (\(key.id), "first-run admin"). It is shown this once only and stored hashed; keep it somewhere safe:

                \(token)

            Send it as "Authorization: Bearer <key>" to /api/v1, create the keys you need with POST /api/v1/api-keys, \
            and delete this one when you no longer need it. To choose a bootstrap key yourself instead, set \
            LEDGERWIRE_ADMIN_TOKEN (32 characters or more, e.g. openssl rand -base64 32).

            """)
    }
}

import App
import ArgumentParser
import Configuration
import Foundation
import Hummingbird
import Logging
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
        let components = try Components.open(configuration: configuration, logger: logger)
        let app = buildApplication(configuration: configuration, components: components, logger: logger) { host, port in
            // Unbuffered, so a supervisor or test reading a pipe sees it at once.
            FileHandle.standardOutput.write(Data("ledgerwire listening on http://\(host):\(port)\n".utf8))
        }
        try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }
}

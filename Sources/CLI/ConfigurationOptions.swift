import ArgumentParser
import Configuration
import Foundation
import SystemPackage

/// Options every command shares, and the one `ConfigReader` built from them.
struct ConfigurationOptions: ParsableArguments {
    @Option(help: "SQLite database file (default data/ledgerwire.sqlite).")
    var database: String?

    @Option(help: "Directory of default.json and <environment>.json.")
    var configDirectory: String = "config"

    /// Layers, first wins: command-line options → `LEDGERWIRE_*` environment → `config/<env>.json` →
    /// `config/default.json`. `LEDGERWIRE_ENV` picks the environment file (default `development`).
    func reader(overrides: [AbsoluteConfigKey: ConfigValue] = [:]) async throws -> ConfigReader {
        var values = overrides
        if let database { values["database.path"] = ConfigValue(.string(database), isSecret: false) }
        let environment = ProcessInfo.processInfo.environment["LEDGERWIRE_ENV"] ?? "development"
        return ConfigReader(providers: [
            InMemoryProvider(name: "command line", values: values),
            EnvironmentVariablesProvider(
                secretsSpecifier: .specific(["LEDGERWIRE_ADMIN_TOKEN", "LEDGERWIRE_MASTER_KEY"])
            ).prefixKeys(with: "ledgerwire"),
            try await FileProvider<JSONSnapshot>(
                filePath: FilePath("\(configDirectory)/\(environment).json"),
                allowMissing: true
            ),
            try await FileProvider<JSONSnapshot>(
                filePath: FilePath("\(configDirectory)/default.json"), allowMissing: true),
        ])
    }
}

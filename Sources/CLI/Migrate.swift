import App
import ArgumentParser
import Logging
import Persistence

/// `ledgerwire migrate`: creates or upgrades the database and lists its migrations.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = ServerConfiguration(config: try await options.reader())
        let box = try configuration.loadMasterKey(creating: true, logger: Logger(label: "ledgerwire"))
        let database = try AppDatabase.open(path: configuration.databasePath, auditKey: box.auditKey)
        for migration in try await database.appliedMigrations() {
            print("applied \(migration)")
        }
        print("\(configuration.databasePath) is up to date")
    }
}

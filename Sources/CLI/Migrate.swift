import App
import ArgumentParser
import Persistence

/// `ledgerwire migrate`: creates or upgrades the database and lists its migrations.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema.")

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = ServerConfiguration(config: try await options.reader())
        let database = try AppDatabase.open(path: configuration.databasePath)
        for migration in try await database.appliedMigrations() {
            print("applied \(migration)")
        }
        print("\(configuration.databasePath) is up to date")
    }
}

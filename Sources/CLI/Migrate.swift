import App
import ArgumentParser
import Logging
import Persistence

/// `ledgerwire migrate`: creates or upgrades the database and lists its migrations.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or upgrade the database schema.",
        discussion: "Creates the database file (and its directory) when there is none, and says so."
    )

    @OptionGroup var options: ConfigurationOptions

    func run() async throws {
        let configuration = ServerConfiguration(config: try await options.reader())
        let file = DatabaseFile(path: configuration.databasePath)
        let box = try configuration.loadMasterKey(creating: true, logger: Logger(label: "ledgerwire"))
        let database = try file.opening {
            try AppDatabase.open(path: configuration.databasePath, auditKey: box.auditKey)
        }
        if !file.existed { print("created a new database \(file.absolutePath)") }
        for migration in try await database.appliedMigrations() {
            print("applied \(migration)")
        }
        print("\(file.absolutePath) is up to date")
    }
}

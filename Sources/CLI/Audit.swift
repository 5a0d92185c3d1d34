import App
import ArgumentParser
import Logging
import Persistence

/// `ledgerwire audit verify`: walks the audit chain and checks its signed checkpoint, read-only.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the audit log.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's signed chain and checkpoint; exit 1 naming the first broken entry.",
            discussion: """
                Opens the database read-only and never migrates it. Needs the master key the server signs the chain \
                with: LEDGERWIRE_MASTER_KEY, or the key file beside the database (never created here).
                """
        )

        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let configuration = ServerConfiguration(config: try await options.reader())
            let file = DatabaseFile(path: configuration.databasePath)
            // Checked first: a mistyped path is the likelier cause, and the master key file is looked for beside it.
            guard file.existed else {
                throw CommandFailure(
                    "there is no database \(file.absolutePath); pass --database with the file `ledgerwire serve` uses "
                        + "(audit verify reads a database, it never creates one)")
            }
            let box = try configuration.loadMasterKey(creating: false, logger: Logger(label: "ledgerwire"))
            let database = try file.opening {
                try AppDatabase.openReadOnly(path: configuration.databasePath, auditKey: box.auditKey)
            }
            switch try await database.verifyAuditChain() {
            case .intact(let entries):
                print("audit chain intact: \(entries) entries")
            case .broken(let seq, let id, let reason):
                print("audit chain broken at entry \(seq) (\(id)): \(reason)")
                throw ExitCode(1)
            }
        }
    }
}

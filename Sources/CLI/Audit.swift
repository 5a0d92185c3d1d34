import App
import ArgumentParser
import Persistence

/// `ledgerwire audit verify`: walks the audit hash chain.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect the audit log.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's hash chain; exit 1 naming the first broken entry."
        )

        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let configuration = ServerConfiguration(config: try await options.reader())
            let database = try AppDatabase.open(path: configuration.databasePath)
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

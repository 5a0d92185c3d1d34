import ArgumentParser

/// The `ledgerwire` executable.
@main
struct Ledgerwire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledgerwire",
        abstract: "Keeps Cognify billing and schools' accounting systems in agreement.",
        subcommands: [
            Serve.self, Migrate.self, Replay.self, Audit.self, Users.self, SandboxCommand.self, TallyAgent.self,
        ]
    )
}

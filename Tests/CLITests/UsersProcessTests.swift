import Accounting
import Foundation
import Persistence
import TestSupport
import Testing

/// `ledgerwire users …` as an operator runs it: the password on standard input, never on the command line (issue 15,
/// item 1).
@Suite struct UsersProcessTests {
    static let password = "correct horse battery staple"

    /// Runs `ledgerwire users <arguments> --database …` with `input` on standard input; its status and its standard
    /// output and standard error.
    static func users(_ arguments: [String], input: String? = nil, in directory: TemporaryDirectory) async throws
        -> (status: Int32, output: String, errors: String)
    {
        let output = directory.url.appendingPathComponent("users-\(UUID()).out")
        let errors = directory.url.appendingPathComponent("users-\(UUID()).err")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let typed = directory.url.appendingPathComponent("users-\(UUID()).in")
        _ = FileManager.default.createFile(atPath: typed.path, contents: Data((input ?? "").utf8))
        var environment = ProcessInfo.processInfo.environment
        environment["LEDGERWIRE_MASTER_KEY"] = ServerProcess.masterKey
        let process = try ChildProcess(
            executable: ServerProcess.executable,
            arguments: ["users"] + arguments + ["--database", directory.database], environment: environment,
            stdin: typed, stdout: output, stderr: errors)
        let status = try await ServerProcess.waitForExit(process, within: .seconds(60))
        return (
            status, (try? String(contentsOf: output, encoding: .utf8)) ?? "",
            (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        )
    }

    @Test func anOperatorAddsAUserWhoCanSignInThenRemovesThem() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let added = try await Self.users(
            [
                "add", "--email", "Asha@Greenfield.Example", "--name", "Asha Rao", "--role", "finance_manager",
                "--tenant",
                "greenfield",
            ], input: Self.password + "\n", in: directory)
        #expect(added.status == 0, "\(added)")
        #expect(added.output.contains("added usr_"), "\(added)")
        #expect(added.output.contains("asha@greenfield.example (finance_manager, tenant greenfield)"), "\(added)")

        let listed = try await Self.users(["list"], in: directory)
        #expect(listed.status == 0, "\(listed)")
        let line = try #require(listed.output.split(separator: "\n").first { $0.contains("asha@greenfield.example") })
        #expect(
            line.hasPrefix("usr_") && line.hasSuffix("\tasha@greenfield.example\tfinance_manager\tgreenfield\tAsha Rao")
        )
        #expect(!listed.output.contains("scrypt") && !listed.output.contains("correct horse"))

        // The server's store signs them in with that password (the line ending is not part of it).
        let box = try SecretBox(base64MasterKey: ServerProcess.masterKey)
        do {
            let database = try AppDatabase.open(path: directory.database, auditKey: box.auditKey)
            let user = try #require(
                try await database.signIn(email: "asha@greenfield.example", password: Self.password, now: .now()))
            #expect(user.user.role == .financeManager && user.user.tenantID == "greenfield")
            #expect(
                try await database.signIn(email: "asha@greenfield.example", password: Self.password + "\n", now: .now())
                    == nil)
            // user.created, user.signed_in, user.sign_in_failed: signed with the master key the CLI used.
            #expect(try await database.verifyAuditChain() == .intact(entries: 3))
        }

        let removed = try await Self.users(["remove", "--email", "ASHA@greenfield.example"], in: directory)
        #expect(removed.status == 0, "\(removed)")
        let after = try await Self.users(["list"], in: directory)
        #expect(!after.output.contains("asha@greenfield.example"))
        #expect(after.errors.contains("no users"))
    }

    @Test func resetPasswordReadsTheNewOneFromStandardInput() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let added = try await Self.users(
            ["add", "--email", "ravi@greenfield.example", "--name", "Ravi", "--role", "viewer"],
            input: Self.password + "\r\n", in: directory)
        #expect(added.status == 0, "\(added)")
        let reset = try await Self.users(
            ["reset-password", "--email", "ravi@greenfield.example"], input: "a brand new passphrase\n", in: directory)
        #expect(reset.status == 0, "\(reset)")
        let box = try SecretBox(base64MasterKey: ServerProcess.masterKey)
        let database = try AppDatabase.open(path: directory.database, auditKey: box.auditKey)
        #expect(
            try await database.signIn(email: "ravi@greenfield.example", password: Self.password, now: .now()) == nil)
        #expect(
            try await database.signIn(email: "ravi@greenfield.example", password: "a brand new passphrase", now: .now())
                != nil)
    }

    @Test func refusalsSayWhatToFix() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let short = try await Self.users(
            ["add", "--email", "asha@greenfield.example", "--name", "Asha", "--role", "viewer"], input: "short\n",
            in: directory)
        #expect(short.status != 0)
        #expect(short.errors.contains("password must be 12 to 1,024 bytes long"), "\(short)")
        let noPassword = try await Self.users(
            ["add", "--email", "asha@greenfield.example", "--name", "Asha", "--role", "viewer"], in: directory)
        #expect(noPassword.status != 0)
        #expect(noPassword.errors.contains("no password on standard input"), "\(noPassword)")
        // Never on the command line.
        let inArguments = try await Self.users(
            [
                "add", "--email", "asha@greenfield.example", "--name", "Asha", "--role", "viewer", "--password",
                Self.password,
            ], input: Self.password + "\n", in: directory)
        #expect(inArguments.status != 0)
        let role = try await Self.users(
            ["add", "--email", "asha@greenfield.example", "--name", "Asha", "--role", "owner"],
            input: Self.password + "\n", in: directory)
        #expect(role.status != 0)
        #expect(role.errors.contains("--role must be one of admin, finance_manager, viewer"), "\(role)")

        #expect(
            try await Self.users(
                ["add", "--email", "asha@greenfield.example", "--name", "Asha", "--role", "viewer"],
                input: Self.password + "\n", in: directory
            ).status == 0)
        let duplicate = try await Self.users(
            ["add", "--email", "ASHA@greenfield.example", "--name", "Asha", "--role", "viewer"],
            input: Self.password + "\n", in: directory)
        #expect(duplicate.status != 0)
        #expect(duplicate.errors.contains("another user already has the email asha@greenfield.example"), "\(duplicate)")
        let unknown = try await Self.users(["remove", "--email", "nobody@greenfield.example"], in: directory)
        #expect(unknown.status != 0)
        #expect(unknown.errors.contains("no user has the email nobody@greenfield.example"), "\(unknown)")
        let both = try await Self.users(["remove"], in: directory)
        #expect(both.status != 0)
        #expect(both.errors.contains("give either --email or --id"), "\(both)")
        for command in [["add"], ["list"], ["remove"], ["reset-password"]] {
            let help = try await Self.users(command + ["--help"], in: directory)
            #expect(help.status == 0, "\(command)")
            #expect(help.output.contains("--database"), "\(command)")
        }
    }

    @Test func listingNeedsAnExistingDatabase() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let listed = try await Self.users(["list"], in: directory)
        #expect(listed.status != 0)
        #expect(listed.errors.contains("there is no database"), "\(listed)")
        #expect(!FileManager.default.fileExists(atPath: directory.database))
    }
}

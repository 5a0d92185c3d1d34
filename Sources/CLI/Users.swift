import Accounting
import App
import ArgumentParser
import Logging
import Persistence

/// `ledgerwire users add|list|remove|reset-password`: the people who sign in to the dashboard.
///
/// Passwords are read from standard input, never from the command line (which other users of the machine can read in
/// the process list, and shells keep in their history).
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the people who sign in to the dashboard.",
        subcommands: [Add.self, List.self, Remove.self, ResetPassword.self]
    )

    /// Who the audit log names for what these commands do.
    static let actor = "cli"

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user; the password is read from standard input.",
            discussion: """
                Reads the password as one line from standard input (at a terminal it asks twice, without echo): \
                12 to 1,024 bytes. Creates the database when there is none, as `ledgerwire migrate` does. Roles: \
                admin (everything), finance_manager (integrations, mappings, conflicts, replays), viewer (reads). \
                Example: printf '%s\\n' "$PASSWORD" | ledgerwire users add --email asha@school.example \
                --name "Asha Rao" --role finance_manager --tenant greenfield
                """
        )

        @Option(help: "The address the user signs in with (stored lowercased).")
        var email: String

        @Option(help: "Their name, as the dashboard shows it.")
        var name: String

        @Option(help: "admin, finance_manager or viewer.")
        var role: String

        @Option(help: "Limit the user to this tenant (school); every tenant when not given.")
        var tenant: String?

        @OptionGroup var options: ConfigurationOptions

        func validate() throws {
            guard User.Role(rawValue: role) != nil else {
                throw ValidationError(
                    "--role must be one of \(User.Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let problem = User.problem(email: email) { throw ValidationError("--email \(problem.message)") }
            if let problem = User.problem(name: name) { throw ValidationError("--name \(problem.message)") }
        }

        func run() async throws {
            let password = try PasswordInput.read(
                prompt: "Password for \(User.normalized(email: email))", confirm: true)
            if let problem = PasswordHasher.problem(password: password) {
                throw CommandFailure("\(problem.field) \(problem.message)")
            }
            let database = try await options.openUsersDatabase(creating: true)
            let user = try await database.addUser(
                email: email, name: name, role: User.Role(rawValue: role) ?? .viewer, tenantID: tenant,
                password: password, actor: Users.actor)
            print(
                "added \(user.id) \(user.email) (\(user.role.rawValue)\(user.tenantID.map { ", tenant \($0)" } ?? ""))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the users: id, email, role, tenant, name (never their password or its hash).")

        @Option(help: "Only this tenant's users.")
        var tenant: String?

        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let database = try await options.openUsersDatabase(creating: false)
            var cursor: String?
            var count = 0
            repeat {
                let page = try await database.users(
                    tenantID: tenant, page: PageRequest(limit: PageRequest.maximumLimit, cursor: cursor))
                for user in page.items {
                    print(
                        [user.id, user.email, user.role.rawValue, user.tenantID ?? "-", user.name].joined(
                            separator: "\t"))
                }
                count += page.items.count
                cursor = page.nextCursor
            } while cursor != nil
            if count == 0 { CommandOutput.standardError("no users; add one with `ledgerwire users add`\n") }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user and end their sessions.")

        @OptionGroup var user: UserSelection
        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let database = try await options.openUsersDatabase(creating: false)
            let found = try await user.find(in: database)
            guard try await database.removeUser(id: found.id, actor: Users.actor) else {
                throw CommandFailure("no user \(found.id) (removed meanwhile)")
            }
            print("removed \(found.id) \(found.email)")
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set a user's password (read from standard input) and end their sessions.",
            discussion: "Reads the new password as one line from standard input (at a terminal it asks twice, "
                + "without echo): 12 to 1,024 bytes."
        )

        @OptionGroup var user: UserSelection
        @OptionGroup var options: ConfigurationOptions

        func run() async throws {
            let database = try await options.openUsersDatabase(creating: false)
            let found = try await user.find(in: database)
            let password = try PasswordInput.read(prompt: "New password for \(found.email)", confirm: true)
            guard try await database.resetPassword(id: found.id, password: password, actor: Users.actor) else {
                throw CommandFailure("no user \(found.id) (removed meanwhile)")
            }
            print("reset the password of \(found.id) \(found.email); their sessions have ended")
        }
    }
}

/// `--email` or `--id`: which user a command is about.
struct UserSelection: ParsableArguments {
    @Option(help: "The user's email.")
    var email: String?

    @Option(help: "The user's id (usr_…).")
    var id: String?

    func validate() throws {
        guard (email == nil) != (id == nil) else { throw ValidationError("give either --email or --id") }
    }

    func find(in database: AppDatabase) async throws -> User {
        if let id {
            guard let user = try await database.user(id: id) else { throw CommandFailure("no user has the id \(id)") }
            return user
        }
        let email = email ?? ""
        guard let user = try await database.user(email: email) else {
            throw CommandFailure(
                "no user has the email \(User.normalized(email: email)); `ledgerwire users list` lists them")
        }
        return user
    }
}

extension ConfigurationOptions {
    /// The configured database, opened with the master key that signs its audit chain. `creating`: made (and
    /// migrated) when there is none, as `migrate` does; otherwise its absence is an error naming the file.
    func openUsersDatabase(creating: Bool) async throws -> AppDatabase {
        let configuration = ServerConfiguration(config: try await reader())
        let file = DatabaseFile(path: configuration.databasePath)
        guard creating || file.existed else {
            throw CommandFailure(
                "there is no database \(file.absolutePath); pass --database with the file `ledgerwire serve` uses")
        }
        let box = try configuration.loadMasterKey(creating: creating, logger: Logger(label: "ledgerwire"))
        let database = try file.opening {
            try AppDatabase.open(path: configuration.databasePath, auditKey: box.auditKey)
        }
        if !file.existed { CommandOutput.standardError("created a new database \(file.absolutePath)\n") }
        return database
    }
}

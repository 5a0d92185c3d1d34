public import Accounting
import Foundation
import GRDB

extension AppDatabase {
    /// This store, hashing new passwords at `hasher`'s cost (tests use ``PasswordHasher/Cost/minimum``). Stored
    /// hashes verify at their own cost whatever this one is.
    public func hashingPasswords(with hasher: PasswordHasher) -> AppDatabase {
        var database = self
        database.passwordHasher = hasher
        return database
    }

    /// Adds a user who signs in with `email` and `password`, audited as `user.created` by `actor` (without the
    /// password or its hash). The password is hashed before the write transaction, which it would hold up.
    /// - Throws: `PersistenceError.invalid` naming each field that breaks a rule; `PersistenceError.emailInUse` when
    ///   another user has the email (in any case).
    public func addUser(
        email: String, name: String, role: User.Role, tenantID: String?, password: String, actor: String,
        at now: Timestamp = .now()
    ) async throws -> User {
        var errors = User.validationErrors(email: email, name: name, password: password)
        if let tenantID, tenantID.isEmpty || tenantID.utf8.count > 200 {
            errors.append(FieldError(field: "tenant_id", message: "must be 1 to 200 bytes long when given"))
        }
        guard errors.isEmpty else { throw PersistenceError.invalid(errors) }
        let user = User(
            id: Identifiers.make("usr"), email: User.normalized(email: email), name: User.normalized(name: name),
            role: role, tenantID: tenantID, createdAt: now, passwordChangedAt: now)
        // Asked first so that a taken email costs no hash; the unique index still decides a race.
        if try await self.user(email: user.email) != nil { throw PersistenceError.emailInUse(user.email) }
        let hasher = passwordHasher
        let hash = try await HashingQueue.run { try hasher.hash(password) }
        do {
            try await writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO users (id, email, name, password_hash, role, tenant_id, created_at,
                            password_changed_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        user.id, user.email, user.name, hash, user.role.rawValue, user.tenantID, now.rfc3339,
                        now.rfc3339,
                    ])
                var audit = try AuditLog(db, key: auditKey)
                try audit.append(
                    db, at: now, tenantID: user.tenantID, recordID: nil, actor: actor, action: "user.created",
                    entityType: "user", entityID: user.id, oldValue: nil, newValue: user.auditJSON.canonicalString)
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw PersistenceError.emailInUse(user.email)
        }
        return user
    }

    /// Users in the order they were added, only `tenantID`'s when it is given (a tenant's admin).
    public func users(tenantID: String? = nil, page: PageRequest) async throws -> Page<User> {
        try await writer.read { db in
            var filter = SQLFilter()
            filter.add("tenant_id = ?", tenantID)
            return try Self.rowPage(of: "users", filter, page, db: db, item: User.init(row:))
        }
    }

    /// The user `id`, or `nil` when there is none (or they belong to another tenant than `tenantID`).
    public func user(id: String, tenantID: String? = nil) async throws -> User? {
        try await writer.read { db in try Self.user(id: id, tenantID: tenantID, db: db) }
    }

    /// The user who signs in with `email` (compared trimmed and without regard to case).
    public func user(email: String) async throws -> User? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE email = ?", arguments: [User.normalized(email: email)])
                .map(User.init(row:))
        }
    }

    /// Removes a user and ends their sessions, audited as `user.removed` by `actor`; `false` when there was none (or
    /// they belong to another tenant than `tenantID`).
    public func removeUser(id: String, tenantID: String? = nil, actor: String, at now: Timestamp = .now())
        async throws -> Bool
    {
        try await writer.write { db in
            guard let user = try Self.user(id: id, tenantID: tenantID, db: db) else { return false }
            // The foreign key cascades too; said here so the sessions' end does not hang on a pragma.
            try db.execute(sql: "DELETE FROM web_sessions WHERE user_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: user.tenantID, recordID: nil, actor: actor, action: "user.removed",
                entityType: "user", entityID: user.id, oldValue: user.auditJSON.canonicalString, newValue: nil)
            return true
        }
    }

    /// Sets a user's password and ends every session they have, audited as `user.password_reset` by `actor` (without
    /// the password or its hash); `false` when there is no such user (or they belong to another tenant than
    /// `tenantID`).
    /// - Throws: `PersistenceError.invalid` when the password breaks the length rule.
    public func resetPassword(
        id: String, tenantID: String? = nil, password: String, actor: String, at now: Timestamp = .now()
    ) async throws -> Bool {
        if let problem = PasswordHasher.problem(password: password) { throw PersistenceError.invalid([problem]) }
        guard try await user(id: id, tenantID: tenantID) != nil else { return false }
        let hasher = passwordHasher
        let hash = try await HashingQueue.run { try hasher.hash(password) }
        return try await writer.write { db in
            guard let user = try Self.user(id: id, tenantID: tenantID, db: db) else { return false }
            try db.execute(
                sql: "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                arguments: [hash, now.rfc3339, id])
            try db.execute(sql: "DELETE FROM web_sessions WHERE user_id = ?", arguments: [id])
            let ended = db.changesCount
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: user.tenantID, recordID: nil, actor: actor, action: "user.password_reset",
                entityType: "user", entityID: user.id, oldValue: nil,
                newValue: JSONValue.object([
                    "password_changed_at": .string(now.rfc3339), "sessions_ended": .number(String(ended)),
                ]).canonicalString)
            return true
        }
    }

    static func user(id: String, tenantID: String?, db: Database) throws -> User? {
        var filter = SQLFilter()
        filter.add("id = ?", id)
        filter.add("tenant_id = ?", tenantID)
        return try Row.fetchOne(db, sql: "SELECT * FROM users \(filter.whereClause)", arguments: filter.arguments)
            .map(User.init(row:))
    }
}

extension User {
    /// What the audit log keeps of a user: never the password or its hash.
    var auditJSON: JSONValue {
        .object([
            "email": .string(email), "name": .string(name), "role": .string(role.rawValue),
            "tenant_id": tenantID.map(JSONValue.string) ?? .null,
        ])
    }

    /// Reads a `users` row strictly: an unknown role or an unreadable instant is an error, never a default.
    init(row: Row) throws {
        let id: String = row["id"]
        let roleText: String = row["role"]
        guard let role = Role(rawValue: roleText) else {
            throw PersistenceError.unreadableRow("user \(id) has role \(roleText), which this build does not know")
        }
        guard let createdAt = Timestamp(rfc3339: row["created_at"]),
            let passwordChangedAt = Timestamp(rfc3339: row["password_changed_at"])
        else { throw PersistenceError.unreadableRow("user \(id) has an instant that is not RFC 3339") }
        self.init(
            id: id, email: row["email"], name: row["name"], role: role, tenantID: row["tenant_id"],
            createdAt: createdAt, passwordChangedAt: passwordChangedAt)
    }
}

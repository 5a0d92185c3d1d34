public import Accounting
import Crypto
import Foundation
import GRDB

/// How long a dashboard session lasts. Its token (256 random bits) is in the browser's cookie; only its SHA-256 is
/// stored, as an API key's is.
public enum WebSession {
    /// A session not used for this long has ended.
    public static let idleTimeout: Duration = .seconds(12 * 3600)
    /// A session ends this long after sign-in however much it is used.
    public static let lifetime: Duration = .seconds(7 * 86_400)
    /// `last_seen_at` moves at most this often: page loads do not each write to the database.
    public static let touchInterval: Duration = .seconds(60)

    /// A new token: 43 characters of base64url (32 random bytes).
    static func generateToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension AppDatabase {
    /// Checks `email` and `password` and, when they are a user's, starts a session: returns the user and the session's
    /// token, which is not stored and cannot be read again. `nil` when the email is nobody's or the password is wrong
    /// — the two take the same time (an unknown email still spends one hash), so the answer's timing does not tell
    /// whether someone has an account. Audited as `user.signed_in` or `user.sign_in_failed`, never with the password,
    /// its hash or the token.
    public func signIn(email: String, password: String, now: Timestamp) async throws -> (user: User, token: String)? {
        let normalized = User.normalized(email: email)
        let wellFormed = User.problem(email: normalized) == nil
        let found: (User, String)?
        if wellFormed {
            found = try await writer.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM users WHERE email = ?", arguments: [normalized]).map {
                    (try User(row: $0), $0["password_hash"] as String)
                }
            }
        } else {
            found = nil
        }
        let hasher = passwordHasher
        let verified = try await HashingQueue.run {
            guard let (_, stored) = found else {
                hasher.spendOneHash()
                return false
            }
            return hasher.verify(password, against: stored)
        }
        guard let (user, stored) = found, verified else {
            try await writer.write { db in
                var audit = try AuditLog(db, key: auditKey)
                try audit.append(
                    db, at: now, tenantID: found?.0.tenantID, recordID: nil,
                    actor: found.map { "user:\($0.0.id)" } ?? "anonymous", action: "user.sign_in_failed",
                    entityType: "user", entityID: found?.0.id ?? "unknown",
                    oldValue: nil,
                    newValue: JSONValue.object([
                        // An address nobody has is kept only when it looks like one: not whatever was typed.
                        "email": wellFormed ? .string(normalized) : .null,
                        "reason": .string(found == nil ? "unknown_email" : "wrong_password"),
                    ]).canonicalString)
            }
            return nil
        }
        let token = WebSession.generateToken()
        let sessionID = Identifiers.make("ses")
        let started = try await writer.write { db -> Bool in
            // Removed, or given a new password, while the hash was computed: the old password opens nothing.
            guard
                try String.fetchOne(db, sql: "SELECT password_hash FROM users WHERE id = ?", arguments: [user.id])
                    == stored
            else { return false }
            try db.execute(
                sql: """
                    INSERT INTO web_sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    sessionID, APIKey.hash(token: token), user.id, now.rfc3339, now.rfc3339,
                    now.adding(WebSession.lifetime).rfc3339,
                ])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: user.tenantID, recordID: nil, actor: "user:\(user.id)",
                action: "user.signed_in", entityType: "user", entityID: user.id, oldValue: nil,
                newValue: JSONValue.object(["session_id": .string(sessionID)]).canonicalString)
            return true
        }
        return started ? (user, token) : nil
    }

    /// The user signed in with `token` and the session's id; `nil` when the token is nobody's or its session has
    /// ended (idle for ``WebSession/idleTimeout``, or ``WebSession/lifetime`` after sign-in). Marks the session used
    /// at `now`, at most once per ``WebSession/touchInterval``.
    public func session(token: String, now: Timestamp) async throws -> (user: User, sessionID: String)? {
        // Tokens are 43 characters: a longer cookie is nobody's, and is not hashed.
        guard (1...256).contains(token.utf8.count) else { return nil }
        let tokenHash = APIKey.hash(token: token)
        let found = try await writer.read { db -> (User, String, Timestamp, Timestamp)? in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT s.id AS session_id, s.last_seen_at, s.expires_at, u.*
                            FROM web_sessions s JOIN users u ON u.id = s.user_id
                            WHERE s.token_hash = ?
                            """), arguments: [tokenHash])
            else { return nil }
            guard let lastSeen = Timestamp(rfc3339: row["last_seen_at"]),
                let expires = Timestamp(rfc3339: row["expires_at"])
            else {
                throw PersistenceError.unreadableRow("web session \(row["session_id"] as String) has a bad instant")
            }
            return (try User(row: row), row["session_id"], lastSeen, expires)
        }
        guard let (user, sessionID, lastSeen, expires) = found, now < expires,
            now < lastSeen.adding(WebSession.idleTimeout)
        else { return nil }
        if !(now < lastSeen.adding(WebSession.touchInterval)) {
            try await writer.write { db in
                try db.execute(
                    sql: "UPDATE web_sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?",
                    arguments: [now.rfc3339, sessionID, now.rfc3339])
            }
        }
        return (user, sessionID)
    }

    /// Ends the session of `token`, audited as `user.signed_out`; `false` when there was none.
    @discardableResult
    public func signOut(token: String, now: Timestamp = .now()) async throws -> Bool {
        guard (1...256).contains(token.utf8.count) else { return false }
        let tokenHash = APIKey.hash(token: token)
        return try await writer.write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.id, s.user_id, u.tenant_id FROM web_sessions s JOIN users u ON u.id = s.user_id
                        WHERE s.token_hash = ?
                        """, arguments: [tokenHash])
            else { return false }
            let sessionID: String = row["id"]
            let userID: String = row["user_id"]
            try db.execute(sql: "DELETE FROM web_sessions WHERE id = ?", arguments: [sessionID])
            var audit = try AuditLog(db, key: auditKey)
            try audit.append(
                db, at: now, tenantID: row["tenant_id"], recordID: nil, actor: "user:\(userID)",
                action: "user.signed_out", entityType: "user", entityID: userID, oldValue: nil,
                newValue: JSONValue.object(["session_id": .string(sessionID)]).canonicalString)
            return true
        }
    }

    /// How many sessions `userID` has open at `now` (not ended by idleness or age).
    public func activeSessionCount(userID: String, now: Timestamp) async throws -> Int {
        try await writer.read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM web_sessions WHERE user_id = ? AND expires_at > ? AND last_seen_at > ?",
                arguments: [userID, now.rfc3339, now.adding(.zero - WebSession.idleTimeout).rfc3339]) ?? 0
        }
    }

    /// Deletes the sessions that have ended by `now` (idle too long, or too old); returns how many.
    @discardableResult
    public func pruneEndedSessions(now: Timestamp) async throws -> Int {
        try await writer.write { db in
            try db.execute(
                sql: "DELETE FROM web_sessions WHERE expires_at <= ? OR last_seen_at <= ?",
                arguments: [now.rfc3339, now.adding(.zero - WebSession.idleTimeout).rfc3339])
            return db.changesCount
        }
    }
}

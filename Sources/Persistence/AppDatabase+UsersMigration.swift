extension AppDatabase {
    /// The dashboard's people (issue 15): users with a scrypt password hash (`PasswordHasher`'s self-describing
    /// string, never the password), and their signed-in sessions, stored as the SHA-256 of the cookie's token as API
    /// keys are. Emails are stored trimmed and lowercased, so `UNIQUE` is case-insensitive. Instants are RFC 3339 UTC
    /// text of one width, so they compare as text.
    static let usersAndWebSessions = """
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'finance_manager', 'viewer')),
            tenant_id TEXT,
            created_at TEXT NOT NULL,
            password_changed_at TEXT NOT NULL
        );
        CREATE INDEX users_tenant ON users(tenant_id) WHERE tenant_id IS NOT NULL;

        CREATE TABLE web_sessions (
            id TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE INDEX web_sessions_user ON web_sessions(user_id);
        """
}

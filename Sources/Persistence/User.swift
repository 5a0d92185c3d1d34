public import Accounting
import Foundation

/// A person who signs in to the dashboard with an email and a password (only its scrypt hash is stored).
public struct User: Sendable, Hashable {
    /// What a user may do: the API key role of the same level (``access``), so the dashboard's pages and forms are
    /// authorized by the API's own rules.
    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// Everything, users and keys included.
        case admin
        /// Everything about integrations (making, connecting, changing them), mappings, conflicts and replays.
        case financeManager = "finance_manager"
        /// Reads what they can see.
        case viewer

        /// The API key role of the same level.
        public var access: APIKey.Role {
            switch self {
            case .admin: .admin
            case .financeManager: .financeManager
            case .viewer: .viewer
            }
        }
    }

    /// `usr_…`.
    public var id: String
    /// Trimmed and lowercased (``normalized(email:)``): unique without regard to case.
    public var email: String
    public var name: String
    public var role: Role
    /// When set, the user sees and changes only this tenant's data.
    public var tenantID: String?
    public var createdAt: Timestamp
    /// When the password was set or last reset.
    public var passwordChangedAt: Timestamp

    public init(
        id: String, email: String, name: String, role: Role, tenantID: String?, createdAt: Timestamp,
        passwordChangedAt: Timestamp
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.tenantID = tenantID
        self.createdAt = createdAt
        self.passwordChangedAt = passwordChangedAt
    }

    /// The API key role of the user's role.
    public var access: APIKey.Role { role.access }

    /// The longest email accepted, in UTF-8 bytes (RFC 5321's path limit less its angle brackets).
    public static let maximumEmailLength = 254
    /// The longest name accepted, in characters.
    public static let maximumNameLength = 200

    /// An email as stored and looked up: without surrounding white space, lowercased.
    public static func normalized(email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// A name as stored: without surrounding white space.
    public static func normalized(name: String) -> String {
        name.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What is wrong with a new user's email, name and password, each error naming its field; empty when nothing is.
    public static func validationErrors(email: String, name: String, password: String) -> [FieldError] {
        var errors: [FieldError] = []
        if let problem = problem(email: email) { errors.append(problem) }
        if let problem = problem(name: name) { errors.append(problem) }
        if let problem = PasswordHasher.problem(password: password) { errors.append(problem) }
        return errors
    }

    /// What is wrong with `email` (before normalizing), or `nil`: one `@` with something on each side, no spaces or
    /// control characters, at most 254 bytes.
    public static func problem(email: String) -> FieldError? {
        let email = normalized(email: email)
        func error(_ message: String) -> FieldError { FieldError(field: "email", message: message) }
        guard !email.isEmpty else { return error("is required") }
        guard email.utf8.count <= maximumEmailLength else {
            return error("must be at most \(maximumEmailLength) bytes long")
        }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            return error("must be an email address: one @ with the name before it and the domain after it")
        }
        guard
            !email.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else { return error("must not contain spaces or control characters") }
        return nil
    }

    /// What is wrong with `name` (before trimming), or `nil`: 1 to 200 characters, no control characters.
    public static func problem(name: String) -> FieldError? {
        let name = normalized(name: name)
        func error(_ message: String) -> FieldError { FieldError(field: "name", message: message) }
        guard !name.isEmpty else { return error("is required") }
        guard name.count <= maximumNameLength else { return error("must be at most \(maximumNameLength) characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return error("must not contain control characters")
        }
        return nil
    }
}

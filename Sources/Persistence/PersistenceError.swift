public import Accounting

/// What the store refuses, with a bounded `code` for logs and metrics.
public enum PersistenceError: Error, Hashable, Sendable {
    /// A list cursor that this API did not hand out.
    case invalidCursor
    /// The master key is not 32 bytes of base64.
    case invalidMasterKey(String)
    /// A sealed secret did not open: wrong master key, or the row was tampered with.
    case secretUnreadable
    /// A group commit did not answer every item (a bug): none of them is taken as committed.
    case commitIncomplete
    /// The entity does not exist (or is not visible to the caller's tenant).
    case notFound(entity: String, id: String)
    /// The request does not fit the entity's current state (a 409).
    case conflict(String)
    /// A file or directory of the store could not be created.
    case fileSystem(String)
    /// A stored integration names a platform this build does not know (a newer version wrote it, or the row was
    /// edited): it is not read as any other platform's.
    case unknownPlatform(integrationID: String, platform: String)
    /// An input the store checks itself (a user's email, name or password), each error naming its field.
    case invalid([FieldError])
    /// Another user already signs in with this email (a 409).
    case emailInUse(String)
    /// A stored row holds a value this build does not read (a newer version wrote it, or it was edited): it is not
    /// given a default.
    case unreadableRow(String)

    public var code: String {
        switch self {
        case .invalidCursor: "invalid_cursor"
        case .invalidMasterKey: "invalid_master_key"
        case .secretUnreadable: "secret_unreadable"
        case .commitIncomplete: "commit_incomplete"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .fileSystem: "file_system"
        case .unknownPlatform: "unknown_platform"
        case .invalid: "invalid"
        case .emailInUse: "email_in_use"
        case .unreadableRow: "unreadable_row"
        }
    }
}

extension PersistenceError: CustomStringConvertible {
    /// What an operator reads when the CLI stops on this error: the message itself, not the case's spelling.
    public var description: String {
        switch self {
        case .invalidCursor: "the cursor is not one this API handed out"
        case .invalidMasterKey(let message), .conflict(let message), .fileSystem(let message),
            .unreadableRow(let message):
            message
        case .secretUnreadable: "a sealed secret did not open: wrong master key, or the row was tampered with"
        case .commitIncomplete: "a group commit did not answer every item"
        case .notFound(let entity, let id): "no \(entity) \(id)"
        case .unknownPlatform(let integrationID, let platform):
            "integration \(integrationID) names platform \(platform), which this build does not know"
        case .invalid(let errors): errors.map { "\($0.field) \($0.message)" }.joined(separator: "; ")
        case .emailInUse(let email): "another user already has the email \(email)"
        }
    }
}

import Accounting
public import Hummingbird
import Logging
import NIOCore
public import Persistence

/// Who is calling the admin API.
public struct Principal: Sendable, Hashable {
    public var role: APIKey.Role
    /// When set, the caller sees and changes only this tenant's data.
    public var tenantID: String?
    /// For the audit log: `api-key:key_…`, `admin-token`, or `user:usr_…` (a person signed in to the dashboard).
    public var actor: String

    /// The start of a signed-in person's `actor`.
    public static let userActorPrefix = "user:"
}

/// The request context of every route: Hummingbird's core, plus the authenticated caller.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// The person signed in to the dashboard, on its pages.
    public var signedIn: SignedIn?
    /// The fields of a dashboard form, read (and its form token checked) before the route runs.
    public var form: [(name: String, value: String)] = []
    /// The peer's IP address (without port), for throttling failed authentication; `nil` in in-process tests.
    public let remoteIP: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.signedIn = nil
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }

    /// Webhook bodies and admin requests over 1 MiB are refused with 413.
    public var maxUploadSize: Int { 1 << 20 }

    /// The caller, who must hold at least `role`.
    /// - Throws: 401 when nobody is authenticated, 403 when the role is too low.
    public func require(_ role: APIKey.Role) throws -> Principal {
        guard let principal else { throw Problem.unauthorized("an API key is required: Authorization: Bearer <key>") }
        guard principal.role >= role else {
            throw Problem(status: .forbidden, title: "Forbidden", detail: "this needs the \(role.rawValue) role")
        }
        return principal
    }
}

/// Who is signed in to the dashboard, as its pages need them.
public struct SignedIn: Sendable {
    public var userID: String
    public var name: String
    public var email: String
    /// The role as people read it: `admin`, `finance manager`, `viewer`.
    public var roleLabel: String
    /// The token every form of this session carries (`_csrf`).
    public var csrfToken: String
}

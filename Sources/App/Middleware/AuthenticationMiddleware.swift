import Accounting
import Foundation
import Hummingbird
import Logging
import Persistence

/// Bearer API keys for `/api/v1`: the bootstrap `LEDGERWIRE_ADMIN_TOKEN`, or a stored key (by its hash).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let database: AppDatabase
    /// SHA-256 of the bootstrap admin token, if one long enough is configured (`ServerConfiguration.validate`
    /// refuses a shorter one at start; here a short one simply never matches).
    let adminTokenHash: [UInt8]?
    let throttle: AuthenticationThrottle

    init(database: AppDatabase, adminToken: String?, throttle: AuthenticationThrottle = AuthenticationThrottle()) {
        self.database = database
        if let adminToken, adminToken.count >= ServerConfiguration.minimumAdminTokenLength {
            self.adminTokenHash = Array(APIKey.hash(token: adminToken).utf8)
        } else {
            self.adminTokenHash = nil
        }
        self.throttle = throttle
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            case let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), !token.isEmpty
        else { throw Problem.unauthorized("an API key is required: Authorization: Bearer <key>") }
        let address = context.remoteIP.map(AuthenticationThrottle.clientKey(forIP:)) ?? "local"
        if let wait = throttle.wait(for: address) {
            throw Problem.tooManyRequests(
                "too many invalid API keys from this address; try again later", retryAfter: wait)
        }
        let tokenHash = APIKey.hash(token: token)
        var context = context
        if let adminTokenHash, ConstantTime.equal(Array(tokenHash.utf8), adminTokenHash) {
            context.principal = Principal(role: .admin, tenantID: nil, actor: "admin-token")
        } else if let key = try await database.apiKey(tokenHash: tokenHash) {
            context.principal = Principal(role: key.role, tenantID: key.tenantID, actor: "api-key:\(key.id)")
        } else {
            throttle.recordFailure(from: address)
            throw Problem.unauthorized("the API key is not valid")
        }
        return try await next(request, context)
    }
}

import Accounting
import Connectors
import Foundation
import Hummingbird
import NIOCore
import Persistence
import ServiceLifecycle

/// The relay's routes for an integration's agent (`ledgerwire tally-agent`), beside the books on a LAN the server
/// cannot reach, and the admin route that issues its token.
///
/// - `POST /api/v1/integrations/{id}/agent-token` (operator, behind the API keys): a new `lwa_…` token for a Tally
///   integration, shown once; only its SHA-256 is kept, replacing any earlier one. Audited, never logged.
/// - `GET /agent/v1/requests?wait=25` (the agent's token): long-polls the integration's next request, `200` with it
///   or `204` after `wait` seconds (at most 30).
/// - `POST /agent/v1/requests/{id}/reply` (the agent's token): the books' answer, or why there was none.
///
/// The token is looked up by its hash and compared in constant time; bad tokens count against the caller's address
/// as bad API keys do (`AuthenticationThrottle`). A token sees only its own integration's requests.
struct AgentController {
    let database: AppDatabase
    let relay: AgentRelay
    let throttle: AuthenticationThrottle

    /// The longest poll, whatever `wait` asks for: under the server's idle timeout.
    static let maximumWait = 30

    init(database: AppDatabase, relay: AgentRelay, throttle: AuthenticationThrottle = AuthenticationThrottle()) {
        self.database = database
        self.relay = relay
        self.throttle = throttle
    }

    /// Under `/api/v1`, behind the API keys.
    var tokenEndpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/integrations/{id}/agent-token", use: issueToken)
        return routes
    }

    /// `/agent/v1`, outside the API keys: the agent's token is its own authentication.
    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/agent/v1/requests", use: poll)
        routes.post("/agent/v1/requests/{id}/reply", use: reply)
        return routes
    }

    @Sendable func issueToken(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.operator)
        let integration = try await database.integration(from: context, role: .operator)
        guard integration.platform == .tally else {
            throw Problem(
                status: .conflict, title: "Conflict",
                detail: "\(integration.platform.rawValue) is not reached through an agent: only tally integrations are")
        }
        let token = AppDatabase.generateAgentToken()
        guard
            try await database.setAgentToken(
                integrationID: integration.id, tenantID: principal.tenantID, tokenHash: APIKey.hash(token: token),
                actor: principal.actor)
        else { throw Problem.notFound("no integration \(integration.id)") }
        return JSONResponse(
            ["integration_id": .string(integration.id), "token": .string(token)], status: .created)
    }

    @Sendable func poll(request: Request, context: AppRequestContext) async throws -> Response {
        let owner = try await authenticate(request, context: context)
        var wait = 25
        if let text = request.uri.queryParameters["wait"] {
            guard let value = Int(text), value >= 0 else {
                throw Problem.invalid([
                    FieldError(
                        field: "wait", message: "must be a whole number of seconds from 0 to \(Self.maximumWait)")
                ])
            }
            wait = min(value, Self.maximumWait)
        }
        // A server stopping answers its polls at once rather than keeping them (and the stop) waiting.
        let relay = relay
        let integrationID = owner.integrationID
        let seconds = wait
        guard
            let next = await cancelWhenGracefulShutdown({
                await relay.next(integrationID: integrationID, wait: .seconds(seconds))
            })
        else {
            return Response(status: .noContent)
        }
        return try JSONResponse(next.json).response(from: request, context: context)
    }

    @Sendable func reply(request: Request, context: AppRequestContext) async throws -> Response {
        let owner = try await authenticate(request, context: context)
        let requestID = try context.parameters.require("id")
        // Base64 is 4/3 of the body, plus the JSON around it.
        let limit = relay.maximumBodyBytes / 3 * 4 + 64 * 1024
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw Problem(
                status: .contentTooLarge, title: "Content Too Large",
                detail: "the reply is longer than the \(limit) bytes the relay takes")
        }
        guard case .some(let json) = try? JSONValue(parsing: buffer.readableBytesView), json.objectValue != nil else {
            throw Problem(status: .badRequest, title: "Bad Request", detail: "the body must be a JSON object")
        }
        let parsed: AgentReply
        switch AgentReply.parse(json) {
        case .success(let reply): parsed = reply
        case .failure(let problem): throw Problem.invalid([FieldError(field: problem.field, message: problem.message)])
        }
        guard await relay.reply(integrationID: owner.integrationID, requestID: requestID, parsed) else {
            throw Problem.notFound("no request \(requestID) is waiting for this agent's reply")
        }
        return Response(status: .noContent)
    }

    /// The integration whose token the request carries.
    /// - Throws: 401 for a missing or unknown token, 429 after too many bad ones from the address, 409 when the
    ///   integration is disabled.
    private func authenticate(_ request: Request, context: AppRequestContext) async throws
        -> AppDatabase.AgentTokenOwner
    {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            case let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), !token.isEmpty
        else { throw Problem.unauthorized("an agent token is required: Authorization: Bearer <token>") }
        let address = context.remoteIP.map(AuthenticationThrottle.clientKey(forIP:)) ?? "local"
        if let wait = throttle.wait(for: address) {
            throw Problem.tooManyRequests(
                "too many invalid agent tokens from this address; try again later", retryAfter: wait)
        }
        guard let owner = try await database.agentTokenOwner(tokenHash: APIKey.hash(token: token)) else {
            throttle.recordFailure(from: address)
            throw Problem.unauthorized("the agent token is not valid")
        }
        guard !owner.disabled else {
            throw Problem(
                status: .conflict, title: "Conflict", detail: "integration \(owner.integrationID) is disabled")
        }
        return owner
    }
}

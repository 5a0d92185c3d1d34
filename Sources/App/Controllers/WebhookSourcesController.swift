import Accounting
import Connectors
import Hummingbird
import Ingestion
import Logging
import Persistence

/// `/api/v1/webhook-sources`: the secrets inbound webhooks are verified with. Global, so admins without a
/// tenant only. Secrets are sealed at rest and never returned, except a generated one, once.
struct WebhookSourcesController {
    let database: AppDatabase
    let box: SecretBox
    let secrets: WebhookSecretStore
    /// The sources whose secrets may be stored: billing's and each platform's in the contract.
    let sources: [String]

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/webhook-sources", use: create)
        routes.get("/webhook-sources", use: list)
        routes.delete("/webhook-sources/{id}", use: delete)
        return routes
    }

    /// The sources of the contract: billing's and each platform's that has webhooks.
    static let contractSources = [ConnectorRegistry.billingSource] + Platform.contract.compactMap(\.webhookSource)

    /// The caller, who must be an admin of no one tenant: webhook sources are global.
    /// - Throws: 401 or 403 as `require(_:)`; 403 for a tenant's admin.
    @discardableResult
    static func requireGlobalAdmin(_ context: AppRequestContext) throws -> Principal {
        let principal = try context.require(.admin)
        guard principal.tenantID == nil else {
            throw Problem(
                status: .forbidden, title: "Forbidden", detail: "webhook sources are managed by global admins")
        }
        return principal
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try Self.requireGlobalAdmin(context)
        var request = request
        let (created, generated) = try await create(try await request.jsonObject(context: context), by: principal)
        var json = created.json
        if let generated, case .object(var members) = json {
            members["secret"] = .string(generated)
            json = .object(members)
        }
        return JSONResponse(json, status: .created)
    }

    /// Stores the secret `object` gives (`POST /webhook-sources`' body), for the dashboard's form too; audited
    /// without the secret. A billing source given no secret gets a generated one, returned here once.
    /// - Throws: a 422 naming every field that is wrong.
    func create(
        _ object: [String: JSONValue], by principal: Principal
    ) async throws -> (source: WebhookSource, generatedSecret: String?) {
        let body = FieldReader(object, path: "", diagnostics: Diagnostics())
        var source = body.string("source")
        if let name = source, !sources.contains(name) {
            body.diagnostics.add("source", "must be one of \(sources.joined(separator: ", "))")
            source = nil
        }
        var secret = body.optionalString("secret")
        let generated = secret == nil && source == "billing"
        if generated { secret = StandardWebhooks.generateSecret() }
        if source == "billing", let text = secret, (try? StandardWebhooks.keyBytes(fromSecret: text)) == nil {
            body.diagnostics.add("secret", "must be whsec_ followed by base64, as Standard Webhooks secrets are")
        }
        if source != nil, source != "billing", secret == nil {
            body.diagnostics.add("secret", "is required: the platform's webhook secret (QuickBooks' verifier token)")
        }
        guard body.diagnostics.errors.isEmpty, let source, let secret else {
            throw Problem.invalid(body.diagnostics.errors)
        }
        let created = try await database.createWebhookSource(
            source: source, secret: secret, box: box, actor: principal.actor)
        secrets.invalidate()
        return (created, generated ? secret : nil)
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        try Self.requireGlobalAdmin(context)
        return .page(try await database.webhookSources(page: request.pageRequest()), \.json)
    }

    @Sendable func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try Self.requireGlobalAdmin(context)
        try await delete(id: try context.parameters.require("id"), by: principal)
        return Response(status: .noContent)
    }

    /// Deletes a source's secret, audited; its webhooks are no longer verified with it.
    /// - Throws: 404 when there is no such source.
    func delete(id: String, by principal: Principal) async throws {
        guard try await database.deleteWebhookSource(id: id, actor: principal.actor) else {
            throw Problem.notFound("no webhook source \(id)")
        }
        secrets.invalidate()
    }
}

extension WebhookSource {
    var json: JSONValue {
        ["id": .string(id), "source": .string(source), "created_at": createdAt.json]
    }
}

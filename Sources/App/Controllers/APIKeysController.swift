import Accounting
import Hummingbird
import Logging
import Persistence

/// `/api/v1/api-keys`: admins create, list and delete keys. A tenant's admin manages only its tenant's keys.
struct APIKeysController {
    let database: AppDatabase

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/api-keys", use: create)
        routes.get("/api-keys", use: list)
        routes.delete("/api-keys/{id}", use: delete)
        return routes
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.admin)
        var request = request
        let (key, token) = try await create(try await request.jsonObject(context: context), by: principal)
        var json = key.json
        if case .object(var members) = json {
            members["token"] = .string(token)
            json = .object(members)
        }
        return JSONResponse(json, status: .created)
    }

    /// Makes the key `object` describes (`POST /api-keys`' body), for the dashboard's form too: the key and its
    /// token, which is not stored and cannot be shown again.
    /// - Throws: a 422 naming every field that is wrong.
    func create(_ object: [String: JSONValue], by principal: Principal) async throws -> (APIKey, String) {
        let body = FieldReader(object, path: "", diagnostics: Diagnostics())
        let name = body.string("name")
        let roleText = body.string("role")
        let role = roleText.flatMap(APIKey.Role.init(rawValue:)).flatMap {
            APIKey.Role.keyRoles.contains($0) ? $0 : nil
        }
        if roleText != nil, role == nil {
            body.diagnostics.add("role", "must be one of admin, operator, viewer")
        }
        var tenantID = body.optionalString("tenant_id")
        if let scope = principal.tenantID {
            if let tenantID, tenantID != scope {
                body.diagnostics.add("tenant_id", "a key of tenant \(scope) can only create keys of that tenant")
            }
            tenantID = scope
        }
        guard body.diagnostics.errors.isEmpty, let name, let role else {
            throw Problem.invalid(body.diagnostics.errors)
        }
        return try await database.createAPIKey(name: name, role: role, tenantID: tenantID, actor: principal.actor)
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.admin)
        let page = try await database.apiKeys(tenantID: principal.tenantID, page: request.pageRequest())
        return .page(page) { $0.json }
    }

    @Sendable func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        try await delete(id: try context.parameters.require("id"), by: principal)
        return Response(status: .noContent)
    }

    /// Deletes (revokes) the key `id` of the principal's tenant, audited.
    /// - Throws: 404 when there is no such key the principal may see.
    func delete(id: String, by principal: Principal) async throws {
        guard try await database.deleteAPIKey(id: id, tenantID: principal.tenantID, actor: principal.actor) else {
            throw Problem.notFound("no API key \(id)")
        }
    }
}

extension APIKey {
    var json: JSONValue {
        [
            "id": .string(id), "name": .string(name), "role": .string(role.rawValue),
            "tenant_id": tenantID.map(JSONValue.string) ?? .null, "created_at": createdAt.json,
        ]
    }
}

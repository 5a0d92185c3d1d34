import Accounting
import Hummingbird
import Logging
import Persistence

/// `/api/v1/users`: admins add, list, remove the people who sign in to the dashboard and reset their passwords. A
/// tenant's admin sees and manages only its tenant's users. Passwords and their hashes are never returned.
struct UsersController {
    let database: AppDatabase

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/users", use: create)
        routes.get("/users", use: list)
        routes.get("/users/{id}", use: show)
        routes.delete("/users/{id}", use: delete)
        routes.post("/users/{id}/password", use: resetPassword)
        return routes
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.admin)
        var request = request
        let user = try await create(try await request.jsonObject(context: context), by: principal)
        return JSONResponse(user.json, status: .created)
    }

    /// Adds the user `object` describes (`POST /users`' body), for the dashboard's form too; audited.
    /// - Throws: a 422 naming every field that is wrong; a 409 when the email is taken.
    func create(_ object: [String: JSONValue], by principal: Principal) async throws -> User {
        let body = FieldReader(object, path: "", diagnostics: Diagnostics())
        let email = body.string("email")
        let name = body.string("name")
        let password = body.string("password")
        let roleText = body.string("role")
        let role = roleText.flatMap(User.Role.init(rawValue:))
        if roleText != nil, role == nil {
            body.diagnostics.add("role", "must be one of \(User.Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var tenantID = body.optionalString("tenant_id")
        if let scope = principal.tenantID {
            if let tenantID, tenantID != scope {
                body.diagnostics.add("tenant_id", "a key of tenant \(scope) can only add users of that tenant")
            }
            tenantID = scope
        }
        // Every rule at once, so one answer names every field to fix.
        if let email, let problem = User.problem(email: email) { body.diagnostics.add(problem.field, problem.message) }
        if let name, let problem = User.problem(name: name) { body.diagnostics.add(problem.field, problem.message) }
        if let password, let problem = PasswordHasher.problem(password: password) {
            body.diagnostics.add(problem.field, problem.message)
        }
        guard body.diagnostics.errors.isEmpty, let email, let name, let password, let role else {
            throw Problem.invalid(body.diagnostics.errors)
        }
        return try await database.addUser(
            email: email, name: name, role: role, tenantID: tenantID, password: password, actor: principal.actor)
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.admin)
        let page = try await database.users(tenantID: principal.tenantID, page: request.pageRequest())
        return .page(page) { $0.json }
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.admin)
        let id = try context.parameters.require("id")
        guard let user = try await database.user(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no user \(id)")
        }
        return JSONResponse(user.json)
    }

    @Sendable func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        try await remove(id: try context.parameters.require("id"), by: principal)
        return Response(status: .noContent)
    }

    /// Removes the user `id` of the principal's tenant and ends their sessions; audited.
    /// - Throws: 404 when there is no such user the principal may see.
    func remove(id: String, by principal: Principal) async throws {
        guard try await database.removeUser(id: id, tenantID: principal.tenantID, actor: principal.actor) else {
            throw Problem.notFound("no user \(id)")
        }
    }

    @Sendable func resetPassword(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let id = try context.parameters.require("id")
        var request = request
        try await resetPassword(id: id, with: try await request.jsonObject(context: context), by: principal)
        return Response(status: .noContent)
    }

    /// Sets the password `object` gives (`POST /users/{id}/password`' body) for the user `id` of the principal's
    /// tenant and ends their sessions, for the dashboard's form too; audited.
    /// - Throws: a 422 naming the password when it breaks a rule; 404 when there is no such user.
    func resetPassword(id: String, with object: [String: JSONValue], by principal: Principal) async throws {
        let body = FieldReader(object, path: "", diagnostics: Diagnostics())
        let password = body.string("password")
        if let password, let problem = PasswordHasher.problem(password: password) {
            body.diagnostics.add(problem.field, problem.message)
        }
        guard body.diagnostics.errors.isEmpty, let password else { throw Problem.invalid(body.diagnostics.errors) }
        guard
            try await database.resetPassword(
                id: id, tenantID: principal.tenantID, password: password, actor: principal.actor)
        else { throw Problem.notFound("no user \(id)") }
    }
}

extension User {
    /// What the API shows of a user: never the password or its hash.
    var json: JSONValue {
        [
            "id": .string(id), "email": .string(email), "name": .string(name), "role": .string(role.rawValue),
            "tenant_id": tenantID.map(JSONValue.string) ?? .null, "created_at": createdAt.json,
            "password_changed_at": passwordChangedAt.json,
        ]
    }
}

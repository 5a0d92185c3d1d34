import Accounting
import HTTPTypes
import Hummingbird
import Persistence

/// `/settings/api-keys`: the admin API's keys (never a key itself: only its hash is stored), a form to create one —
/// whose key is shown once, on the page that answers the form — and a Revoke button per key. Admins only, a school's
/// admin their school's keys, through the API's own code (`APIKeysController`), audited the same.
struct APIKeysPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let api: APIKeysController

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/settings/api-keys", use: show)
        routes.post("/settings/api-keys", use: create)
        routes.post("/settings/api-keys/{id}/revoke", use: revoke)
        return routes
    }

    struct View: Sendable {
        var keys: [Row]
        var nextPage: String?
        /// The key just created, with its token: shown this once.
        var created: Created?
        var name: SettingsForm.Field
        var roles: [Choice]
        var roleError: String?
        var tenant: SettingsForm.Field
        var problems: [String]
        /// The school every key of this admin belongs to, when the admin has one.
        var tenantFixed: String?
    }

    struct Row: Sendable {
        var id: String
        var name: String
        var role: String
        var tenant: String
        var created: String
    }

    struct Created: Sendable {
        var name: String
        var token: String
    }

    static let labels = ["name": "Name", "role": "Role", "tenant_id": "School"]

    static let roleLabels: [APIKey.Role: String] = [
        .admin: "admin — everything, keys and users included",
        .operator: "operator — also replays, retries, syncs and resolves conflicts",
        .viewer: "viewer — reads",
    ]

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let query = request.uri.queryParameters
        let notice = query.get("revoked") != nil ? "The key was revoked: it no longer works." : nil
        return try await render(
            context, principal, form: SettingsForm(labels: Self.labels), cursor: query.get("cursor").map { String($0) },
            notice: notice)
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let object = SettingsForm.object(context.form, fields: Set(Self.labels.keys))
        switch try await SettingsForm.attempt({ try await api.create(object, by: principal) }) {
        case .success(let (key, token)):
            return try await render(
                context, principal, form: SettingsForm(labels: Self.labels),
                created: Created(name: key.name, token: token), status: .created)
        case .failure(let problem):
            var form = SettingsForm(labels: Self.labels, sent: context.form)
            form.refused(problem)
            return try await render(context, principal, form: form, status: problem.status)
        }
    }

    @Sendable func revoke(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        try await api.delete(id: try context.parameters.require("id"), by: principal)
        return Response(status: .seeOther, headers: [.location: "/settings/api-keys?revoked=1"])
    }

    private func render(
        _ context: AppRequestContext, _ principal: Principal, form: SettingsForm, cursor: String? = nil,
        created: Created? = nil, notice: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let page = try await database.apiKeys(
            tenantID: principal.tenantID, page: try PageRequest(limit: 50, cursor: cursor))
        let chosenRole = form.field("role").value.isEmpty ? APIKey.Role.viewer.rawValue : form.field("role").value
        let view = View(
            keys: page.items.map {
                Row(
                    id: $0.id, name: $0.name, role: $0.role.rawValue, tenant: $0.tenantID ?? "every school",
                    created: DashboardTime.format($0.createdAt))
            },
            nextPage: page.nextCursor.map { "/settings/api-keys?cursor=\($0)" }, created: created,
            name: form.field("name"),
            roles: APIKey.Role.keyRoles.map {
                Choice(
                    value: $0.rawValue, label: Self.roleLabels[$0] ?? $0.rawValue, chosen: $0.rawValue == chosenRole)
            },
            roleError: form.field("role").error, tenant: form.field("tenant_id"), problems: form.problems,
            tenantFixed: principal.tenantID)
        return try renderer.response(
            Screen(
                "settings-api-keys", title: "API keys", section: .settings, context: context, notice: notice, page: view
            ),
            status: status)
    }
}

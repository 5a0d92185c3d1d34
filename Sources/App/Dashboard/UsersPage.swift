import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import Persistence

/// `/settings/users`: the people who sign in to the dashboard; a form to add one (email, name, role, school, first
/// password), Remove per person, and `/settings/users/{id}/password` to set a new password (which ends their
/// sessions). Admins only, a school's admin their school's people, through the API's own code (`UsersController`),
/// audited the same. A password typed is never shown back.
struct UsersPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let api: UsersController

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/settings/users", use: show)
        routes.post("/settings/users", use: create)
        routes.post("/settings/users/{id}/remove", use: remove)
        routes.get("/settings/users/{id}/password", use: passwordForm)
        routes.post("/settings/users/{id}/password", use: resetPassword)
        return routes
    }

    struct View: Sendable {
        var users: [Row]
        var nextPage: String?
        var email: SettingsForm.Field
        var name: SettingsForm.Field
        var roles: [Choice]
        var roleError: String?
        var tenant: SettingsForm.Field
        var password: SettingsForm.Field
        var problems: [String]
        var tenantFixed: String?
    }

    struct Row: Sendable {
        var id: String
        var email: String
        var name: String
        var role: String
        var tenant: String
        var added: String
        var passwordChanged: String
        var isYou: Bool
    }

    static let labels = [
        "email": "Email", "name": "Name", "role": "Role", "tenant_id": "School", "password": "Password",
    ]

    static let roleLabels: [User.Role: String] = [
        .admin: "admin — everything, users and keys included",
        .financeManager: "finance manager — integrations, mappings, conflicts, retries",
        .viewer: "viewer — reads",
    ]

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let query = request.uri.queryParameters
        let notice: String? =
            if query.get("added") != nil {
                "User added: they can sign in now with the password you gave them."
            } else if query.get("removed") != nil {
                "User removed: their sessions have ended."
            } else if query.get("reset") != nil {
                "Password changed: their sessions have ended, and they sign in with the new one."
            } else { nil }
        return try await render(
            context, principal, form: SettingsForm(labels: Self.labels), cursor: query.get("cursor").map { String($0) },
            notice: notice)
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let object = SettingsForm.object(context.form, fields: Set(Self.labels.keys))
        switch try await SettingsForm.attempt({ try await api.create(object, by: principal) }) {
        case .success:
            return Response(status: .seeOther, headers: [.location: "/settings/users?added=1"])
        case .failure(let problem):
            var form = SettingsForm(labels: Self.labels, sent: context.form, secret: ["password"])
            form.refused(problem)
            return try await render(context, principal, form: form, status: problem.status)
        }
    }

    @Sendable func remove(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        try await api.remove(id: try context.parameters.require("id"), by: principal)
        return Response(status: .seeOther, headers: [.location: "/settings/users?removed=1"])
    }

    private func render(
        _ context: AppRequestContext, _ principal: Principal, form: SettingsForm, cursor: String? = nil,
        notice: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let page = try await database.users(
            tenantID: principal.tenantID, page: try PageRequest(limit: 50, cursor: cursor))
        let chosenRole = form.field("role").value.isEmpty ? User.Role.viewer.rawValue : form.field("role").value
        let view = View(
            users: page.items.map {
                Row(
                    id: $0.id, email: $0.email, name: $0.name,
                    role: $0.role.rawValue.replacingOccurrences(of: "_", with: " "),
                    tenant: $0.tenantID ?? "every school", added: DashboardTime.format($0.createdAt),
                    passwordChanged: DashboardTime.format($0.passwordChangedAt),
                    isYou: $0.id == context.signedIn?.userID)
            },
            nextPage: page.nextCursor.map { "/settings/users?cursor=\($0)" }, email: form.field("email"),
            name: form.field("name"),
            roles: User.Role.allCases.map {
                Choice(
                    value: $0.rawValue, label: Self.roleLabels[$0] ?? $0.rawValue, chosen: $0.rawValue == chosenRole)
            },
            roleError: form.field("role").error, tenant: form.field("tenant_id"), password: form.field("password"),
            problems: form.problems, tenantFixed: principal.tenantID)
        return try renderer.response(
            Screen("settings-users", title: "Users", section: .settings, context: context, notice: notice, page: view),
            status: status)
    }

    // MARK: A new password

    struct PasswordView: Sendable {
        var id: String
        var name: String
        var email: String
        var password: SettingsForm.Field
        var problems: [String]
    }

    static let passwordLabels = ["password": "The new password"]

    @Sendable func passwordForm(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        return try await renderPassword(
            context, principal, id: try context.parameters.require("id"),
            form: SettingsForm(labels: Self.passwordLabels))
    }

    @Sendable func resetPassword(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let id = try context.parameters.require("id")
        let object = SettingsForm.object(context.form, fields: ["password"])
        switch try await SettingsForm.attempt({ try await api.resetPassword(id: id, with: object, by: principal) }) {
        case .success:
            return Response(status: .seeOther, headers: [.location: "/settings/users?reset=1"])
        case .failure(let problem):
            var form = SettingsForm(labels: Self.passwordLabels, sent: context.form, secret: ["password"])
            form.refused(problem)
            return try await renderPassword(context, principal, id: id, form: form, status: problem.status)
        }
    }

    private func renderPassword(
        _ context: AppRequestContext, _ principal: Principal, id: String, form: SettingsForm,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        guard let user = try await database.user(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no user \(id)")
        }
        let view = PasswordView(
            id: user.id, name: user.name, email: user.email, password: form.field("password"), problems: form.problems)
        return try renderer.response(
            Screen(
                "settings-user-password", title: "New password · \(user.name)", section: .settings, context: context,
                page: view),
            status: status)
    }
}

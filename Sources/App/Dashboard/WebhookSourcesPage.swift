import Accounting
import HTTPTypes
import Hummingbird
import Persistence

/// `/settings/webhook-sources`: the secrets inbound webhooks are verified with (several per source while one is
/// rotated), a form to add one — a billing secret left empty is generated and shown once, on the page that answers
/// the form; a secret typed is never shown — and Delete per secret. Global admins only, as the API, through its own
/// code (`WebhookSourcesController`), audited the same.
struct WebhookSourcesPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let api: WebhookSourcesController

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/settings/webhook-sources", use: show)
        routes.post("/settings/webhook-sources", use: create)
        routes.post("/settings/webhook-sources/{id}/delete", use: delete)
        return routes
    }

    struct View: Sendable {
        var sources: [Row]
        var nextPage: String?
        /// A generated secret, shown this once.
        var generated: Generated?
        var choices: [Choice]
        var sourceError: String?
        var secret: SettingsForm.Field
        var problems: [String]
    }

    struct Row: Sendable {
        var id: String
        var source: String
        var added: String
    }

    struct Generated: Sendable {
        var source: String
        var secret: String
    }

    static let labels = ["source": "Source", "secret": "Secret"]

    static let sourceLabels = ["billing": "Cognify billing", "quickbooks": "QuickBooks Online", "xero": "Xero"]

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        try WebhookSourcesController.requireGlobalAdmin(context)
        let query = request.uri.queryParameters
        let notice: String? =
            if query.get("added") != nil {
                "Secret added: webhooks signed with it are accepted now."
            } else if query.get("deleted") != nil {
                "Secret deleted: webhooks signed with it are refused from now on."
            } else { nil }
        return try await render(
            context, form: SettingsForm(labels: Self.labels), cursor: query.get("cursor").map { String($0) },
            notice: notice)
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try WebhookSourcesController.requireGlobalAdmin(context)
        let object = SettingsForm.object(context.form, fields: Set(Self.labels.keys))
        switch try await SettingsForm.attempt({ try await api.create(object, by: principal) }) {
        case .success(let (source, generated)):
            guard let generated else {
                return Response(status: .seeOther, headers: [.location: "/settings/webhook-sources?added=1"])
            }
            return try await render(
                context, form: SettingsForm(labels: Self.labels),
                generated: Generated(source: Self.sourceLabels[source.source] ?? source.source, secret: generated),
                status: .created)
        case .failure(let problem):
            var form = SettingsForm(labels: Self.labels, sent: context.form, secret: ["secret"])
            form.refused(problem)
            return try await render(context, form: form, status: problem.status)
        }
    }

    @Sendable func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try WebhookSourcesController.requireGlobalAdmin(context)
        try await api.delete(id: try context.parameters.require("id"), by: principal)
        return Response(status: .seeOther, headers: [.location: "/settings/webhook-sources?deleted=1"])
    }

    private func render(
        _ context: AppRequestContext, form: SettingsForm, cursor: String? = nil, generated: Generated? = nil,
        notice: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let page = try await database.webhookSources(page: try PageRequest(limit: 50, cursor: cursor))
        let chosen = form.field("source").value
        let view = View(
            sources: page.items.map {
                Row(
                    id: $0.id, source: Self.sourceLabels[$0.source] ?? $0.source,
                    added: DashboardTime.format($0.createdAt))
            },
            nextPage: page.nextCursor.map { "/settings/webhook-sources?cursor=\($0)" }, generated: generated,
            choices: api.sources.map {
                Choice(value: $0, label: Self.sourceLabels[$0] ?? $0, chosen: $0 == chosen)
            },
            sourceError: form.field("source").error, secret: form.field("secret"), problems: form.problems)
        return try renderer.response(
            Screen(
                "settings-webhook-sources", title: "Webhook sources", section: .settings, context: context,
                notice: notice, page: view),
            status: status)
    }
}

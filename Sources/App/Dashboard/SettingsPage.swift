import Hummingbird
import Persistence

/// `/settings`: the index of the settings sections, each a page of its own (`SettingsSection`), listing only those
/// the person may open. A section is added by a case here and a page with its template.
struct SettingsPage {
    let renderer: DashboardRenderer

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/settings", use: show)
        return routes
    }

    struct View: Sendable {
        var sections: [SectionView]
    }

    struct SectionView: Sendable {
        var id: String
        var title: String
        var path: String
        var summary: String
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let view = View(
            sections: SettingsSection.allCases.filter { $0.isShown(to: principal) }.map {
                SectionView(id: $0.rawValue, title: $0.title, path: $0.path, summary: $0.summary)
            })
        return try renderer.response(
            Screen("settings", title: "Settings", section: .settings, context: context, page: view))
    }
}

/// A section of the settings, with its own page.
enum SettingsSection: String, CaseIterable, Sendable {
    case school
    case webhookSources = "webhook-sources"
    case subscriptions
    case apiKeys = "api-keys"
    case users

    var title: String {
        switch self {
        case .school: "School"
        case .webhookSources: "Webhook sources"
        case .subscriptions: "Outbound subscriptions"
        case .apiKeys: "API keys"
        case .users: "Users"
        }
    }

    var path: String { "/settings/\(rawValue)" }

    var summary: String {
        switch self {
        case .school: "The school's time zone, in which every time on the dashboard shows."
        case .webhookSources: "The secrets billing's and the platforms' webhooks are verified with."
        case .subscriptions: "Who receives Ledgerwire's own events, and every attempt to deliver them."
        case .apiKeys: "Keys for the admin API (/api/v1)."
        case .users: "The people who sign in to this dashboard, their roles and passwords."
        }
    }

    /// Whether `principal` may open the section, as the API's routes decide: the school's settings are everyone's to
    /// read (a finance manager's to change); webhook sources are global (admins of no one school); the rest are an
    /// admin's.
    func isShown(to principal: Principal) -> Bool {
        switch self {
        case .school: true
        case .webhookSources: principal.role >= .admin && principal.tenantID == nil
        case .subscriptions, .apiKeys, .users: principal.role >= .admin
        }
    }
}

import Foundation
import Hummingbird
import Persistence

/// `/settings/school`: the school's time zone, in which the dashboard shows its people every time. People of one
/// school set their own school's; those of no one school name the school.
struct SchoolPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let api: SchoolsController

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/settings/school", use: show)
        routes.post("/settings/school", use: update)
        return routes
    }

    struct View: Sendable {
        var tenantID: String
        /// Whether the person may name another school (they belong to no one school).
        var choosesSchool: Bool
        var zones: [Choice]
        var current: String
        var now: String
    }

    /// Every zone this system knows, by name, with the current names some systems list only by their old ones
    /// (`Asia/Kolkata` for `Asia/Calcutta`).
    static let zoneIdentifiers = Set(TimeZone.knownTimeZoneIdentifiers).union(["UTC", "Asia/Kolkata", "Asia/Kathmandu"])
        .filter { TimeZone(identifier: $0) != nil }.sorted()

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let tenantID = principal.tenantID ?? String(request.uri.queryParameters.get("tenant") ?? "")
        let zone = tenantID.isEmpty ? nil : try await database.schoolTimeZone(tenantID: tenantID)
        let current = zone ?? "UTC"
        let view = View(
            tenantID: tenantID, choosesSchool: principal.tenantID == nil,
            zones: (Self.zoneIdentifiers.contains(current) ? Self.zoneIdentifiers : [current] + Self.zoneIdentifiers)
                .map { Choice(value: $0, label: $0, chosen: $0 == current) },
            current: current,
            now: DashboardTime.$zone.withValue(.init(identifier: zone)) { DashboardTime.format(.now()) })
        return try renderer.response(
            Screen(
                "school", title: "School", section: .settings, context: context,
                notice: request.uri.queryParameters.get("saved") != nil ? "Saved: times now show in \(current)." : nil,
                page: view))
    }

    @Sendable func update(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.financeManager)
        let form = context.form
        let tenantID =
            principal.tenantID ?? form.first(where: { $0.name == "tenant_id" })?.value.trimmingCharacters(
                in: .whitespaces) ?? ""
        let zone = form.first(where: { $0.name == "time_zone" })?.value ?? ""
        try await api.setTimeZone(of: tenantID, to: zone, by: principal)
        let query = principal.tenantID == nil ? "&tenant=\(Self.escaped(tenantID))" : ""
        return Response(status: .seeOther, headers: [.location: "/settings/school?saved=1" + query])
    }

    static func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}

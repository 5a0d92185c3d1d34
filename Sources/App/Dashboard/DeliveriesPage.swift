import Accounting
import Foundation
import Hummingbird
import Persistence

/// `/deliveries`: the inbox of signed webhook deliveries (billing's, QuickBooks', …), newest first, filtered by
/// status and source. A delivery shows what was wrong with it field by field and the body it came with; a finance
/// manager replays it through the API's own code (`DeliveriesController.replay`), which audits the replay.
struct DeliveriesPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let api: DeliveriesController
    /// The sources deliveries come from (`billing`, `quickbooks`, …), for the filter.
    let sources: [String]

    /// At most this much of a body is shown; the rest is summarized.
    static let shownBodyBytes = 16 * 1024

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/deliveries", use: list)
        routes.get("/deliveries/{id}", use: show)
        routes.post("/deliveries/{id}/replay", use: replay)
        return routes
    }

    struct ListView: Sendable {
        var deliveries: [Row]
        var statuses: [Choice]
        var sources: [Choice]
        var filtered: Bool
        var nextPage: String?
    }

    struct Row: Sendable {
        var id: String
        var source: String
        var event: String
        var status: String
        var tenant: String
        var received: String
        var problem: String
        var replays: Int
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let query = request.uri.queryParameters
        let status = query.get("status").flatMap { DeliveryStatus(rawValue: String($0)) }
        let source = query.get("source").map { String($0) }.flatMap { sources.contains($0) ? $0 : nil }
        let page = try await database.deliveries(
            status: status, source: source, tenantID: principal.tenantID, newestFirst: true,
            page: try PageRequest(limit: 50, cursor: query.get("cursor").map { String($0) }))
        let view = ListView(
            deliveries: page.items.map { delivery in
                Row(
                    id: delivery.id, source: delivery.source, event: delivery.eventType ?? "—",
                    status: delivery.status.rawValue, tenant: delivery.tenantID ?? "—",
                    received: DashboardTime.format(delivery.receivedAt), problem: Self.summary(delivery.errors),
                    replays: delivery.replays)
            },
            statuses: DeliveryStatus.allCases.map {
                Choice(value: $0.rawValue, label: $0.rawValue, chosen: $0 == status)
            },
            sources: sources.map { Choice(value: $0, label: $0, chosen: $0 == source) },
            filtered: status != nil || source != nil,
            nextPage: page.nextCursor.map { cursor in
                "/deliveries?"
                    + DashboardQuery.encode([("status", status?.rawValue), ("source", source), ("cursor", cursor)])
            })
        return try renderer.response(
            Screen("deliveries", title: "Deliveries", section: .deliveries, context: context, page: view))
    }

    struct DetailView: Sendable {
        var id: String
        var source: String
        var webhookID: String
        var event: String
        var status: String
        var tenant: String
        var received: String
        var replays: Int
        var lastReplayed: String?
        var errors: [FieldErrorView]
        var hasErrors: Bool
        var body: String
        var bodyNote: String?
        var replayable: Bool
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let delivery = try await database.delivery(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no delivery \(id)")
        }
        var notice: String?
        if request.uri.queryParameters.get("replayed") != nil {
            notice =
                delivery.status == .rejected || delivery.status == .unroutable
                ? "Replayed: it was \(delivery.status.rawValue) again, for the reasons below."
                : "Replayed: the delivery is now \(delivery.status.rawValue)."
        }
        let shown = delivery.body.prefix(Self.shownBodyBytes)
        let view = DetailView(
            id: delivery.id, source: delivery.source, webhookID: delivery.webhookID, event: delivery.eventType ?? "—",
            status: delivery.status.rawValue, tenant: delivery.tenantID ?? "—",
            received: DashboardTime.format(delivery.receivedAt), replays: delivery.replays,
            lastReplayed: delivery.lastReplayedAt.map(DashboardTime.format),
            errors: delivery.errors.map(Self.plain), hasErrors: !delivery.errors.isEmpty,
            body: String(decoding: shown, as: UTF8.self),
            bodyNote: delivery.body.count > shown.count
                ? "The first \(Self.shownBodyBytes / 1024) KB of \(delivery.body.count) bytes are shown." : nil,
            replayable: delivery.status == .rejected || delivery.status == .unroutable)
        return try renderer.response(
            Screen(
                "delivery", title: "Delivery \(delivery.id)", section: .deliveries, context: context, notice: notice,
                page: view))
    }

    @Sendable func replay(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.operator)
        let id = try context.parameters.require("id")
        _ = try await api.replay(id: id, correctedBody: nil, by: principal)
        return Response(status: .seeOther, headers: [.location: "/deliveries/\(id)?replayed=1"])
    }

    /// A field error as a person reads it: the field (or "The delivery" when it is about the whole of it) and what is
    /// wrong with it.
    static func plain(_ error: FieldError) -> FieldErrorView {
        FieldErrorView(
            field: error.field.isEmpty ? "The delivery" : error.field,
            message: DashboardErrorMiddleware.sentence(error.message))
    }

    /// The list's one-line account of what was wrong: the first error, and how many more.
    static func summary(_ errors: [FieldError]) -> String {
        guard let first = errors.first else { return "" }
        let line = (first.field.isEmpty ? "" : first.field + " ") + first.message
        return errors.count == 1 ? line : "\(line) (and \(errors.count - 1) more)"
    }
}

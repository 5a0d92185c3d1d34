import Accounting
import HTTPTypes
import Hummingbird
import Persistence

/// `/settings/subscriptions`: who receives Ledgerwire's own events — each receiver, whether it is active or was
/// disabled for failing (and why), Re-enable and Delete; a form to subscribe, whose signing secret is shown once on
/// the page that answers it; and `/settings/subscriptions/{id}`, every attempt to deliver to it, page by page, in
/// plain words. Read as the API lets viewers read; changed by admins, a school's admin their school's, through the
/// API's own code (`WebhookSubscriptionsController`), audited the same.
struct SubscriptionsPage {
    let database: AppDatabase
    let renderer: DashboardRenderer
    let api: WebhookSubscriptionsController

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/settings/subscriptions", use: show)
        routes.post("/settings/subscriptions", use: create)
        routes.get("/settings/subscriptions/{id}", use: attempts)
        routes.post("/settings/subscriptions/{id}/enable", use: enable)
        routes.post("/settings/subscriptions/{id}/delete", use: delete)
        return routes
    }

    struct View: Sendable {
        var subscriptions: [Row]
        var nextPage: String?
        /// The subscription just made, with its signing secret: shown this once.
        var created: Created?
        var url: SettingsForm.Field
        var events: [Choice]
        var eventsError: String?
        var description: SettingsForm.Field
        var tenant: SettingsForm.Field
        var problems: [String]
        var tenantFixed: String?
    }

    struct Row: Sendable {
        var id: String
        var url: String
        var events: String
        /// The subscription's description (named so that a missing one finds no other `description` up the stack).
        var note: String?
        var tenant: String
        var status: String
        var disabled: Bool
        var disabledReason: String?
        var failingSince: String?
        var created: String
    }

    struct Created: Sendable {
        var url: String
        var secret: String
    }

    static let labels = [
        "url": "URL", "event_types": "Events", "description": "Description", "tenant_id": "School",
    ]

    static let eventLabels: [String: String] = [
        "*": "Every event", EventType.paymentRecorded.rawValue: "A payment recorded in the books",
        EventType.invoiceChanged.rawValue: "An invoice changed in the books",
        EventType.creditNoteCreated.rawValue: "A credit note created in the books",
        EventType.syncFailed.rawValue: "A sync failed", EventType.syncNeedsMapping.rawValue: "A sync needs a mapping",
        EventType.conflictDetected.rawValue: "A conflict detected",
        EventType.conflictResolved.rawValue: "A conflict resolved",
        EventType.integrationDisconnected.rawValue: "An integration disconnected",
        EventType.subscriptionDisabled.rawValue: "A subscription disabled",
    ]

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let query = request.uri.queryParameters
        let notice: String? =
            if query.get("enabled") != nil {
                "Subscription enabled again: events are sent to it from now on."
            } else if query.get("deleted") != nil {
                "Subscription deleted: nothing more is sent to it."
            } else { nil }
        return try await render(
            context, principal, form: SettingsForm(labels: Self.labels), cursor: query.get("cursor").map { String($0) },
            notice: notice)
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let object = SettingsForm.object(context.form, fields: Set(Self.labels.keys), many: ["event_types"])
        switch try await SettingsForm.attempt({ try await api.create(object, by: principal) }) {
        case .success(let (subscription, secret)):
            return try await render(
                context, principal, form: SettingsForm(labels: Self.labels),
                created: Created(url: subscription.url, secret: secret), status: .created)
        case .failure(let problem):
            var form = SettingsForm(labels: Self.labels, sent: context.form)
            form.refused(problem)
            return try await render(context, principal, form: form, status: problem.status)
        }
    }

    @Sendable func enable(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        _ = try await api.enable(id: try context.parameters.require("id"), by: principal)
        return Response(status: .seeOther, headers: [.location: "/settings/subscriptions?enabled=1"])
    }

    @Sendable func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        try await api.delete(id: try context.parameters.require("id"), by: principal)
        return Response(status: .seeOther, headers: [.location: "/settings/subscriptions?deleted=1"])
    }

    private func render(
        _ context: AppRequestContext, _ principal: Principal, form: SettingsForm, cursor: String? = nil,
        created: Created? = nil, notice: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let page = try await database.webhookSubscriptions(
            tenantID: principal.tenantID, page: try PageRequest(limit: 50, cursor: cursor))
        let view = View(
            subscriptions: page.items.map(Self.row),
            nextPage: page.nextCursor.map { "/settings/subscriptions?cursor=\($0)" },
            created: created, url: form.field("url"),
            events: (["*"] + EventType.allCases.map(\.rawValue)).map {
                Choice(value: $0, label: Self.eventLabels[$0] ?? $0, chosen: form.sent("event_types", $0))
            },
            eventsError: form.field("event_types").error, description: form.field("description"),
            tenant: form.field("tenant_id"), problems: form.problems, tenantFixed: principal.tenantID)
        return try renderer.response(
            Screen(
                "settings-subscriptions", title: "Outbound subscriptions", section: .settings, context: context,
                notice: notice, page: view),
            status: status)
    }

    static func row(_ subscription: WebhookSubscription) -> Row {
        Row(
            id: subscription.id, url: subscription.url,
            events: subscription.eventTypes.map { $0 == "*" ? "every event" : $0 }.joined(separator: ", "),
            note: subscription.description, tenant: subscription.tenantID ?? "every school",
            status: subscription.status.rawValue, disabled: subscription.status == .disabled,
            disabledReason: subscription.disabledReason,
            failingSince: subscription.failingSince.map(DashboardTime.format),
            created: DashboardTime.format(subscription.createdAt))
    }

    // MARK: Attempts

    struct AttemptsView: Sendable {
        var subscription: Row
        var attempts: [AttemptRow]
        var nextPage: String?
    }

    struct AttemptRow: Sendable {
        var event: String
        var eventType: String
        var attempt: Int
        var at: String
        var delivered: Bool
        var outcome: String
        var duration: String
    }

    @Sendable func attempts(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let subscription = try await database.webhookSubscription(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no webhook subscription \(id)")
        }
        let page = try await database.webhookSubscriptionAttempts(
            subscriptionID: subscription.id,
            page: try PageRequest(limit: 50, cursor: request.uri.queryParameters.get("cursor").map { String($0) }))
        let view = AttemptsView(
            subscription: Self.row(subscription),
            attempts: page.items.map {
                AttemptRow(
                    event: $0.eventID, eventType: $0.eventType, attempt: $0.attempt,
                    at: DashboardTime.format($0.attemptedAt),
                    delivered: $0.delivered, outcome: Self.outcome($0), duration: "\($0.durationMilliseconds) ms")
            },
            nextPage: page.nextCursor.map { "/settings/subscriptions/\(subscription.id)?cursor=\($0)" })
        return try renderer.response(
            Screen(
                "settings-subscription", title: "Deliveries to \(subscription.url)", section: .settings,
                context: context, page: view))
    }

    /// What came of an attempt, in words: the receiver's answer, or why there was none.
    static func outcome(_ attempt: EventDeliveryAttempt) -> String {
        if let status = attempt.responseStatus {
            let reason = reasons.first { $0.code == status }.map { " " + $0.reasonPhrase } ?? ""
            return (attempt.delivered ? "Delivered: the receiver answered " : "The receiver answered ")
                + "\(status)\(reason)."
        }
        return DashboardErrorMiddleware.sentence(attempt.error ?? "no answer")
    }

    /// The statuses receivers answer most, for their reason phrases.
    static let reasons: [HTTPResponse.Status] = [
        .ok, .created, .accepted, .noContent, .movedPermanently, .found, .seeOther, .temporaryRedirect,
        .permanentRedirect, .badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .requestTimeout,
        .gone, .contentTooLarge, .unsupportedMediaType, .unprocessableContent, .tooManyRequests,
        .internalServerError, .notImplemented, .badGateway, .serviceUnavailable, .gatewayTimeout,
    ]
}

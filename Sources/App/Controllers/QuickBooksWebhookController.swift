import Accounting
import Connectors
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Ingestion
import Logging
import NIOCore
import Persistence

/// `POST /webhooks/quickbooks`: verifies `intuit-signature` against the verifier tokens of the `quickbooks`
/// webhook source, reads either format, routes each notification by its realm to the integration connected to that
/// company, and keeps it for the workers, who fetch the entity. It answers at once: Intuit waits 3 s.
struct QuickBooksWebhookController {
    static let source = "quickbooks"

    let database: AppDatabase
    let secrets: WebhookSecretStore
    let metrics: AppMetrics
    let maximumBodyBytes: Int
    let now: @Sendable () -> Timestamp

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/webhooks/quickbooks", use: receive)
        return routes
    }

    @Sendable func receive(request: Request, context: AppRequestContext) async throws -> Response {
        let source = Self.source
        let reception = WebhookReception(source: source, metrics: metrics)
        guard let body = await reception.body(of: request, upTo: maximumBodyBytes) else {
            return try reception.tooLarge(request, context: context)
        }
        let tokens = try await secrets.secrets(for: source).map(\.secret)
        let signature = request.headers[HTTPField.Name("intuit-signature")!]
        guard !tokens.isEmpty, QuickBooksWebhook.isValid(signature: signature, body: body, verifierTokens: tokens)
        else {
            // Counted and logged without the body: it is not trusted.
            context.logger.warning(
                "webhook.unauthorized",
                metadata: [
                    "webhook.source": "\(source)",
                    "error.code":
                        "\(tokens.isEmpty ? "no_active_secret" : signature == nil ? "missing_signature" : "bad_signature")",
                ])
            let detail =
                tokens.isEmpty
                ? "no verifier token is configured for quickbooks webhooks"
                : "the intuit-signature header is missing or does not match the body"
            return reception.answer(
                .unauthorized, try Problem.unauthorized(detail).response(from: request, context: context))
        }
        let receivedAt = now()
        // Intuit gives a notification no id: the same body again is the same delivery.
        let webhookID = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        let headers = ["intuit-signature": signature ?? ""]
        let notifications: [QuickBooksWebhook.Notification]
        do {
            notifications = try QuickBooksWebhook.notifications(in: try JSONValue(parsing: body))
        } catch {
            let errors =
                (error as? WebhookShapeError)?.errors ?? [FieldError(field: "body", message: "is not JSON: \(error)")]
            let outcome = try await database.record([
                IncomingDelivery(
                    source: source, webhookID: webhookID, receivedAt: receivedAt, tenantID: nil, eventType: nil,
                    headers: headers, body: body, content: .rejected(errors))
            ])[0].get()
            let malformed = !(error is WebhookShapeError)
            let problem = Problem(
                status: malformed ? .badRequest : .unprocessableContent,
                title: malformed ? "Bad Request" : "Unprocessable Content",
                detail: "the notification is kept as rejected and can be replayed",
                errors: outcome.errors, extensions: ["delivery_id": .string(outcome.deliveryID)])
            return reception.answer(.rejected, try problem.response(from: request, context: context))
        }
        let routing = try await Self.route(notifications, database: database)
        let routed = routing.notifications
        let outcome = try await database.recordPlatformDelivery(
            source: source, webhookID: webhookID, receivedAt: receivedAt,
            tenantID: routing.tenantID, eventType: "quickbooks.notification",
            headers: headers, body: body, notifications: routed, unroutable: routing.unroutable)
        let status: DeliveryStatus = outcome.isRedelivery ? .duplicate : outcome.status
        let response = try JSONResponse([
            "delivery_id": .string(outcome.deliveryID), "status": .string(status.rawValue),
            "notifications": .number(String(routed.count)),
        ]).response(from: request, context: context)
        return reception.answer(AppMetrics.outcome(for: status), response)
    }

    /// Notifications routed by their realm, each to the one active integration connected to that company, or
    /// unroutable.
    struct Routing {
        var notifications: [LedgerNotification] = []
        var unroutable: [FieldError] = []
        /// The integrations' tenants.
        var tenants: Set<String> = []

        /// The delivery's tenant: the one tenant it reached, if just one.
        var tenantID: String? { tenants.count == 1 ? tenants.first : nil }
    }

    static func route(_ notifications: [QuickBooksWebhook.Notification], database: AppDatabase) async throws -> Routing
    {
        var routing = Routing()
        var integrations: [String: Integration?] = [:]
        for notification in notifications {
            if integrations[notification.realmID] == nil {
                integrations[notification.realmID] = .some(
                    try await database.integration(platform: .quickBooksOnline, remoteTenantID: notification.realmID))
            }
            guard let integration = integrations[notification.realmID] ?? nil else {
                let error = FieldError(
                    field: "realmId", message: "no integration is connected to QuickBooks realm \(notification.realmID)"
                )
                if !routing.unroutable.contains(error) { routing.unroutable.append(error) }
                continue
            }
            routing.tenants.insert(integration.tenantID)
            routing.notifications.append(
                LedgerNotification(
                    integrationID: integration.id, recordType: notification.recordType, remoteID: notification.remoteID,
                    operation: notification.operation, occurredAt: notification.occurredAt,
                    idempotencyKey: notification.idempotencyKey))
        }
        return routing
    }

    /// Replays a kept QuickBooks delivery as it came, through the same reading and routing as `receive`: once its
    /// company is connected (`unroutable`) or the reader fixed (`rejected`). Its body is what Intuit signed, so it is
    /// never corrected. A tenant's key may replay only what routes to its own tenant.
    static func replay(
        _ stored: StoredDelivery, tenantID: String?, actor: String, database: AppDatabase, at now: Timestamp
    ) async throws -> DeliveryOutcome {
        let notifications: [QuickBooksWebhook.Notification]
        do {
            notifications = try QuickBooksWebhook.notifications(in: try JSONValue(parsing: stored.body))
        } catch {
            let errors =
                (error as? WebhookShapeError)?.errors ?? [FieldError(field: "body", message: "is not JSON: \(error)")]
            return try await database.replayPlatformDelivery(
                id: stored.id, tenantID: tenantID, deliveryTenantID: nil, notifications: [], unroutable: [],
                rejection: errors, actor: actor, at: now)
        }
        let routing = try await route(notifications, database: database)
        if let tenantID, routing.tenants.contains(where: { $0 != tenantID }) {
            throw Problem.notFound("no delivery \(stored.id)")
        }
        return try await database.replayPlatformDelivery(
            id: stored.id, tenantID: tenantID, deliveryTenantID: routing.tenantID, notifications: routing.notifications,
            unroutable: routing.unroutable, rejection: nil, actor: actor, at: now)
    }
}

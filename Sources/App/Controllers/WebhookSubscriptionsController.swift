import Accounting
import Connectors
import Foundation
import Hummingbird
import Ingestion
import Persistence

/// `/api/v1/webhook-subscriptions`: who receives Ledgerwire's own events. Admins subscribe and unsubscribe,
/// viewers read, and every attempt to deliver is listed. A tenant's key subscribes to that tenant's events only.
/// The signing secret is returned once, at creation.
struct WebhookSubscriptionsController {
    let database: AppDatabase
    let box: SecretBox
    /// Where receivers may be: checked when a subscription is saved.
    let destinations: DestinationPolicy

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/webhook-subscriptions", use: create)
        routes.get("/webhook-subscriptions", use: list)
        routes.get("/webhook-subscriptions/{id}", use: show)
        routes.delete("/webhook-subscriptions/{id}", use: delete)
        routes.post("/webhook-subscriptions/{id}/enable", use: enable)
        routes.get("/webhook-subscriptions/{id}/attempts", use: attempts)
        return routes
    }

    @Sendable func create(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.admin)
        var request = request
        let (subscription, secret) = try await create(try await request.jsonObject(context: context), by: principal)
        var json = subscription.json.objectValue ?? [:]
        json["secret"] = .string(secret)
        return JSONResponse(.object(json), status: .created)
    }

    /// Subscribes as `object` says (`POST /webhook-subscriptions`' body), for the dashboard's form too; audited. Gives
    /// the subscription and its signing secret, which is sealed at rest and cannot be shown again.
    /// - Throws: a 422 naming every field that is wrong.
    func create(
        _ object: [String: JSONValue], by principal: Principal
    ) async throws -> (subscription: WebhookSubscription, secret: String) {
        let body = FieldReader(object, path: "", diagnostics: Diagnostics())
        let url = body.string("url")
        if let url, let problem = destinations.problem(withURL: url) {
            body.diagnostics.add("url", problem)
        }
        var eventTypes: [String] = []
        switch object["event_types"] {
        case .array(let values) where !values.isEmpty:
            let known = Set(EventType.allCases.map(\.rawValue)).union(["*"])
            for (index, value) in values.enumerated() {
                guard let name = value.stringValue, known.contains(name) else {
                    body.diagnostics.add(
                        "event_types[\(index)]",
                        "must be one of \(EventType.allCases.map(\.rawValue).joined(separator: ", ")) or *")
                    continue
                }
                eventTypes.append(name)
            }
        case nil:
            body.diagnostics.add("event_types", "is required")
        default:
            body.diagnostics.add("event_types", "must be a non-empty array of event type names")
        }
        let description = body.optionalString("description")
        var tenantID = body.optionalString("tenant_id")
        if let scope = principal.tenantID {
            if let tenantID, tenantID != scope {
                body.diagnostics.add("tenant_id", "a key of tenant \(scope) can only subscribe to that tenant's events")
            }
            tenantID = scope
        }
        guard body.diagnostics.errors.isEmpty, let url else { throw Problem.invalid(body.diagnostics.errors) }
        let secret = StandardWebhooks.generateSecret()
        let subscription = try await database.createWebhookSubscription(
            tenantID: tenantID, url: url, eventTypes: eventTypes, description: description, secret: secret, box: box,
            actor: principal.actor)
        return (subscription, secret)
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let page = try await database.webhookSubscriptions(tenantID: principal.tenantID, page: request.pageRequest())
        return .page(page, \.json)
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        JSONResponse(try await subscription(request, context, role: .viewer).json)
    }

    @Sendable func delete(request: Request, context: AppRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        try await delete(id: try context.parameters.require("id"), by: principal)
        return Response(status: .noContent)
    }

    /// Deletes the subscription `id` of the principal's tenant and its pending deliveries; audited.
    /// - Throws: 404 when there is no such subscription the principal may see.
    func delete(id: String, by principal: Principal) async throws {
        guard try await database.deleteWebhookSubscription(id: id, tenantID: principal.tenantID, actor: principal.actor)
        else { throw Problem.notFound("no webhook subscription \(id)") }
    }

    @Sendable func enable(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.admin)
        return JSONResponse(try await enable(id: try context.parameters.require("id"), by: principal).json)
    }

    /// Enables the subscription `id` of the principal's tenant again (after it was disabled for failing); audited.
    /// - Throws: 404 when there is no such subscription the principal may see.
    func enable(id: String, by principal: Principal) async throws -> WebhookSubscription {
        guard
            let subscription = try await database.enableWebhookSubscription(
                id: id, tenantID: principal.tenantID, actor: principal.actor)
        else { throw Problem.notFound("no webhook subscription \(id)") }
        return subscription
    }

    @Sendable func attempts(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let subscription = try await subscription(request, context, role: .viewer)
        let page = try await database.webhookSubscriptionAttempts(
            subscriptionID: subscription.id, page: request.pageRequest())
        return .page(page, \.json)
    }

    private func subscription(
        _ request: Request, _ context: AppRequestContext, role: APIKey.Role
    ) async throws -> WebhookSubscription {
        let principal = try context.require(role)
        let id = try context.parameters.require("id")
        guard let subscription = try await database.webhookSubscription(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no webhook subscription \(id)")
        }
        return subscription
    }
}

extension WebhookSubscription {
    var json: JSONValue {
        [
            "id": .string(id), "tenant_id": tenantID.map(JSONValue.string) ?? .null, "url": .string(url),
            "event_types": .array(eventTypes.map(JSONValue.string)),
            "description": description.map(JSONValue.string) ?? .null, "status": .string(status.rawValue),
            "disabled_reason": disabledReason.map(JSONValue.string) ?? .null,
            "failing_since": failingSince?.json ?? .null, "created_at": createdAt.json,
        ]
    }
}

extension EventDeliveryAttempt {
    var json: JSONValue {
        [
            "event_id": .string(eventID), "event_type": .string(eventType), "attempt": .number(String(attempt)),
            "attempted_at": attemptedAt.json, "duration_ms": .number(String(durationMilliseconds)),
            "response_status": responseStatus.map { .number(String($0)) } ?? .null,
            "error": error.map(JSONValue.string) ?? .null, "delivered": .bool(delivered),
        ]
    }
}

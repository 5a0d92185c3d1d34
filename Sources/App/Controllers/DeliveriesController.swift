import Accounting
import Hummingbird
import Ingestion
import Logging
import Persistence

/// `/api/v1/deliveries`: the inbox, and replay of what was rejected once its cause is fixed.
struct DeliveriesController {
    let database: AppDatabase
    let billing: BillingInbox
    /// The platforms' deliveries are replayed through it.
    let platforms: PlatformInbox

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/deliveries", use: list)
        routes.get("/deliveries/{id}", use: show)
        routes.post("/deliveries/{id}/replay", use: replay)
        return routes
    }

    @Sendable func list(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let status = try request.query("status", as: DeliveryStatus.self)
        let page = try await database.deliveries(
            status: status,
            source: request.query("source"),
            tenantID: principal.tenantID ?? request.query("tenant_id"),
            page: request.pageRequest()
        )
        return .page(page) { $0.json(includingBody: false) }
    }

    @Sendable func show(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        let principal = try context.require(.viewer)
        let id = try context.parameters.require("id")
        guard let delivery = try await database.delivery(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no delivery \(id)")
        }
        var json = delivery.json(includingBody: true)
        if case .object(var members) = json {
            let replaced = try await database.replacedBodies(deliveryID: id, tenantID: principal.tenantID)
            members["replaced_bodies"] = .array(replaced.map(\.json))
            json = .object(members)
        }
        return JSONResponse(json)
    }

    /// Replays a delivery as stored (operator), or a rejected billing delivery with `{"body": {…corrected event…}}`
    /// (admin: it rewrites what was received; the replaced body is kept). A platform's delivery (QuickBooks) is
    /// replayed as it came, through the route it came in by.
    @Sendable func replay(request: Request, context: AppRequestContext) async throws -> JSONResponse {
        var principal = try context.require(.operator)
        let id = try context.parameters.require("id")
        var request = request
        let members = try await request.jsonObject(context: context)
        var corrected: [UInt8]?
        if let body = members["body"] {
            guard case .object = body else {
                throw Problem.invalid([FieldError(field: "body", message: "must be the corrected event, a JSON object")]
                )
            }
            corrected = body.canonicalBytes
            principal = try context.require(.admin)
        }
        let outcome = try await replay(id: id, correctedBody: corrected, by: principal)
        return JSONResponse([
            "delivery_id": .string(outcome.deliveryID), "status": .string(outcome.status.rawValue),
            "errors": .array(outcome.errors.map(\.json)),
        ])
    }

    /// Replays delivery `id` as `principal` — as it is stored, or (`correctedBody`, which the caller has checked an
    /// admin gives) a rejected billing delivery with a corrected body: billing's through the billing inbox, a
    /// platform's through the route it came in by. The API and the dashboard's Replay button both call it.
    /// - Throws: 404 when the delivery is absent or another tenant's; 422 for a corrected platform delivery.
    func replay(id: String, correctedBody corrected: [UInt8]?, by principal: Principal) async throws -> DeliveryOutcome
    {
        guard let stored = try await database.delivery(id: id, tenantID: principal.tenantID) else {
            throw Problem.notFound("no delivery \(id)")
        }
        if platforms.takes(source: stored.source) {
            guard corrected == nil else {
                throw Problem(
                    status: .unprocessableContent, title: "Unprocessable Content",
                    detail: "a platform's delivery is replayed as it came: its body is what the platform signed")
            }
            return try await platforms.replay(stored, tenantID: principal.tenantID, actor: principal.actor)
        }
        return try await billing.replay(
            deliveryID: id,
            correctedBody: corrected,
            tenantID: principal.tenantID,
            actor: principal.actor
        )
    }
}

extension ReplacedBody {
    var json: JSONValue {
        [
            "body": .string(String(decoding: body, as: UTF8.self)), "replaced_at": replacedAt.json,
            "replaced_by": replacedBy.map(JSONValue.string) ?? .null,
        ]
    }
}

extension FieldError {
    var json: JSONValue { ["field": .string(field), "message": .string(message)] }
}

extension StoredDelivery {
    func json(includingBody: Bool) -> JSONValue {
        var members: [String: JSONValue] = [:]
        members["id"] = .string(id)
        members["source"] = .string(source)
        members["webhook_id"] = .string(webhookID)
        members["status"] = .string(status.rawValue)
        members["tenant_id"] = tenantID.map(JSONValue.string) ?? .null
        members["event_type"] = eventType.map(JSONValue.string) ?? .null
        members["received_at"] = receivedAt.json
        members["errors"] = .array(errors.map(\.json))
        members["replays"] = .number(String(replays))
        members["last_replayed_at"] = lastReplayedAt?.json ?? .null
        if includingBody {
            members["headers"] = .object(headers.mapValues(JSONValue.string))
            members["body"] = .string(String(decoding: body, as: UTF8.self))
        }
        return .object(members)
    }
}

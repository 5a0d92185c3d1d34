import Accounting
import Connectors
import HTTPTypes
import Hummingbird
import Ingestion
import Logging
import NIOCore
import Persistence

/// `POST /webhooks/{source}` for each platform's webhook source in the connector registry (`/webhooks/quickbooks`):
/// the platform inbox verifies the signature against the source's secrets, reads the body, routes each notification
/// by its company to the integration connected to it, and keeps it (group-committed) for the workers, who fetch the
/// record. It answers at once: Intuit waits 3 s, Xero 5 s. A platform that wants bare answers
/// (`PlatformWebhooks.answersWithEmptyBodies`, Xero) gets every answer with the same status and no body (a refused
/// signature is a bare 401, an empty delivery — its intent-to-receive, which is not kept — a bare 200): what became
/// of a delivery is in the deliveries API.
struct PlatformWebhookController {
    let inbox: PlatformInbox
    let sources: [String]
    let metrics: AppMetrics
    let maximumBodyBytes: Int

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        for source in sources {
            routes.post("/webhooks/\(source)") { request, context in
                try await receive(source: source, request: request, context: context)
            }
        }
        return routes
    }

    func receive(source: String, request: Request, context: AppRequestContext) async throws -> Response {
        let reception = WebhookReception(source: source, metrics: metrics)
        let bare = inbox.answersWithEmptyBodies(source: source)
        guard let body = await reception.body(of: request, upTo: maximumBodyBytes) else {
            if bare { return reception.answer(.tooLarge, Response(status: .contentTooLarge)) }
            return try reception.tooLarge(request, context: context)
        }
        let receipt: PlatformInbox.Receipt
        do {
            receipt = try await inbox.receive(
                source: source, header: { name in HTTPField.Name(name).flatMap { request.headers[$0] } }, body: body)
        } catch PlatformInbox.Refusal.unknownSource(let source) {
            return reception.answer(
                .error,
                try Problem.notFound("no platform sends webhooks as \(source)").response(
                    from: request, context: context))
        } catch let refusal as PlatformInbox.Refusal {
            // Counted and logged without the body: it is not trusted.
            context.logger.warning(
                "webhook.unauthorized", metadata: ["webhook.source": "\(source)", "error.code": "\(refusal.code)"])
            if bare { return reception.answer(.unauthorized, Response(status: .unauthorized)) }
            let detail =
                switch refusal {
                case .noActiveSecret(let source, let secretName):
                    "no \(secretName) is configured for \(source) webhooks"
                case .missingSignature(let header), .badSignature(let header):
                    "the \(header) header is missing or does not match the body"
                case .unknownSource(let source): "no platform sends webhooks as \(source)"
                }
            return reception.answer(
                .unauthorized, try Problem.unauthorized(detail).response(from: request, context: context))
        }
        guard let outcome = receipt.outcome else {
            // An empty delivery, verified: nothing to keep.
            let response =
                bare
                ? Response(status: .ok)
                : try JSONResponse(["status": "verified", "notifications": 0]).response(from: request, context: context)
            return reception.answer(.verified, response)
        }
        if receipt.isRejected {
            if bare {
                return reception.answer(
                    .rejected, Response(status: receipt.isMalformed ? .badRequest : .unprocessableContent))
            }
            let problem = Problem(
                status: receipt.isMalformed ? .badRequest : .unprocessableContent,
                title: receipt.isMalformed ? "Bad Request" : "Unprocessable Content",
                detail: "the notification is kept as rejected and can be replayed",
                errors: outcome.errors, extensions: ["delivery_id": .string(outcome.deliveryID)])
            return reception.answer(.rejected, try problem.response(from: request, context: context))
        }
        let status: DeliveryStatus = outcome.isRedelivery ? .duplicate : outcome.status
        if bare { return reception.answer(AppMetrics.outcome(for: status), Response(status: .ok)) }
        let response = try JSONResponse([
            "delivery_id": .string(outcome.deliveryID), "status": .string(status.rawValue),
            "notifications": .number(String(receipt.routed)),
        ]).response(from: request, context: context)
        return reception.answer(AppMetrics.outcome(for: status), response)
    }
}

import Accounting
import HTTPTypes
import Hummingbird
import Ingestion
import Logging
import NIOCore
import Persistence

/// `POST /webhooks/billing`: reads the raw body, verifies, records, answers. The work happens later.
struct BillingWebhookController {
    let inbox: BillingInbox
    let metrics: AppMetrics
    let maximumBodyBytes: Int

    private static let headerNames: [String: HTTPField.Name] = Dictionary(
        uniqueKeysWithValues: ["webhook-id", "webhook-timestamp", "webhook-signature"].map { ($0, HTTPField.Name($0)!) }
    )

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/webhooks/billing", use: receive)
        return routes
    }

    @Sendable func receive(request: Request, context: AppRequestContext) async throws -> Response {
        let reception = WebhookReception(source: BillingInbox.source, metrics: metrics)
        guard let body = await reception.body(of: request, upTo: maximumBodyBytes) else {
            return try reception.tooLarge(request, context: context)
        }
        let headers = request.headers
        do {
            let receipt = try await inbox.receive(
                header: { name in Self.headerNames[name].flatMap { headers[$0] } },
                body: body
            )
            let outcome = receipt.outcome
            // A redelivery of a kept delivery is a duplicate, whatever the first one became; a rejected one is
            // answered as it was the first time.
            let status: DeliveryStatus =
                outcome.isRedelivery && outcome.status != .rejected ? .duplicate : outcome.status
            let response: Response
            if status == .rejected {
                let problem = Problem(
                    status: receipt.isMalformedJSON ? .badRequest : .unprocessableContent,
                    title: receipt.isMalformedJSON ? "Bad Request" : "Unprocessable Content",
                    detail: receipt.isMalformedJSON
                        ? "the body is not JSON; the delivery is kept as rejected"
                        : "the event is invalid; the delivery is kept as rejected and can be replayed once fixed",
                    errors: outcome.errors,
                    extensions: ["delivery_id": .string(outcome.deliveryID)]
                )
                response = try problem.response(from: request, context: context)
            } else {
                response = try JSONResponse([
                    "delivery_id": .string(outcome.deliveryID), "status": .string(status.rawValue),
                ]).response(from: request, context: context)
            }
            return reception.answer(AppMetrics.outcome(for: status), response)
        } catch let error as IngestionError where error.isAuthenticationFailure {
            // Counted and logged without the body: it is not trusted.
            context.logger.warning(
                "webhook.unauthorized",
                metadata: ["webhook.source": "\(reception.source)", "error.code": "\(error.code)"]
            )
            return reception.answer(
                .unauthorized, try Problem(ingestion: error).response(from: request, context: context))
        } catch {
            context.logger.error(
                "webhook.failed", metadata: ["webhook.source": "\(reception.source)", "error": "\(error)"])
            return reception.answer(.error, try Problem(error).response(from: request, context: context))
        }
    }
}

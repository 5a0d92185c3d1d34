public import Accounting
import Crypto
import Foundation

/// Xero's webhooks for the platform inbox: `x-xero-signature` (base64 HMAC-SHA256 of the body under the webhook
/// key), routed by organisation (`tenantId`).
///
/// Xero holds the endpoint to its rules (https://developer.xero.com/documentation/guides/webhooks/configuring-your-server):
/// a bad signature is a 401 and every answer has an empty body and no cookies, within 5 s. Its intent-to-receive
/// checks (signed deliveries with no events) are answered 200 and not kept.
public struct XeroWebhooks: PlatformWebhooks {
    public let platform: Platform = .xero
    public let source = "xero"
    public let eventType = "xero.notification"
    public let companyField = "tenantId"
    public let companyName = "Xero organisation"
    public let signatureHeader = "x-xero-signature"
    public let secretName = "webhook key"
    public let answersWithEmptyBodies = true

    public init() {}

    public func verify(header: (String) -> String?, body: [UInt8], secrets: [String]) -> WebhookVerification {
        guard let signature = header(signatureHeader) else { return .missingSignature }
        return XeroWebhook.isValid(signature: signature, body: body, webhookKeys: secrets) ? .valid : .badSignature
    }

    public func keptHeaders(header: (String) -> String?) -> [String: String] {
        [signatureHeader: header(signatureHeader) ?? ""]
    }

    /// Xero sends no delivery id: the same body again (a retry) is the same delivery. Another batch holding the same
    /// events is another delivery, whose notifications the idempotency keys deduplicate.
    public func webhookID(header: (String) -> String?, body: [UInt8]) -> String {
        SHA256.hash(data: body).hexString
    }

    /// An intent-to-receive check: `events` is empty.
    public func isEmptyDelivery(body: [UInt8]) -> Bool {
        guard let document = try? JSONValue(parsing: body) else { return false }
        return XeroWebhook.isIntentToReceive(document)
    }

    public func notifications(body: [UInt8]) throws(PlatformWebhookError) -> [PlatformNotification] {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: body)
        } catch {
            throw .malformed("\(error)")
        }
        do {
            return try XeroWebhook.notifications(in: document).map { notification in
                PlatformNotification(
                    companyID: notification.tenantID, recordType: notification.recordType,
                    remoteID: notification.remoteID, operation: notification.operation,
                    occurredAt: notification.occurredAt, idempotencyKey: notification.idempotencyKey)
            }
        } catch {
            throw .invalid(error.errors)
        }
    }
}

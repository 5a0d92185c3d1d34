public import Accounting
import Crypto
import Foundation

/// QuickBooks Online's webhooks for the platform inbox: `intuit-signature` (base64 HMAC-SHA256 of the body under the
/// verifier token) and both payload formats, routed by realm.
public struct QuickBooksOnlineWebhooks: PlatformWebhooks {
    public let platform: Platform = .quickBooksOnline
    public let source = "quickbooks"
    public let eventType = "quickbooks.notification"
    public let companyField = "realmId"
    public let companyName = "QuickBooks realm"
    public let signatureHeader = "intuit-signature"
    public let secretName = "verifier token"

    public init() {}

    public func verify(header: (String) -> String?, body: [UInt8], secrets: [String]) -> WebhookVerification {
        guard let signature = header(signatureHeader) else { return .missingSignature }
        return QuickBooksWebhook.isValid(signature: signature, body: body, verifierTokens: secrets)
            ? .valid : .badSignature
    }

    public func keptHeaders(header: (String) -> String?) -> [String: String] {
        [signatureHeader: header(signatureHeader) ?? ""]
    }

    /// Intuit gives a notification no id: the same body again is the same delivery.
    public func webhookID(header: (String) -> String?, body: [UInt8]) -> String {
        SHA256.hash(data: body).hexString
    }

    public func notifications(body: [UInt8]) throws(PlatformWebhookError) -> [PlatformNotification] {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: body)
        } catch {
            throw .malformed("\(error)")
        }
        do {
            return try QuickBooksWebhook.notifications(in: document).map { notification in
                PlatformNotification(
                    companyID: notification.realmID, recordType: notification.recordType,
                    remoteID: notification.remoteID, operation: notification.operation,
                    occurredAt: notification.occurredAt, idempotencyKey: notification.idempotencyKey)
            }
        } catch {
            throw .invalid(error.errors)
        }
    }
}

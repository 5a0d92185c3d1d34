public import Accounting
import Crypto
import Foundation

/// QuickBooks Online's webhook notifications: the `intuit-signature` check and both payload formats (legacy
/// `eventNotifications`, CloudEvents array) read into the same notifications.
public enum QuickBooksWebhook {
    /// One entity changed in one company. Its data is not in the notification: the entity is fetched.
    public struct Notification: Hashable, Sendable {
        public var realmID: String
        public var recordType: RecordType
        public var remoteID: String
        /// `create`, `update`, `delete`, `void`, `merge` or `emailed`.
        public var operation: String
        public var occurredAt: Timestamp

        public init(realmID: String, recordType: RecordType, remoteID: String, operation: String, occurredAt: Timestamp)
        {
            self.realmID = realmID
            self.recordType = recordType
            self.remoteID = remoteID
            self.operation = operation
            self.occurredAt = occurredAt
        }

        /// The same change has the same key in either format and in every redelivery.
        public var idempotencyKey: String {
            "quickbooks/\(realmID)/\(recordType.rawValue)/\(remoteID)/\(operation)/\(occurredAt.microsecondsSinceEpoch)"
        }

        public var json: JSONValue {
            [
                "realm_id": .string(realmID), "record_type": .string(recordType.rawValue),
                "remote_id": .string(remoteID), "operation": .string(operation),
                "occurred_at": .string(occurredAt.rfc3339), "idempotency_key": .string(idempotencyKey),
            ]
        }
    }

    /// Whether `signature` is the base64 HMAC-SHA256 of `body` under one of the verifier tokens, compared in
    /// constant time.
    public static func isValid(signature: String?, body: [UInt8], verifierTokens: [String]) -> Bool {
        guard let signature, let mac = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces)) else {
            return false
        }
        var valid = false
        for token in verifierTokens {
            // Every token is tried, so the time taken does not say which one matched.
            valid =
                HMAC<SHA256>.isValidAuthenticationCode(
                    mac, authenticating: body, using: SymmetricKey(data: Data(token.utf8))) || valid
        }
        return valid
    }

    /// The notifications of a body in either format, those of entities Ledgerwire does not sync left out.
    /// - Throws: the field errors of a body that is neither format.
    public static func notifications(in document: JSONValue) throws(WebhookShapeError) -> [Notification] {
        var found: [Notification] = []
        var errors: [FieldError] = []
        switch document {
        case .array(let events):
            for (index, event) in events.enumerated() {
                let path = "[\(index)]"
                guard let type = event["type"]?.stringValue, let realm = event["intuitaccountid"]?.stringValue,
                    let id = event["intuitentityid"]?.stringValue
                else {
                    errors.append(FieldError(field: path, message: "needs type, intuitaccountid and intuitentityid"))
                    continue
                }
                // qbo.<entity>.<operation, past tense>.v1
                let parts = type.split(separator: ".").map(String.init)
                guard parts.count >= 3, parts[0] == "qbo" else {
                    errors.append(FieldError(field: "\(path).type", message: "is not a QuickBooks event type"))
                    continue
                }
                guard let time = event["time"]?.stringValue.flatMap(QuickBooksTime.parse) else {
                    errors.append(FieldError(field: "\(path).time", message: "is not an instant"))
                    continue
                }
                guard let recordType = QuickBooksOnlineMapping.recordType(entity: parts[1]) else { continue }
                found.append(
                    Notification(
                        realmID: realm, recordType: recordType, remoteID: id, operation: operation(pastTense: parts[2]),
                        occurredAt: time))
            }
        case .object:
            guard let realms = document["eventNotifications"]?.arrayValue else {
                throw WebhookShapeError(errors: [
                    FieldError(field: "eventNotifications", message: "is required (or send a CloudEvents array)")
                ])
            }
            for (index, realm) in realms.enumerated() {
                guard let realmID = realm["realmId"]?.stringValue else {
                    errors.append(FieldError(field: "eventNotifications[\(index)].realmId", message: "is required"))
                    continue
                }
                for (position, entity) in (realm["dataChangeEvent"]?["entities"]?.arrayValue ?? []).enumerated() {
                    let path = "eventNotifications[\(index)].dataChangeEvent.entities[\(position)]"
                    guard let name = entity["name"]?.stringValue, let id = entity["id"]?.stringValue,
                        let operation = entity["operation"]?.stringValue
                    else {
                        errors.append(FieldError(field: path, message: "needs name, id and operation"))
                        continue
                    }
                    guard let time = entity["lastUpdated"]?.stringValue.flatMap(QuickBooksTime.parse) else {
                        errors.append(FieldError(field: "\(path).lastUpdated", message: "is not an instant"))
                        continue
                    }
                    guard let recordType = QuickBooksOnlineMapping.recordType(entity: name) else { continue }
                    found.append(
                        Notification(
                            realmID: realmID, recordType: recordType, remoteID: id, operation: operation.lowercased(),
                            occurredAt: time))
                }
            }
        default:
            throw WebhookShapeError(errors: [
                FieldError(field: "body", message: "is neither eventNotifications nor a CloudEvents array")
            ])
        }
        guard errors.isEmpty else { throw WebhookShapeError(errors: errors) }
        return found
    }

    private static func operation(pastTense: String) -> String {
        switch pastTense {
        case "created": "create"
        case "updated": "update"
        case "deleted": "delete"
        case "voided": "void"
        case "merged": "merge"
        default: pastTense
        }
    }
}

/// A signed notification whose body is not what QuickBooks sends.
public struct WebhookShapeError: Error, Hashable, Sendable {
    public var errors: [FieldError]
}

public import Accounting
import Crypto
import Foundation

/// Xero's webhook deliveries (`xero-webhooks.yaml`, platforms.md §2.3): the `x-xero-signature` check and the
/// payload `{events[], firstEventSequence, lastEventSequence, entropy}` read into notifications.
///
/// https://developer.xero.com/documentation/guides/webhooks/configuring-your-server : the signature is the base64
/// HMAC-SHA256 of the raw body keyed with the webhook key; a delivery with no events is an intent-to-receive check.
public enum XeroWebhook {
    /// The most events one delivery is read for: far above what Xero batches, far below what would hurt.
    public static let maximumEvents = 10_000

    /// One record changed in one organisation. Its data is not in the notification: the record is fetched.
    public struct Notification: Hashable, Sendable {
        /// The organisation (`tenantId`).
        public var tenantID: String
        /// `CONTACT`, `INVOICE` or `CREDITNOTE`.
        public var category: String
        public var recordType: RecordType
        public var remoteID: String
        /// `create` or `update` (Xero's `eventType`, lower-cased).
        public var operation: String
        /// `eventDateUtc`, which Xero writes without a zone: it is UTC.
        public var occurredAt: Timestamp

        public init(
            tenantID: String, category: String, recordType: RecordType, remoteID: String, operation: String,
            occurredAt: Timestamp
        ) {
            self.tenantID = tenantID
            self.category = category
            self.recordType = recordType
            self.remoteID = remoteID
            self.operation = operation
            self.occurredAt = occurredAt
        }

        /// The same change has the same key in every delivery and batch it comes in.
        public var idempotencyKey: String {
            "xero/\(tenantID)/\(category)/\(remoteID)/\(occurredAt.microsecondsSinceEpoch)/\(operation)"
        }

        public var json: JSONValue {
            [
                "tenant_id": .string(tenantID), "category": .string(category),
                "record_type": .string(recordType.rawValue), "remote_id": .string(remoteID),
                "operation": .string(operation), "occurred_at": .string(occurredAt.rfc3339),
                "idempotency_key": .string(idempotencyKey),
            ]
        }
    }

    /// Whether `signature` is the base64 HMAC-SHA256 of `body` under one of the webhook keys, compared in constant
    /// time.
    public static func isValid(signature: String?, body: [UInt8], webhookKeys: [String]) -> Bool {
        guard let signature, signature.utf8.count <= 256,
            let mac = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces))
        else { return false }
        var valid = false
        for key in webhookKeys {
            // Every key is tried, so the time taken does not say which one matched.
            valid =
                HMAC<SHA256>.isValidAuthenticationCode(
                    mac, authenticating: body, using: SymmetricKey(data: Data(key.utf8))) || valid
        }
        return valid
    }

    /// Whether a body is an intent-to-receive check: a JSON object whose `events` is an empty list.
    public static func isIntentToReceive(_ document: JSONValue) -> Bool {
        document["events"]?.arrayValue?.isEmpty == true
    }

    /// The notifications of a delivery: contacts, sales invoices and sales credit notes. Bills (`ACCPAY`), supplier
    /// credit notes (`ACCPAYCREDIT`), `SUBSCRIPTION` events and categories Xero adds later are left out.
    /// - Throws: the field errors of a body that is not Xero's shape, each naming its field.
    public static func notifications(in document: JSONValue) throws(WebhookShapeError) -> [Notification] {
        guard case .object(let members) = document else {
            throw WebhookShapeError(errors: [FieldError(field: "body", message: "is not an object with events")])
        }
        var errors: [FieldError] = []
        for field in ["firstEventSequence", "lastEventSequence"] {
            if let error = sequenceError(members[field], field: field) { errors.append(error) }
        }
        if members["entropy"]?.stringValue == nil {
            errors.append(FieldError(field: "entropy", message: "is required (a string)"))
        }
        guard let events = members["events"]?.arrayValue else {
            throw WebhookShapeError(errors: [FieldError(field: "events", message: "is required (a list)")] + errors)
        }
        guard events.count <= maximumEvents else {
            throw WebhookShapeError(errors: [
                FieldError(field: "events", message: "has \(events.count) events, more than \(maximumEvents)")
            ])
        }
        var found: [Notification] = []
        for (index, event) in events.enumerated() {
            do {
                if let notification = try notification(event, path: "events[\(index)]") { found.append(notification) }
            } catch {
                errors += error.errors
            }
        }
        guard errors.isEmpty else { throw WebhookShapeError(errors: errors) }
        return found
    }

    private static func sequenceError(_ value: JSONValue?, field: String) -> FieldError? {
        // Intent-to-receive checks number their (empty) batch 0; deliveries from 1 (the spec's minimum).
        guard let value else { return FieldError(field: field, message: "is required (an integer)") }
        guard case .number(let text) = value, text.utf8.count <= 10, let number = Int(text),
            (0...2_147_483_647).contains(number)
        else { return FieldError(field: field, message: "is not an integer from 0 to 2147483647") }
        return nil
    }

    /// One event, or `nil` when it is not one of Ledgerwire's records.
    private static func notification(_ event: JSONValue, path: String) throws(WebhookShapeError) -> Notification? {
        guard case .object = event else {
            throw WebhookShapeError(errors: [FieldError(field: path, message: "is not an object")])
        }
        guard let category = event["eventCategory"]?.stringValue else {
            throw WebhookShapeError(errors: [
                FieldError(field: "\(path).eventCategory", message: "is required (a string)")
            ])
        }
        let recordType: RecordType
        switch category {
        case "CONTACT": recordType = .customer
        case "INVOICE": recordType = .invoice
        case "CREDITNOTE": recordType = .creditNote
        default: return nil  // SUBSCRIPTION (the app's own), and categories Xero adds later.
        }
        var errors: [FieldError] = []
        func string(_ field: String) -> String? {
            guard let value = event[field]?.stringValue, !value.isEmpty, value.utf8.count <= 2048 else {
                errors.append(FieldError(field: "\(path).\(field)", message: "is required (a string)"))
                return nil
            }
            return value
        }
        func uuid(_ field: String) -> String? {
            guard let value = string(field) else { return nil }
            guard value.utf8.count == 36, UUID(uuidString: value) != nil else {
                errors.append(FieldError(field: "\(path).\(field)", message: "is not a UUID"))
                return nil
            }
            return value
        }
        let tenantID = uuid("tenantId")
        let resourceID = uuid("resourceId")
        _ = string("resourceUrl")
        let tenantType = string("tenantType")
        if let tenantType, tenantType != "ORGANISATION" {
            errors.append(FieldError(field: "\(path).tenantType", message: "is \(tenantType), not ORGANISATION"))
        }
        let eventType = string("eventType")
        if let eventType, eventType.utf8.count > 32 || !eventType.allSatisfy({ $0.isLetter || $0 == "_" }) {
            errors.append(FieldError(field: "\(path).eventType", message: "is not an event type (CREATE, UPDATE)"))
        }
        let occurredAt = string("eventDateUtc").flatMap { text in
            let parsed = eventDate(text)
            if parsed == nil {
                errors.append(FieldError(field: "\(path).eventDateUtc", message: "is not a UTC date-time"))
            }
            return parsed
        }
        // Credit notes say whose they are; invoice events may (bills are ACCPAY).
        let documentType = event["data"]?["Type"]
        if category == "CREDITNOTE", documentType?.stringValue == nil {
            errors.append(FieldError(field: "\(path).data.Type", message: "is required for a credit note (a string)"))
        }
        if let documentType, documentType.stringValue == nil {
            errors.append(FieldError(field: "\(path).data.Type", message: "is not a string"))
        }
        guard errors.isEmpty, let tenantID, let resourceID, let eventType, let occurredAt else {
            throw WebhookShapeError(errors: errors)
        }
        if ["ACCPAY", "ACCPAYCREDIT"].contains(documentType?.stringValue) { return nil }
        return Notification(
            tenantID: tenantID, category: category, recordType: recordType, remoteID: resourceID,
            operation: eventType.lowercased(), occurredAt: occurredAt)
    }

    /// `eventDateUtc`: `2025-12-02T00:44:09.923`, no zone (UTC); a `Z` is taken too. Fractions past microseconds
    /// (.NET writes seven digits) are cut.
    static func eventDate(_ text: String) -> Timestamp? {
        guard
            let match = text.wholeMatch(
                of: /([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]{1,7})?Z?/)
        else { return nil }
        let fraction = match.output.2.map { String($0.prefix(7)) } ?? ""
        return Timestamp(rfc3339: String(match.output.1) + fraction + "Z")
    }
}

/// Whether billing's record and a record in the books say the same thing: how Ledgerwire recognises a record that
/// came *from* the books when billing sends it back (it is linked, never written again), and a change in the books
/// that billing's record already agrees with (a payment moved an invoice's balance: nothing to report).
///
/// Platform-neutral: the books' side is the canonical form a connector reads (`RemoteRecord.data`: billing's field
/// names, the platform's ids), and billing's references and codes are translated into the platform's ids through
/// the integration's links and mappings before they are compared. Amounts compare by value (`"20000"` is
/// `"20000.00"`); a field the books' side does not carry is not compared (a platform without it cannot disagree).
public enum RecordMatch {
    /// What billing's ids and codes are in one integration's books.
    public struct Translation: Sendable {
        /// The platform's id of a record billing's refers to, when it is in the books.
        public var remoteIDs: [RecordReference: String]
        public var mappings: CodeMappings

        public init(remoteIDs: [RecordReference: String], mappings: CodeMappings) {
            self.remoteIDs = remoteIDs
            self.mappings = mappings
        }
    }

    /// The record types compared; the others are always written.
    public static func compares(_ recordType: RecordType) -> Bool {
        [.invoice, .payment, .creditNote].contains(recordType)
    }

    /// Whether `billing` (billing's canonical record) and `books` (the books' record, canonical form) agree on
    /// everything billing's record says: for a payment its customer, amount, currency, date, reference (when billing
    /// gives one) and every invoice allocation; for an invoice or credit note its number, customer, invoice, currency,
    /// dates, totals, void state and each line's amount, description, account, tax code and item.
    public static func agrees(
        _ recordType: RecordType, billing: JSONValue, books: JSONValue, translation: Translation
    ) -> Bool {
        func reference(_ type: RecordType, _ id: JSONValue?) -> String? {
            id?.stringValue.flatMap { translation.remoteIDs[RecordReference(type, $0)] }
        }
        // A reference the books carry must be the translation of billing's.
        func sameReference(_ type: RecordType, _ key: String) -> Bool {
            let theirs = books[key]?.stringValue
            let ours = billing[key]?.stringValue
            if theirs == nil && ours == nil { return true }
            guard let theirs else { return true }
            return reference(type, billing[key]) == theirs
        }
        func sameText(_ key: String) -> Bool {
            guard let theirs = books[key] else { return true }
            return billing[key]?.stringValue == theirs.stringValue
        }
        let currencyAgrees = books["currency"] == nil || books["currency"] == billing["currency"]
        switch recordType {
        case .payment:
            guard books["voided"]?.boolValue != true, currencyAgrees, sameReference(.customer, "customer_id"),
                sameAmount(billing["amount"], books["amount"]),
                day(billing["received_at"]) != nil, day(billing["received_at"]) == day(books["received_at"])
            else { return false }
            if let ours = billing["reference"]?.stringValue, ours != books["reference"]?.stringValue {
                return false
            }
            var theirs = (books["allocations"]?.arrayValue ?? []).map { allocation in
                (allocation["invoice_id"]?.stringValue ?? "", allocation["amount"] ?? .null)
            }
            for allocation in billing["allocations"]?.arrayValue ?? [] {
                guard let invoice = reference(.invoice, allocation["invoice_id"]),
                    let index = theirs.firstIndex(where: {
                        $0.0 == invoice && sameAmount($0.1, allocation["amount"])
                    })
                else { return false }
                theirs.remove(at: index)
            }
            return theirs.isEmpty
        case .invoice, .creditNote:
            let voided = billing["status"]?.stringValue == "voided"
            guard voided == (books["voided"]?.boolValue == true) else { return false }
            // A void says only that: both sides voided agree.
            if voided { return true }
            guard currencyAgrees, sameReference(.customer, "customer_id"), sameReference(.invoice, "invoice_id"),
                sameText("number"), sameText("issue_date"), billing["due_date"] == books["due_date"],
                sameAmount(billing["total"], books["total"]),
                books["tax_total"] == nil || sameAmount(billing["tax_total"], books["tax_total"])
            else { return false }
            return books["lines"] == nil || sameLines(billing["lines"], books["lines"], mappings: translation.mappings)
        case .customer, .refund:
            return false
        }
    }

    /// Lines in order: the same amounts; the books' description begins with billing's (a platform may add to it,
    /// as QuickBooks does for a discount); the mapped account, tax code and item where the books name them.
    private static func sameLines(_ billing: JSONValue?, _ books: JSONValue?, mappings: CodeMappings) -> Bool {
        let ours = billing?.arrayValue ?? []
        let theirs = books?.arrayValue ?? []
        guard ours.count == theirs.count else { return false }
        for (line, remote) in zip(ours, theirs) {
            guard sameAmount(line["amount"], remote["amount"]) else { return false }
            if let description = line["description"]?.stringValue,
                let remoteDescription = remote["description"]?.stringValue,
                !remoteDescription.hasPrefix(description)
            {
                return false
            }
            let codes: [(String, CodeMappings.Kind, String?)] = [
                ("account_id", .account, line["revenue_account"]?.stringValue),
                ("tax_code_id", .taxCode, line["tax_code"]?.stringValue),
                ("item_id", .item, line["course_id"]?.stringValue ?? CodeMappings.fallbackCode),
            ]
            for (key, kind, code) in codes {
                guard let remoteCode = remote[key]?.stringValue else { continue }
                guard let code, mappings.remoteID(kind, for: code) == remoteCode else { return false }
            }
        }
        return true
    }

    /// Two amounts of the same value, however many zeros follow the point; both absent agree.
    public static func sameAmount(_ left: JSONValue?, _ right: JSONValue?) -> Bool {
        guard let left, let right else { return left == nil && right == nil }
        guard let leftValue = decimal(left), let rightValue = decimal(right) else { return false }
        return leftValue == rightValue
    }

    private static func decimal(_ value: JSONValue) -> Int64? {
        let text: String
        switch value {
        case .string(let string), .number(let string): text = string
        default: return nil
        }
        return (try? ScaledDecimal(parsing: text, maximumFractionDigits: 8))?.rescaled(to: 8)
    }

    /// The calendar day of a date or an instant (`2026-12-01`, `2026-12-01T09:30:00Z`).
    private static func day(_ value: JSONValue?) -> Substring? {
        value?.stringValue.map { $0.prefix(10) }
    }
}

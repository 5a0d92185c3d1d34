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
    /// everything billing's record says: for a payment its customer, amount, currency, date, reference (both have the
    /// same one, or neither has one) and every invoice allocation; for an invoice or credit note its number, customer,
    /// invoice, currency, dates, totals, void state and each line's amount, description, account, tax code and item.
    ///
    /// `writtenFields` also compares what a connector writes that a person typing the record in the books chooses
    /// freely: a payment's deposit account, an invoice's exchange rate, a line's quantity and unit price. It is asked
    /// before a write is skipped as unneeded, or a change in the books taken as one billing already has: a difference
    /// there must reach the books (or billing), so a field the books' side does not carry counts as different.
    public static func agrees(
        _ recordType: RecordType, billing: JSONValue, books: JSONValue, translation: Translation,
        writtenFields: Bool = false
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
            func paymentReference(_ record: JSONValue) -> String? {
                record["reference"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            }
            guard paymentReference(billing) == paymentReference(books) else { return false }
            if writtenFields, let code = billing["deposit_account"]?.stringValue {
                guard let account = translation.mappings.remoteID(.depositAccount, for: code),
                    books["deposit_account_id"]?.stringValue == account
                else { return false }
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
            if writtenFields {
                // No rate is the home currency's own: one.
                let ours = billing["exchange_rate"] ?? .string("1")
                guard sameAmount(ours, books["exchange_rate"] ?? .string("1")) else { return false }
            }
            return books["lines"] == nil
                || sameLines(
                    billing["lines"], books["lines"], mappings: translation.mappings, writtenFields: writtenFields)
        case .customer, .refund:
            return false
        }
    }

    /// Lines in order: the same amounts; the same description (a discounted line's in the books may end with the
    /// discount spelled out, `… (3 × 1500.00 less 500.00 discount)`, as a platform without line discounts is sent it);
    /// the mapped account, tax code and item where the books name them; with `writtenFields`, an undiscounted line's
    /// quantity and unit price.
    private static func sameLines(
        _ billing: JSONValue?, _ books: JSONValue?, mappings: CodeMappings, writtenFields: Bool
    ) -> Bool {
        let ours = billing?.arrayValue ?? []
        let theirs = books?.arrayValue ?? []
        guard ours.count == theirs.count else { return false }
        for (line, remote) in zip(ours, theirs) {
            guard sameAmount(line["amount"], remote["amount"]) else { return false }
            let discounted = line["discount_amount"] != nil
            if let description = line["description"]?.stringValue,
                let remoteDescription = remote["description"]?.stringValue, remoteDescription != description
            {
                let spelledOut = remoteDescription.dropFirst(description.count)
                guard discounted, remoteDescription.hasPrefix(description), spelledOut.hasPrefix(" ("),
                    spelledOut.hasSuffix(" discount)")
                else { return false }
            }
            if writtenFields, !discounted {
                guard sameAmount(line["quantity"].map(Self.amountText), remote["quantity"].map(Self.amountText)),
                    sameAmount(line["unit_amount"], remote["unit_amount"])
                else { return false }
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

    /// A quantity as the text of its number (billing sends `1`, a platform `1.0` or `"1"`).
    private static func amountText(_ value: JSONValue) -> JSONValue {
        switch value {
        case .number(let text): .string(text)
        default: value
        }
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

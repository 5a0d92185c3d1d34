import Accounting
import GRDB

/// The books' records as billing reads them in Ledgerwire's events: billing's ids under billing's names
/// (`customer_id`, `invoice_id`), the platform's ids in fields that say so (`remote_customer_id`,
/// `remote_invoice_id`), and every amount a decimal string in its currency's minor-unit precision (`"59.00"`,
/// JPY `"500"`). docs/events/ holds the schema of each event.
struct LedgerEventView {
    let integrationID: String
    let db: Database

    /// Billing's id of the record the books know as `remoteID`.
    func billingID(_ remoteID: JSONValue?, _ type: RecordType) throws -> JSONValue {
        try AppDatabase.billingID(remoteID: remoteID?.stringValue, type: type, integrationID: integrationID, db: db)
            .map(JSONValue.string) ?? .null
    }

    /// The currency of an amount: the books' own, else that of billing's record it concerns.
    func currency(of books: JSONValue, billingRecords: [(RecordType, String?)]) throws -> Currency? {
        if let code = books["currency"]?.stringValue, let currency = Currency(code: code) { return currency }
        for (type, localID) in billingRecords {
            guard let localID,
                let data = try String.fetchOne(
                    db,
                    sql: """
                        SELECT v.data FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
                        JOIN integration_configs i ON i.id = ? AND i.tenant_id = r.tenant_id
                        WHERE r.record_type = ? AND r.local_id = ?
                        """,
                    arguments: [integrationID, type.rawValue, localID]),
                let code = (try? JSONValue(parsing: Array(data.utf8)))?["currency"]?.stringValue,
                let currency = Currency(code: code)
            else { continue }
            return currency
        }
        return nil
    }

    /// An amount in `currency`'s precision (`"20000"` INR is `"20000.00"`); as the books wrote it when it cannot be.
    static func amount(_ value: JSONValue?, _ currency: Currency?) -> JSONValue {
        let text: String
        switch value {
        case .string(let string)?, .number(let string)?: text = string
        default: return .null
        }
        guard let currency, let money = Money(platformDecimal: text, currency: currency) else { return .string(text) }
        return .string(money.decimalString)
    }

    /// Any record as the books hold it, in billing's terms (a conflict's books side).
    func record(_ recordType: RecordType, _ books: JSONValue, billingRecord localID: String) throws -> JSONValue {
        if books["deleted"]?.boolValue == true { return ["deleted": true] }
        let currency = try currency(of: books, billingRecords: [(recordType, localID)])
        switch recordType {
        case .invoice, .creditNote, .refund:
            var view = try document(books, currency: currency)
            if recordType == .refund { view["amount"] = Self.amount(books["amount"], currency) }
            return .object(view)
        case .payment:
            var view: [String: JSONValue] = [
                "customer_id": try billingID(books["customer_id"], .customer),
                "remote_customer_id": books["customer_id"] ?? .null,
                "amount": Self.amount(books["amount"], currency), "date": books["received_at"] ?? .null,
                "voided": .bool(books["voided"]?.boolValue == true),
            ]
            if let currency { view["currency"] = .string(currency.code) }
            if let reference = books["reference"] { view["reference"] = reference }
            view["allocations"] = .array(
                try (books["allocations"]?.arrayValue ?? []).map { allocation -> JSONValue in
                    [
                        "invoice_id": try billingID(allocation["invoice_id"], .invoice),
                        "remote_invoice_id": allocation["invoice_id"] ?? .null,
                        "amount": Self.amount(allocation["amount"], currency),
                    ]
                })
            return .object(view)
        case .customer:
            guard case .object(var members) = books else { return books }
            members["id"] = nil
            return .object(members)
        }
    }

    /// An invoice or credit note as the books hold it, in billing's terms: number, customer, invoice, currency,
    /// dates, totals, balance, void state and lines (the platform's item, account and tax code ids as `remote_…`).
    func document(_ books: JSONValue, currency: Currency?) throws -> [String: JSONValue] {
        if books["deleted"]?.boolValue == true { return ["deleted": true] }
        var view: [String: JSONValue] = [
            "customer_id": try billingID(books["customer_id"], .customer),
            "remote_customer_id": books["customer_id"] ?? .null,
            "voided": .bool(books["voided"]?.boolValue == true),
        ]
        if let total = books["total"] { view["total"] = Self.amount(total, currency) }
        if let currency { view["currency"] = .string(currency.code) }
        for key in ["number", "issue_date", "due_date"] {
            if let value = books[key] { view[key] = value }
        }
        if let tax = books["tax_total"] { view["tax_total"] = Self.amount(tax, currency) }
        if let balance = books["balance"] { view["balance"] = Self.amount(balance, currency) }
        if books["invoice_id"] != nil {
            view["invoice_id"] = try billingID(books["invoice_id"], .invoice)
            view["remote_invoice_id"] = books["invoice_id"]
        }
        view["lines"] = .array(
            (books["lines"]?.arrayValue ?? []).map { line -> JSONValue in
                var members: [String: JSONValue] = ["amount": Self.amount(line["amount"], currency)]
                if let description = line["description"] { members["description"] = description }
                if let quantity = line["quantity"] { members["quantity"] = quantity }
                if let unit = line["unit_amount"] { members["unit_amount"] = Self.amount(unit, currency) }
                for (from, to) in [
                    ("item_id", "remote_item_id"), ("account_id", "remote_account_id"),
                    ("tax_code_id", "remote_tax_code_id"),
                ] {
                    if let value = line[from] { members[to] = value }
                }
                return .object(members)
            })
        return view
    }
}

import Accounting

/// Billing's canonical records as QuickBooks Online entities, and QuickBooks' entities as canonical records.
///
/// Field names come from QuickBooks' XSDs (`Finance.xsd`), JSON-cased as the API returns them. Amounts go as JSON
/// numbers written from billing's decimal strings, so nothing is rounded on the way.
enum QuickBooksOnlineMapping {
    typealias Object = [String: JSONValue]

    /// The marker Ledgerwire writes in `PrivateNote`, naming billing's record: how a record whose create had an
    /// uncertain outcome is recognised afterwards when it has no `DocNumber`.
    static func marker(_ request: PushRequest) -> String { "Cognify \(request.recordType.rawValue) \(request.localID)" }

    /// QuickBooks' entity for a record type.
    static func entity(_ recordType: RecordType) -> String {
        switch recordType {
        case .customer: "Customer"
        case .invoice: "Invoice"
        case .payment: "Payment"
        case .creditNote: "CreditMemo"
        case .refund: "RefundReceipt"
        }
    }

    static func recordType(entity: String) -> RecordType? {
        switch entity.lowercased() {
        case "customer": .customer
        case "invoice": .invoice
        case "payment": .payment
        case "creditmemo": .creditNote
        case "refundreceipt": .refund
        default: nil
        }
    }

    // MARK: Billing → QuickBooks

    /// The entity's body for a create (an update adds `Id`, `SyncToken` and `sparse`).
    static func body(for request: PushRequest) throws(ConnectorError) -> Object {
        let data = request.data
        // Every code not mapped at once, so that one round of mapping is enough.
        let missing = request.mappings.missing(
            recordType: request.recordType, data: data, kinds: QuickBooksOnlineConnector.mappingKinds)
        guard missing.isEmpty else { throw .missingMapping(missing) }
        switch request.recordType {
        case .customer:
            return customer(data)
        case .invoice, .creditNote:
            var object = try document(request)
            if request.recordType == .creditNote, let invoice = data["invoice_id"]?.stringValue,
                let remote = request.references[RecordReference(.invoice, invoice)]
            {
                object["InvoiceRef"] = ["value": .string(remote)]
            }
            return object
        case .payment:
            return try payment(request)
        case .refund:
            return try refund(request)
        }
    }

    static func customer(_ data: JSONValue) -> Object {
        var object: Object = ["DisplayName": data["name"] ?? .null]
        if let email = data["email"]?.stringValue { object["PrimaryEmailAddr"] = ["Address": .string(email)] }
        if let phone = data["phone"]?.stringValue { object["PrimaryPhone"] = ["FreeFormNumber": .string(phone)] }
        if let currency = data["currency"]?.stringValue { object["CurrencyRef"] = ["value": .string(currency)] }
        if case .object(let address) = data["billing_address"] {
            var bill: Object = [:]
            for (from, to) in [
                ("line1", "Line1"), ("line2", "Line2"), ("city", "City"), ("region", "CountrySubDivisionCode"),
                ("postal_code", "PostalCode"), ("country", "Country"),
            ] {
                if let value = address[from]?.stringValue { bill[to] = .string(value) }
            }
            object["BillAddr"] = .object(bill)
        }
        return object
    }

    /// An invoice or credit memo: the customer, `DocNumber`, dates, currency, one sales line per billing line with
    /// its mapped item, income account and tax code, and the tax total.
    private static func document(_ request: PushRequest) throws(ConnectorError) -> Object {
        let data = request.data
        var object: Object = [
            "CustomerRef": ["value": .string(try reference(request, .customer, data["customer_id"]))],
            "DocNumber": data["number"] ?? .null,
            "PrivateNote": .string(marker(request)),
            "GlobalTaxCalculation": "TaxExcluded",
        ]
        if let date = data["issue_date"]?.stringValue { object["TxnDate"] = .string(date) }
        if let due = data["due_date"]?.stringValue { object["DueDate"] = .string(due) }
        if let currency = data["currency"]?.stringValue { object["CurrencyRef"] = ["value": .string(currency)] }
        if let rate = data["exchange_rate"]?.stringValue { object["ExchangeRate"] = .number(rate) }
        var lines: [JSONValue] = []
        for line in data["lines"]?.arrayValue ?? [] {
            lines.append(.object(try salesLine(line, mappings: request.mappings)))
        }
        object["Line"] = .array(lines)
        if let tax = data["tax_total"]?.stringValue { object["TxnTaxDetail"] = ["TotalTax": .number(tax)] }
        return object
    }

    /// One sales line. A discounted line goes as one unit at its net amount (QuickBooks checks that `Amount` is
    /// `Qty` × `UnitPrice`), with the quantity, price and discount in its description, so the amount is exact.
    private static func salesLine(_ line: JSONValue, mappings: CodeMappings) throws(ConnectorError) -> Object {
        let course = line["course_id"]?.stringValue ?? CodeMappings.fallbackCode
        guard let item = mappings.remoteID(.item, for: course) else {
            throw .missingMapping([CodeMappings.Missing(.item, course)])
        }
        let account = line["revenue_account"]?.stringValue ?? ""
        guard let income = mappings.remoteID(.account, for: account) else {
            throw .missingMapping([CodeMappings.Missing(.account, account)])
        }
        let amount = line["amount"]?.stringValue ?? "0"
        var description = line["description"]?.stringValue ?? ""
        var detail: Object = ["ItemRef": ["value": .string(item)], "ItemAccountRef": ["value": .string(income)]]
        if let discount = line["discount_amount"]?.stringValue, let quantity = line["quantity"].map(text),
            let unit = line["unit_amount"]?.stringValue
        {
            description += " (\(quantity) × \(unit) less \(discount) discount)"
            detail["Qty"] = 1
            detail["UnitPrice"] = .number(amount)
        } else {
            if let quantity = line["quantity"] { detail["Qty"] = .number(text(quantity)) }
            if let unit = line["unit_amount"]?.stringValue { detail["UnitPrice"] = .number(unit) }
        }
        if let tax = line["tax_code"]?.stringValue {
            guard let code = mappings.remoteID(.taxCode, for: tax) else {
                throw .missingMapping([CodeMappings.Missing(.taxCode, tax)])
            }
            detail["TaxCodeRef"] = ["value": .string(code)]
        }
        return [
            "Description": .string(description), "Amount": .number(amount), "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": .object(detail),
        ]
    }

    private static func payment(_ request: PushRequest) throws(ConnectorError) -> Object {
        let data = request.data
        var object: Object = [
            "CustomerRef": ["value": .string(try reference(request, .customer, data["customer_id"]))],
            "TotalAmt": .number(data["amount"]?.stringValue ?? "0"),
            "PrivateNote": .string(marker(request)),
        ]
        if let at = data["received_at"]?.stringValue { object["TxnDate"] = .string(String(at.prefix(10))) }
        if let reference = data["reference"]?.stringValue {
            object["PaymentRefNum"] = .string(String(reference.prefix(21)))
        }
        if let currency = data["currency"]?.stringValue { object["CurrencyRef"] = ["value": .string(currency)] }
        object["DepositToAccountRef"] = ["value": .string(try deposit(request))]
        var lines: [JSONValue] = []
        for allocation in data["allocations"]?.arrayValue ?? [] {
            let invoice = try reference(request, .invoice, allocation["invoice_id"])
            lines.append([
                "Amount": .number(allocation["amount"]?.stringValue ?? "0"),
                "LinkedTxn": [["TxnId": .string(invoice), "TxnType": "Invoice"]],
            ])
        }
        object["Line"] = .array(lines)
        return object
    }

    /// A refund receipt: one line of the refunded amount (the default item), paid from the mapped account.
    private static func refund(_ request: PushRequest) throws(ConnectorError) -> Object {
        let data = request.data
        guard let item = request.mappings.remoteID(.item, for: CodeMappings.fallbackCode) else {
            throw .missingMapping([CodeMappings.Missing(.item, CodeMappings.fallbackCode)])
        }
        let amount = data["amount"]?.stringValue ?? "0"
        var object: Object = [
            "CustomerRef": ["value": .string(try reference(request, .customer, data["customer_id"]))],
            "DepositToAccountRef": ["value": .string(try deposit(request))],
            "PrivateNote": .string(marker(request)),
            "Line": [
                [
                    "Description": .string("Refund (\(data["method"]?.stringValue ?? "refund"))"),
                    "Amount": .number(amount), "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": [
                        "ItemRef": ["value": .string(item)], "Qty": 1, "UnitPrice": .number(amount),
                    ],
                ]
            ],
        ]
        if let at = data["refunded_at"]?.stringValue { object["TxnDate"] = .string(String(at.prefix(10))) }
        if let reference = data["reference"]?.stringValue {
            object["PaymentRefNum"] = .string(String(reference.prefix(21)))
        }
        if let currency = data["currency"]?.stringValue { object["CurrencyRef"] = ["value": .string(currency)] }
        return object
    }

    private static func reference(_ request: PushRequest, _ type: RecordType, _ id: JSONValue?)
        throws(ConnectorError) -> String
    {
        guard let id = id?.stringValue, let remote = request.references[RecordReference(type, id)] else {
            throw .validation(
                code: "missing_reference",
                message: "the \(type.rawValue) \(id?.stringValue ?? "(none)") is not in QuickBooks yet")
        }
        return remote
    }

    private static func deposit(_ request: PushRequest) throws(ConnectorError) -> String {
        let code = request.data["deposit_account"]?.stringValue ?? ""
        guard let account = request.mappings.remoteID(.depositAccount, for: code) else {
            throw .missingMapping([CodeMappings.Missing(.depositAccount, code)])
        }
        return account
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .number(let text), .string(let text): text
        default: "1"
        }
    }

    // MARK: QuickBooks → billing

    /// An entity as a canonical record: billing's field names, QuickBooks' ids in its references.
    static func remoteRecord(_ recordType: RecordType, _ object: JSONValue) -> RemoteRecord? {
        guard let id = object["Id"]?.stringValue else { return nil }
        let updated = object["MetaData"]?["LastUpdatedTime"]?.stringValue.flatMap(QuickBooksTime.parse)
        let deleted = object["status"]?.stringValue == "Deleted"
        return RemoteRecord(
            recordType: recordType, remoteID: id, remoteVersion: object["SyncToken"]?.stringValue,
            updatedAt: updated ?? Timestamp(microsecondsSinceEpoch: 0), deleted: deleted,
            data: deleted ? ["id": .string(id)] : canonical(recordType, object))
    }

    static func canonical(_ recordType: RecordType, _ object: JSONValue) -> JSONValue {
        var data: Object = ["id": object["Id"] ?? .null]
        func amount(_ key: String) -> JSONValue? { object[key].map { .string(text($0)) } }
        let voided = object["PrivateNote"]?.stringValue == "Voided"
        switch recordType {
        case .customer:
            data["name"] = object["DisplayName"]
            data["email"] = object["PrimaryEmailAddr"]?["Address"]
            data["phone"] = object["PrimaryPhone"]?["FreeFormNumber"]
            data["currency"] = object["CurrencyRef"]?["value"]
            data["active"] = object["Active"]
        case .invoice, .creditNote, .refund:
            data["number"] = object["DocNumber"]
            data["customer_id"] = object["CustomerRef"]?["value"]
            data["currency"] = object["CurrencyRef"]?["value"]
            data["issue_date"] = object["TxnDate"]
            data["due_date"] = object["DueDate"]
            data["total"] = amount("TotalAmt")
            data["tax_total"] = object["TxnTaxDetail"]?["TotalTax"].map { .string(text($0)) }
            data["balance"] = amount("Balance")
            data["exchange_rate"] = amount("ExchangeRate")
            data["invoice_id"] = object["InvoiceRef"]?["value"]
            var lines: [JSONValue] = []
            for line in object["Line"]?.arrayValue ?? [] where line["DetailType"]?.stringValue == "SalesItemLineDetail"
            {
                let detail = line["SalesItemLineDetail"]
                lines.append(
                    JSONValue.object(
                        [
                            "description": line["Description"], "amount": line["Amount"].map { .string(text($0)) },
                            "quantity": detail?["Qty"], "unit_amount": detail?["UnitPrice"].map { .string(text($0)) },
                            "item_id": detail?["ItemRef"]?["value"], "account_id": detail?["ItemAccountRef"]?["value"],
                            "tax_code_id": detail?["TaxCodeRef"]?["value"],
                        ].compactMapValues { $0 }))
            }
            data["lines"] = .array(lines)
            if recordType == .refund { data["amount"] = amount("TotalAmt") }
            if voided { data["voided"] = true }
        case .payment:
            data["customer_id"] = object["CustomerRef"]?["value"]
            data["currency"] = object["CurrencyRef"]?["value"]
            data["amount"] = amount("TotalAmt")
            data["received_at"] = object["TxnDate"]
            data["reference"] = object["PaymentRefNum"]
            data["deposit_account_id"] = object["DepositToAccountRef"]?["value"]
            var allocations: [JSONValue] = []
            for line in object["Line"]?.arrayValue ?? [] {
                for linked in line["LinkedTxn"]?.arrayValue ?? [] where linked["TxnType"]?.stringValue == "Invoice" {
                    allocations.append([
                        "invoice_id": linked["TxnId"] ?? .null,
                        "amount": line["Amount"].map { .string(text($0)) } ?? .null,
                    ])
                }
            }
            data["allocations"] = .array(allocations)
            if voided { data["voided"] = true }
        }
        return .object(data.filter { $0.value != .null })
    }
}

/// QuickBooks' instants, in the shapes its API and webhooks use: `2015-08-10T11:33:46-07:00`,
/// `2015-10-05T14:42:19-0700`, `2025-09-10T21:31:25.179851517Z`.
enum QuickBooksTime {
    static func parse(_ text: String) -> Timestamp? {
        var value = text
        // A colon-less offset (`-0700`).
        if value.count >= 5, let sign = value.dropLast(4).last, sign == "+" || sign == "-",
            value.suffix(4).allSatisfy(\.isNumber)
        {
            value.insert(":", at: value.index(value.endIndex, offsetBy: -2))
        }
        // Fractions beyond microseconds.
        if let dot = value.firstIndex(of: ".") {
            let digits = value[value.index(after: dot)...].prefix(while: \.isNumber)
            if digits.count > 6 {
                value.replaceSubrange(digits.startIndex..<digits.endIndex, with: digits.prefix(6))
            }
        }
        return Timestamp(rfc3339: value)
    }

    /// An instant as QuickBooks takes it in `changedSince` and queries: whole seconds, UTC.
    static func format(_ timestamp: Timestamp) -> String {
        let text = timestamp.rfc3339
        return String(text.prefix(19)) + "Z"
    }
}

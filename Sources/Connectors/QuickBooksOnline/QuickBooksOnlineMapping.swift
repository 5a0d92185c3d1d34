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
    ///
    /// Every code the record needs is mapped and every record it refers to is in the books: the engine parks the job
    /// (`needs_mapping`) or holds it (waiting for a dependency) until they are, so they are looked up here, not
    /// checked again.
    static func body(for request: PushRequest) throws(ConnectorError) -> Object {
        switch request.record {
        case .customer(let customer):
            return self.customer(customer)
        case .invoice(let invoice):
            return try document(
                request,
                Document(
                    customerID: invoice.customerID, number: invoice.number, currency: invoice.currency,
                    exchangeRate: invoice.exchangeRate, issueDate: invoice.issueDate, dueDate: invoice.dueDate,
                    lines: invoice.lines, taxTotal: invoice.taxTotal))
        case .creditNote(let note):
            var object = try document(
                request,
                Document(
                    customerID: note.customerID, number: note.number, currency: note.currency, exchangeRate: nil,
                    issueDate: note.issueDate, dueDate: nil, lines: note.lines, taxTotal: note.taxTotal))
            if let invoice = note.invoiceID {
                object["InvoiceRef"] = ["value": .string(try reference(request, .invoice, invoice.rawValue))]
            }
            return object
        case .payment(let payment):
            return try self.payment(payment, request)
        case .refund(let refund):
            return try self.refund(refund, request)
        }
    }

    static func customer(_ customer: Customer) -> Object {
        var object: Object = ["DisplayName": .string(customer.name)]
        if let email = customer.email { object["PrimaryEmailAddr"] = ["Address": .string(email)] }
        if let phone = customer.phone { object["PrimaryPhone"] = ["FreeFormNumber": .string(phone)] }
        if let currency = customer.currency { object["CurrencyRef"] = ["value": .string(currency.code)] }
        if let address = customer.billingAddress {
            var bill: Object = [
                "Line1": .string(address.line1), "City": .string(address.city), "Country": .string(address.country),
            ]
            if let line2 = address.line2 { bill["Line2"] = .string(line2) }
            if let region = address.region { bill["CountrySubDivisionCode"] = .string(region) }
            if let postalCode = address.postalCode { bill["PostalCode"] = .string(postalCode) }
            object["BillAddr"] = .object(bill)
        }
        return object
    }

    /// What an invoice and a credit memo share.
    private struct Document {
        var customerID: Customer.ID
        var number: String
        var currency: Currency
        var exchangeRate: ScaledDecimal?
        var issueDate: LocalDate
        var dueDate: LocalDate?
        var lines: [DocumentLine]
        var taxTotal: Money
    }

    /// An invoice or credit memo: the customer, `DocNumber`, dates, currency, one sales line per billing line with
    /// its mapped item, income account and tax code, and the tax total.
    private static func document(_ request: PushRequest, _ document: Document) throws(ConnectorError) -> Object {
        var object: Object = [
            "CustomerRef": ["value": .string(try reference(request, .customer, document.customerID.rawValue))],
            "DocNumber": .string(document.number),
            "PrivateNote": .string(marker(request)),
            "GlobalTaxCalculation": "TaxExcluded",
            "TxnDate": .string(document.issueDate.description),
            "CurrencyRef": ["value": .string(document.currency.code)],
        ]
        if let due = document.dueDate { object["DueDate"] = .string(due.description) }
        if let rate = document.exchangeRate { object["ExchangeRate"] = .number(rate.description) }
        var lines: [JSONValue] = []
        for line in document.lines {
            lines.append(.object(try salesLine(line, mappings: request.mappings)))
        }
        object["Line"] = .array(lines)
        object["TxnTaxDetail"] = ["TotalTax": .number(document.taxTotal.decimalString)]
        return object
    }

    /// One sales line. A discounted line goes as one unit at its net amount (QuickBooks checks that `Amount` is
    /// `Qty` × `UnitPrice`), with the quantity, price and discount in its description, so the amount is exact.
    private static func salesLine(_ line: DocumentLine, mappings: CodeMappings) throws(ConnectorError) -> Object {
        let item = try mapped(.item, line.courseID ?? CodeMappings.fallbackCode, in: mappings)
        let income = try mapped(.account, line.revenueAccount, in: mappings)
        let amount = line.amount.decimalString
        var description = line.description
        var detail: Object = ["ItemRef": ["value": .string(item)], "ItemAccountRef": ["value": .string(income)]]
        if let discount = line.discountAmount {
            description +=
                " (\(line.quantity.description) × \(line.unitAmount.decimalString) less \(discount.decimalString) discount)"
            detail["Qty"] = 1
            detail["UnitPrice"] = .number(amount)
        } else {
            detail["Qty"] = .number(line.quantity.description)
            detail["UnitPrice"] = .number(line.unitAmount.decimalString)
        }
        if let tax = line.taxCode {
            detail["TaxCodeRef"] = ["value": .string(try mapped(.taxCode, tax, in: mappings))]
        }
        return [
            "Description": .string(description), "Amount": .number(amount), "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": .object(detail),
        ]
    }

    private static func payment(_ payment: Payment, _ request: PushRequest) throws(ConnectorError) -> Object {
        var object: Object = [
            "CustomerRef": ["value": .string(try reference(request, .customer, payment.customerID.rawValue))],
            "TotalAmt": .number(payment.amount.decimalString),
            "PrivateNote": .string(marker(request)),
            "TxnDate": .string(String(payment.receivedAt.rfc3339.prefix(10))),
            "CurrencyRef": ["value": .string(payment.currency.code)],
            "DepositToAccountRef": [
                "value": .string(try mapped(.depositAccount, payment.depositAccount, in: request.mappings))
            ],
        ]
        if let reference = payment.reference { object["PaymentRefNum"] = .string(String(reference.prefix(21))) }
        var lines: [JSONValue] = []
        for allocation in payment.allocations {
            let invoice = try reference(request, .invoice, allocation.invoiceID.rawValue)
            lines.append([
                "Amount": .number(allocation.amount.decimalString),
                "LinkedTxn": [["TxnId": .string(invoice), "TxnType": "Invoice"]],
            ])
        }
        object["Line"] = .array(lines)
        return object
    }

    /// A refund receipt: one line of the refunded amount (the default item), paid from the mapped account.
    private static func refund(_ refund: Refund, _ request: PushRequest) throws(ConnectorError) -> Object {
        let item = try mapped(.item, CodeMappings.fallbackCode, in: request.mappings)
        let amount = refund.amount.decimalString
        var object: Object = [
            "CustomerRef": ["value": .string(try reference(request, .customer, refund.customerID.rawValue))],
            "DepositToAccountRef": [
                "value": .string(try mapped(.depositAccount, refund.depositAccount, in: request.mappings))
            ],
            "PrivateNote": .string(marker(request)),
            "Line": [
                [
                    "Description": .string("Refund (\(refund.method))"),
                    "Amount": .number(amount), "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": [
                        "ItemRef": ["value": .string(item)], "Qty": 1, "UnitPrice": .number(amount),
                    ],
                ]
            ],
            "TxnDate": .string(String(refund.refundedAt.rfc3339.prefix(10))),
            "CurrencyRef": ["value": .string(refund.currency.code)],
        ]
        if let reference = refund.reference { object["PaymentRefNum"] = .string(String(reference.prefix(21))) }
        return object
    }

    /// The platform id of a record this one refers to, which the engine put in `references` before the push.
    private static func reference(_ request: PushRequest, _ type: RecordType, _ id: String) throws(ConnectorError)
        -> String
    {
        guard let remote = request.references[RecordReference(type, id)] else {
            throw .validation(code: "missing_reference", message: "the \(type.rawValue) \(id) is not in QuickBooks yet")
        }
        return remote
    }

    /// The platform id a code is mapped to, which the engine made sure of before the push.
    private static func mapped(_ kind: CodeMappings.Kind, _ code: String, in mappings: CodeMappings)
        throws(ConnectorError) -> String
    {
        guard let remoteID = mappings.remoteID(kind, for: code) else {
            throw .missingMapping([CodeMappings.Missing(kind, code)])
        }
        return remoteID
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

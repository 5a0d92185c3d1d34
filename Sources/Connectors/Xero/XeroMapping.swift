import Accounting
import Foundation

/// Billing's canonical records as Xero's Accounting API objects, and Xero's objects as canonical records.
///
/// Field names are `xero_accounting.yaml`'s (`components.schemas`). Amounts go as JSON numbers written from
/// billing's decimal strings, so nothing is rounded on the way; Xero's mappings hold Xero's own codes
/// (`AccountCode`, `TaxType`, `ItemCode`, a bank account's `Code`).
enum XeroMapping {
    typealias Object = [String: JSONValue]

    /// Xero's collection for a record type (a refund is a payment against a credit note).
    static func collection(_ recordType: RecordType) -> String {
        switch recordType {
        case .customer: "Contacts"
        case .invoice: "Invoices"
        case .payment, .refund: "Payments"
        case .creditNote: "CreditNotes"
        }
    }

    /// The id field of a record type's objects.
    static func idField(_ recordType: RecordType) -> String {
        switch recordType {
        case .customer: "ContactID"
        case .invoice: "InvoiceID"
        case .payment, .refund: "PaymentID"
        case .creditNote: "CreditNoteID"
        }
    }

    /// The marker Ledgerwire writes in a payment's `Reference`, naming billing's record: how a payment whose create
    /// had an uncertain outcome is recognised afterwards (payments have no number of their own).
    static func marker(_ request: PushRequest) -> String { "Cognify \(request.recordType.rawValue) \(request.localID)" }

    /// The longest `ContactNumber` Xero keeps.
    static let contactNumberLength = 50

    // MARK: Billing → Xero

    /// The object for a create (an update adds the id).
    ///
    /// Every code the record needs is mapped and every record it refers to is in the books: the engine parks the job
    /// or holds it until they are.
    static func body(for request: PushRequest) throws(ConnectorError) -> Object {
        try checkTwoDecimalPlaces(request)
        switch request.record {
        case .customer(let customer):
            return try contact(customer, localID: request.localID)
        case .invoice(let invoice):
            var object = try document(
                request,
                Document(
                    customerID: invoice.customerID, currency: invoice.currency, exchangeRate: invoice.exchangeRate,
                    issueDate: invoice.issueDate, lines: invoice.lines, discounts: true))
            object["Type"] = "ACCREC"
            object["InvoiceNumber"] = .string(invoice.number)
            // Xero needs a due date on an approved sales invoice; billing's, or the day it was issued.
            object["DueDate"] = .string((invoice.dueDate ?? invoice.issueDate).description)
            return object
        case .creditNote(let note):
            var object = try document(
                request,
                Document(
                    customerID: note.customerID, currency: note.currency, exchangeRate: nil, issueDate: note.issueDate,
                    lines: note.lines, discounts: false))
            object["Type"] = "ACCRECCREDIT"
            object["CreditNoteNumber"] = .string(note.number)
            if let reason = note.reason { object["Reference"] = .string(String(reason.prefix(255))) }
            return object
        case .payment(let payment):
            return try self.payment(payment, request)
        case .refund(let refund):
            return try self.refund(refund, request)
        }
    }

    /// Xero keeps amounts to two decimal places ("Rounding in Xero": unit prices to two unless `unitdp=4`, and "all
    /// summary values such as Total, LineAmount etc" to two only), and rounds what has more. An amount of a
    /// three-decimal currency (KWD, BHD, …) in whole 10-fils steps is held exactly; one with a third digit would be
    /// rounded by Xero, so the job fails instead, naming the currency and the amount.
    /// https://developer.xero.com/documentation/api-guides/rounding-in-xero
    static func checkTwoDecimalPlaces(_ request: PushRequest) throws(ConnectorError) {
        var amounts: [(name: String, money: Money)] = []
        func document(_ lines: [DocumentLine], _ subtotal: Money, _ taxTotal: Money, _ total: Money) {
            for (index, line) in lines.enumerated() {
                let position = "line \(index + 1)"
                amounts.append(("\(position) unit amount", line.unitAmount))
                if let discount = line.discountAmount { amounts.append(("\(position) discount", discount)) }
                amounts.append(("\(position) amount", line.amount))
                if let tax = line.taxAmount { amounts.append(("\(position) tax", tax)) }
            }
            amounts += [("subtotal", subtotal), ("tax total", taxTotal), ("total", total)]
        }
        switch request.record {
        case .customer: return
        case .invoice(let invoice): document(invoice.lines, invoice.subtotal, invoice.taxTotal, invoice.total)
        case .creditNote(let note): document(note.lines, note.subtotal, note.taxTotal, note.total)
        case .payment(let payment): amounts = payment.allocations.map { ("amount", $0.amount) }
        case .refund(let refund): amounts = [("amount", refund.amount)]
        }
        guard let (name, money) = amounts.first(where: { !fitsTwoDecimalPlaces($0.money) }) else { return }
        throw .validation(
            code: "amount_precision",
            message: "Xero keeps amounts to two decimal places: the \(name) \(money.decimalString) "
                + "\(money.currency.code) of \(request.recordType.rawValue) \(request.localID) has a third "
                + "decimal Xero would round, so nothing was written")
    }

    /// Whether an amount has no digit beyond the second decimal place.
    static func fitsTwoDecimalPlaces(_ money: Money) -> Bool {
        var divisor: Int64 = 1
        for _ in 0..<max(0, money.currency.minorUnitExponent - 2) { divisor *= 10 }
        return money.minorUnits % divisor == 0
    }

    static func contact(_ customer: Customer, localID: String) throws(ConnectorError) -> Object {
        guard localID.count <= contactNumberLength else {
            throw .validation(
                code: "id_too_long",
                message: "billing's customer id \(localID) is longer than the \(contactNumberLength) characters of "
                    + "Xero's ContactNumber")
        }
        var object: Object = ["Name": .string(customer.name), "ContactNumber": .string(localID)]
        if let email = customer.email { object["EmailAddress"] = .string(email) }
        if let phone = customer.phone { object["Phones"] = [["PhoneType": "DEFAULT", "PhoneNumber": .string(phone)]] }
        if let taxID = customer.taxID { object["TaxNumber"] = .string(taxID) }
        if let currency = customer.currency { object["DefaultCurrency"] = .string(currency.code) }
        if let address = customer.billingAddress {
            // The postal address is the one Xero prints on invoices.
            var postal: Object = [
                "AddressType": "POBOX", "AddressLine1": .string(address.line1), "City": .string(address.city),
                "Country": .string(address.country),
            ]
            if let line2 = address.line2 { postal["AddressLine2"] = .string(line2) }
            if let region = address.region { postal["Region"] = .string(region) }
            if let postalCode = address.postalCode { postal["PostalCode"] = .string(postalCode) }
            object["Addresses"] = [.object(postal)]
        }
        return object
    }

    /// What an invoice and a credit note share.
    private struct Document {
        var customerID: Customer.ID
        var currency: Currency
        var exchangeRate: ScaledDecimal?
        var issueDate: LocalDate
        var lines: [DocumentLine]
        /// Xero takes a line's `DiscountAmount` on sales invoices only.
        var discounts: Bool
    }

    /// A sales invoice or credit note, approved (documents are created final), amounts exclusive of tax: the
    /// contact, the date, the currency and its rate, one line per billing line with its mapped account, tax type
    /// and item, and billing's tax on each line.
    private static func document(_ request: PushRequest, _ document: Document) throws(ConnectorError) -> Object {
        var object: Object = [
            "Contact": ["ContactID": .string(try reference(request, .customer, document.customerID.rawValue))],
            "Date": .string(document.issueDate.description),
            "LineAmountTypes": "Exclusive",
            "Status": "AUTHORISED",
            "CurrencyCode": .string(document.currency.code),
        ]
        if let rate = document.exchangeRate { object["CurrencyRate"] = .number(try currencyRate(rate)) }
        var lines: [JSONValue] = []
        for line in document.lines {
            lines.append(.object(try lineItem(line, mappings: request.mappings, discounts: document.discounts)))
        }
        object["LineItems"] = .array(lines)
        return object
    }

    /// Xero's `CurrencyRate`: units of the document's currency one unit of the organisation's base currency buys —
    /// the inverse of billing's `exchange_rate` (home currency per unit of the document's) — to Xero's six decimals.
    static func currencyRate(_ exchangeRate: ScaledDecimal) throws(ConnectorError) -> String {
        guard let rate = Decimal(string: exchangeRate.description), rate > 0 else {
            throw .validation(
                code: "invalid_exchange_rate", message: "billing's exchange_rate \(exchangeRate) is not above zero")
        }
        var inverse = 1 / rate
        var rounded = Decimal()
        NSDecimalRound(&rounded, &inverse, 6, .plain)
        guard rounded > 0 else {
            throw .validation(
                code: "invalid_exchange_rate",
                message:
                    "billing's exchange_rate \(exchangeRate) is beyond what Xero's CurrencyRate (six decimals) holds")
        }
        return "\(rounded)"
    }

    /// One line. A discounted line of a credit note goes as one unit at its net amount (Xero takes discounts on
    /// sales invoices only), with the quantity, price and discount in its description.
    private static func lineItem(_ line: DocumentLine, mappings: CodeMappings, discounts: Bool)
        throws(ConnectorError) -> Object
    {
        var item: Object = [
            "Description": .string(line.description),
            "AccountCode": .string(try mapped(.account, line.revenueAccount, in: mappings)),
        ]
        if let discount = line.discountAmount, !discounts {
            item["Description"] = .string(
                line.description
                    + " (\(line.quantity.description) × \(line.unitAmount.decimalString) less \(discount.decimalString) discount)"
            )
            item["Quantity"] = 1
            item["UnitAmount"] = .number(line.amount.decimalString)
        } else {
            item["Quantity"] = .number(line.quantity.description)
            item["UnitAmount"] = .number(line.unitAmount.decimalString)
            if let discount = line.discountAmount { item["DiscountAmount"] = .number(discount.decimalString) }
        }
        if let tax = line.taxCode {
            item["TaxType"] = .string(try mapped(.taxCode, tax, in: mappings))
            // Billing's tax on the line, so Xero's totals are billing's to the cent whatever its own rounding.
            if let amount = line.taxAmount { item["TaxAmount"] = .number(amount.decimalString) }
        } else {
            item["TaxType"] = "NONE"
        }
        if let course = line.courseID, let code = mappings.remoteID(.item, for: course) {
            item["ItemCode"] = .string(code)
        }
        return item
    }

    /// A payment of one invoice into the mapped bank account, marked with billing's id in its `Reference`.
    private static func payment(_ payment: Payment, _ request: PushRequest) throws(ConnectorError) -> Object {
        guard payment.allocations.count == 1, let allocation = payment.allocations.first else {
            throw .validation(
                code: "payment_allocations",
                message: "Xero takes a payment against one invoice; billing's payment \(request.localID) is "
                    + "allocated to \(payment.allocations.count) invoices")
        }
        return [
            "Invoice": ["InvoiceID": .string(try reference(request, .invoice, allocation.invoiceID.rawValue))],
            "Account": ["Code": .string(try mapped(.depositAccount, payment.depositAccount, in: request.mappings))],
            "Date": .string(String(payment.receivedAt.rfc3339.prefix(10))),
            "Amount": .number(allocation.amount.decimalString),
            "Reference": .string(reference(marker(request), payment.reference)),
        ]
    }

    /// A refund: a payment out of the mapped bank account against the credit note it refunds.
    private static func refund(_ refund: Refund, _ request: PushRequest) throws(ConnectorError) -> Object {
        guard let creditNote = refund.creditNoteID else {
            throw .validation(
                code: "refund_without_credit_note",
                message: "Xero refunds a credit note; billing's refund \(request.localID) names none")
        }
        return [
            "CreditNote": ["CreditNoteID": .string(try reference(request, .creditNote, creditNote.rawValue))],
            "Account": ["Code": .string(try mapped(.depositAccount, refund.depositAccount, in: request.mappings))],
            "Date": .string(String(refund.refundedAt.rfc3339.prefix(10))),
            "Amount": .number(refund.amount.decimalString),
            "Reference": .string(reference(marker(request), refund.reference)),
        ]
    }

    /// A payment's `Reference`: Ledgerwire's marker, then billing's reference.
    private static func reference(_ marker: String, _ reference: String?) -> String {
        guard let reference, !reference.isEmpty else { return marker }
        return String("\(marker) · \(reference)".prefix(255))
    }

    /// The platform id of a record this one refers to, which the engine put in `references` before the push.
    static func reference(_ request: PushRequest, _ type: RecordType, _ id: String) throws(ConnectorError) -> String {
        guard let remote = request.references[RecordReference(type, id)] else {
            throw .validation(code: "missing_reference", message: "the \(type.rawValue) \(id) is not in Xero yet")
        }
        return remote
    }

    private static func mapped(_ kind: CodeMappings.Kind, _ code: String, in mappings: CodeMappings)
        throws(ConnectorError) -> String
    {
        guard let remoteID = mappings.remoteID(kind, for: code) else {
            throw .missingMapping([CodeMappings.Missing(kind, code)])
        }
        return remoteID
    }

    // MARK: Xero → billing

    /// An object as a canonical record: billing's field names, Xero's ids in its references. `nil` for what is not
    /// Ledgerwire's (a bill, a supplier credit, a payment of either).
    static func remoteRecord(_ recordType: RecordType, _ object: JSONValue) -> RemoteRecord? {
        guard let id = object[idField(recordType)]?.stringValue, isOurs(recordType, object) else { return nil }
        let updated = object["UpdatedDateUTC"]?.stringValue
        let status = object["Status"]?.stringValue ?? object["ContactStatus"]?.stringValue
        let deleted = status == "DELETED"
        return RemoteRecord(
            recordType: recordType, remoteID: id, remoteVersion: updated,
            updatedAt: updated.flatMap(XeroTime.parse) ?? Timestamp(microsecondsSinceEpoch: 0), deleted: deleted,
            data: deleted ? ["id": .string(id)] : canonical(recordType, object))
    }

    /// Whether an object is one of the records Ledgerwire syncs: sales documents and their payments, not bills.
    static func isOurs(_ recordType: RecordType, _ object: JSONValue) -> Bool {
        switch recordType {
        case .customer: true
        case .invoice: object["Type"]?.stringValue == "ACCREC"
        case .creditNote: object["Type"]?.stringValue == "ACCRECCREDIT"
        case .payment: object["PaymentType"]?.stringValue.map { $0 == "ACCRECPAYMENT" } ?? true
        case .refund: object["PaymentType"]?.stringValue.map { $0 == "ARCREDITPAYMENT" } ?? true
        }
    }

    static func canonical(_ recordType: RecordType, _ object: JSONValue) -> JSONValue {
        var data: Object = ["id": object[idField(recordType)] ?? .null]
        func amount(_ key: String) -> JSONValue? { object[key].flatMap(decimal) }
        func day(_ key: String) -> JSONValue? { object[key]?.stringValue.flatMap(XeroTime.day).map(JSONValue.string) }
        switch recordType {
        case .customer:
            data["name"] = object["Name"]
            data["email"] = object["EmailAddress"]
            data["phone"] =
                object["Phones"]?.arrayValue?.first { $0["PhoneType"]?.stringValue == "DEFAULT" }?[
                    "PhoneNumber"]
            data["currency"] = object["DefaultCurrency"]
            data["number"] = object["ContactNumber"]
            data["active"] = object["ContactStatus"].map { .bool($0.stringValue == "ACTIVE") }
        case .invoice, .creditNote:
            data["number"] = object[recordType == .invoice ? "InvoiceNumber" : "CreditNoteNumber"]
            data["customer_id"] = object["Contact"]?["ContactID"]
            data["currency"] = object["CurrencyCode"]
            data["issue_date"] = day("Date")
            data["due_date"] = day("DueDate")
            data["subtotal"] = amount("SubTotal")
            data["tax_total"] = amount("TotalTax")
            data["total"] = amount("Total")
            data["balance"] = amount(recordType == .invoice ? "AmountDue" : "RemainingCredit")
            data["status"] = object["Status"]
            var lines: [JSONValue] = []
            for line in object["LineItems"]?.arrayValue ?? [] {
                lines.append(
                    JSONValue.object(
                        [
                            "description": line["Description"], "quantity": line["Quantity"].flatMap(decimal),
                            "unit_amount": line["UnitAmount"].flatMap(decimal),
                            "amount": line["LineAmount"].flatMap(decimal),
                            "discount_amount": line["DiscountAmount"].flatMap(decimal),
                            "tax_amount": line["TaxAmount"].flatMap(decimal), "account_code": line["AccountCode"],
                            "tax_type": line["TaxType"], "item_code": line["ItemCode"],
                        ].compactMapValues { $0 }))
            }
            data["lines"] = .array(lines)
            if object["Status"]?.stringValue == "VOIDED" { data["voided"] = true }
        case .payment, .refund:
            data["customer_id"] = (object["Invoice"] ?? object["CreditNote"])?["Contact"]?["ContactID"]
            data["currency"] = (object["Invoice"] ?? object["CreditNote"])?["CurrencyCode"]
            data["amount"] = amount("Amount")
            data["received_at"] = day("Date")
            data["reference"] = object["Reference"]
            data["deposit_account_code"] = object["Account"]?["Code"]
            if let invoice = object["Invoice"]?["InvoiceID"] {
                data["allocations"] = [["invoice_id": invoice, "amount": amount("Amount") ?? .null]]
            }
            if let note = object["CreditNote"]?["CreditNoteID"] { data["credit_note_id"] = note }
        }
        return .object(data.filter { $0.value != .null })
    }

    /// A Xero amount as billing writes amounts: a decimal string.
    static func decimal(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .number(let text), .string(let text): .string(text)
        default: nil
        }
    }
}

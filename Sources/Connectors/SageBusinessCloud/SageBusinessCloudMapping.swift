import Accounting
import Crypto
import Foundation

/// Billing's canonical records as Sage Business Cloud Accounting entities, and Sage's as canonical records.
///
/// Field names are the v3.1 spec's (`postContacts`, `postSalesInvoices`, `postContactPayments`, …). Sage numbers its
/// own invoices and credit notes, so billing's number goes in `reference` (API.md, "Sage specifics"); mappings hold
/// Sage's ids (ledger accounts, tax rates, bank accounts, services). Amounts go as JSON numbers written from billing's
/// decimal strings, so nothing is rounded on the way.
enum SageBusinessCloudMapping {
    typealias Object = [String: JSONValue]

    /// Sage's resource and the singular key its writes are wrapped in.
    static func resource(_ recordType: RecordType) -> (plural: String, singular: String) {
        switch recordType {
        case .customer: ("contacts", "contact")
        case .invoice: ("sales_invoices", "sales_invoice")
        case .creditNote: ("sales_credit_notes", "sales_credit_note")
        case .payment, .refund: ("contact_payments", "contact_payment")
        }
    }

    /// The `reference` Ledgerwire writes on a payment or refund (which have no number of their own): how one whose
    /// create had an uncertain outcome is recognised afterwards. `LW` and 20 hex digits of billing's id: short, since
    /// Sage's spec gives references no length and billing's ids can be long.
    static func marker(_ request: PushRequest) -> String {
        let digest = SHA256.hash(data: Data("\(request.recordType.rawValue) \(request.localID)".utf8))
        return "LW" + digest.prefix(10).hexString
    }

    /// The name of a contact whose name another contact (of another billing customer) holds: the name, then
    /// billing's id.
    static func distinctName(_ name: String, localID: String) -> String { "\(name) (\(localID))" }

    // MARK: Billing → Sage

    /// The entity for a create or an update. Every code the record needs is mapped and every record it refers to is
    /// in the books: the engine parks the job or holds it until they are.
    static func entity(for request: PushRequest) throws(ConnectorError) -> Object {
        switch request.record {
        case .customer(let customer):
            var object = contact(customer, localID: request.localID)
            if request.notAdoptable.contains(where: { $0.matchedBy == "name" }) {
                object["name"] = .string(distinctName(customer.name, localID: request.localID))
            }
            return object
        case .invoice(let invoice):
            var object = try document(
                request, customerID: invoice.customerID, number: invoice.number, currency: invoice.currency,
                exchangeRate: invoice.exchangeRate, date: invoice.issueDate, lines: invoice.lines,
                linesKey: "invoice_lines")
            object["due_date"] = .string((invoice.dueDate ?? invoice.issueDate).description)
            return object
        case .creditNote(let note):
            var object = try document(
                request, customerID: note.customerID, number: note.number, currency: note.currency,
                exchangeRate: nil, date: note.issueDate, lines: note.lines, linesKey: "credit_note_lines")
            if let reason = note.reason { object["notes"] = .string(reason) }
            return object
        case .payment(let payment):
            guard !payment.allocations.isEmpty else {
                throw .validation(
                    code: "payment_allocations",
                    message: "billing's payment \(request.localID) is allocated to no invoice: Sage's receipt needs one"
                )
            }
            var allocations: [JSONValue] = []
            for allocation in payment.allocations {
                allocations.append([
                    "artefact_id": .string(try reference(request, .invoice, allocation.invoiceID.rawValue)),
                    "amount": .number(allocation.amount.decimalString),
                ])
            }
            return [
                "transaction_type_id": "CUSTOMER_RECEIPT",
                "contact_id": .string(try reference(request, .customer, payment.customerID.rawValue)),
                "bank_account_id": .string(try mapped(.depositAccount, payment.depositAccount, in: request.mappings)),
                "date": .string(String(payment.receivedAt.rfc3339.prefix(10))),
                "total_amount": .number(payment.amount.decimalString),
                "reference": .string(marker(request)),
                "allocated_artefacts": .array(allocations),
            ]
        case .refund(let refund):
            guard let creditNote = refund.creditNoteID else {
                throw .validation(
                    code: "refund_without_credit_note",
                    message:
                        "Sage refunds a credit note (CUSTOMER_REFUND); billing's refund \(request.localID) names none")
            }
            return [
                "transaction_type_id": "CUSTOMER_REFUND",
                "contact_id": .string(try reference(request, .customer, refund.customerID.rawValue)),
                "bank_account_id": .string(try mapped(.depositAccount, refund.depositAccount, in: request.mappings)),
                "date": .string(String(refund.refundedAt.rfc3339.prefix(10))),
                "total_amount": .number(refund.amount.decimalString),
                "reference": .string(marker(request)),
                "allocated_artefacts": [
                    [
                        "artefact_id": .string(try reference(request, .creditNote, creditNote.rawValue)),
                        "amount": .number(refund.amount.decimalString),
                    ]
                ],
            ]
        }
    }

    /// A customer contact: billing's id as its `reference` (how Ledgerwire finds its own), the email and phone on
    /// its main contact person, its address and currency. Nothing is cut: a field Sage finds too long is refused
    /// there, in its words.
    static func contact(_ customer: Customer, localID: String) -> Object {
        var object: Object = [
            "name": .string(customer.name), "contact_type_ids": ["CUSTOMER"],
            "reference": .string(localID),
        ]
        var person: Object = [:]
        if let email = customer.email { person["email"] = .string(email) }
        if let phone = customer.phone { person["telephone"] = .string(phone) }
        if !person.isEmpty { object["main_contact_person"] = .object(person) }
        if let taxID = customer.taxID { object["tax_number"] = .string(taxID) }
        if let currency = customer.currency { object["currency_id"] = .string(currency.code) }
        if let address = customer.billingAddress {
            var main: Object = [
                "address_line_1": .string(address.line1),
                "city": .string(address.city),
            ]
            if let line2 = address.line2 { main["address_line_2"] = .string(line2) }
            if let region = address.region { main["region"] = .string(region) }
            if let postalCode = address.postalCode { main["postal_code"] = .string(postalCode) }
            // Sage takes a country by its two-letter id.
            if address.country.utf8.count == 2 { main["country_id"] = .string(address.country.uppercased()) }
            object["main_address"] = .object(main)
        }
        return object
    }

    /// A sales invoice or credit note, issued (not a draft): the contact, the date, billing's number in `reference`,
    /// the currency and its rate, one line per billing line with its mapped ledger account and tax rate, and
    /// billing's tax on each line so Sage's totals are billing's to the cent.
    private static func document(
        _ request: PushRequest, customerID: Customer.ID, number: String, currency: Currency,
        exchangeRate: ScaledDecimal?, date: LocalDate, lines: [DocumentLine], linesKey: String
    ) throws(ConnectorError) -> Object {
        // Sage's spec gives `reference` no length: a number Sage finds too long is refused there (422), in its words.
        var object: Object = [
            "contact_id": .string(try reference(request, .customer, customerID.rawValue)),
            "date": .string(date.description), "reference": .string(number),
            "currency_id": .string(currency.code),
        ]
        if let exchangeRate { object["exchange_rate"] = .number(try self.exchangeRate(exchangeRate)) }
        var items: [JSONValue] = []
        for line in lines {
            var item: Object = [
                "description": .string(line.description),
                "ledger_account_id": .string(try mapped(.account, line.revenueAccount, in: request.mappings)),
                "quantity": .number(line.quantity.description),
                "unit_price": .number(line.unitAmount.decimalString),
            ]
            if let discount = line.discountAmount { item["discount_amount"] = .number(discount.decimalString) }
            if let tax = line.taxCode {
                item["tax_rate_id"] = .string(try mapped(.taxCode, tax, in: request.mappings))
            }
            // Billing's tax on the line (none without a tax code), so Sage's total is billing's whatever its rounding.
            item["tax_amount"] = .number(line.taxAmount?.decimalString ?? "0")
            if let course = line.courseID, let service = request.mappings.remoteID(.item, for: course) {
                item["service_id"] = .string(service)
            }
            items.append(.object(item))
        }
        object[linesKey] = .array(items)
        return object
    }

    /// Sage's `exchange_rate`: units of the document's currency one unit of the business's currency buys (Sage
    /// keeps its inverse beside it, `inverse_exchange_rate`) — the inverse of billing's `exchange_rate` (home currency
    /// per unit of the document's; API.md, "Settled for every platform") — to Sage's six decimals.
    static func exchangeRate(_ exchangeRate: ScaledDecimal) throws(ConnectorError) -> String {
        guard let rate = Decimal(string: exchangeRate.description), rate > 0 else {
            throw .validation(
                code: "invalid_exchange_rate", message: "billing's exchange_rate \(exchangeRate) is not above zero")
        }
        var inverse = 1 / rate
        var rounded = Decimal()
        NSDecimalRound(&rounded, &inverse, 6, .plain)
        guard rounded > 0, rounded < 1_000_000 else {
            throw .validation(
                code: "invalid_exchange_rate",
                message: "billing's exchange_rate \(exchangeRate) is beyond what Sage's exchange_rate (six decimals) "
                    + "holds")
        }
        return "\(rounded)"
    }

    /// The platform id of a record this one refers to, which the engine put in `references` before the push.
    static func reference(_ request: PushRequest, _ type: RecordType, _ id: String) throws(ConnectorError) -> String {
        guard let remote = request.references[RecordReference(type, id)] else {
            throw .validation(code: "missing_reference", message: "the \(type.rawValue) \(id) is not in Sage yet")
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

    // MARK: Sage → billing

    /// A record type of a contact payment: a receipt is a payment, a refund a refund; a vendor's is not ours.
    static func paymentType(_ object: JSONValue) -> RecordType? {
        switch object["transaction_type"]?["id"]?.stringValue {
        case "CUSTOMER_RECEIPT": .payment
        case "CUSTOMER_REFUND": .refund
        default: nil
        }
    }

    /// An entity as a canonical record: billing's field names, Sage's ids in its references; its version is its
    /// `updated_at`.
    static func remoteRecord(_ recordType: RecordType, _ object: JSONValue) -> RemoteRecord? {
        guard let id = object["id"]?.stringValue else { return nil }
        if [.payment, .refund].contains(recordType), let type = paymentType(object), type != recordType { return nil }
        let updated = object["updated_at"]?.stringValue
        return RemoteRecord(
            recordType: recordType, remoteID: id, remoteVersion: updated,
            updatedAt: SageTime.timestamp(updated) ?? Timestamp(microsecondsSinceEpoch: 0), deleted: false,
            data: canonical(recordType, object))
    }

    /// A record Sage reports deleted (`deleted_since`).
    static func deletedRecord(_ recordType: RecordType, _ object: JSONValue) -> RemoteRecord? {
        guard let id = object["id"]?.stringValue else { return nil }
        let at = object["deleted_at"]?.stringValue
        return RemoteRecord(
            recordType: recordType, remoteID: id, remoteVersion: at.map { "deleted " + $0 },
            updatedAt: SageTime.timestamp(at) ?? Timestamp(microsecondsSinceEpoch: 0), deleted: true,
            data: ["id": .string(id)])
    }

    static func canonical(_ recordType: RecordType, _ object: JSONValue) -> JSONValue {
        var data: Object = ["id": object["id"] ?? .null]
        func amount(_ value: JSONValue?) -> JSONValue? { value.flatMap(decimal) }
        switch recordType {
        case .customer:
            data["name"] = object["name"]
            data["email"] = object["main_contact_person"]?["email"] ?? object["email"]
            data["phone"] = object["main_contact_person"]?["telephone"]
            data["currency"] = object["currency"]?["id"]
            data["number"] = object["reference"]
        case .invoice, .creditNote:
            data["number"] = object["reference"]
            data["customer_id"] = object["contact"]?["id"]
            data["currency"] = object["currency"]?["id"]
            data["issue_date"] = object["date"]
            data["due_date"] = object["due_date"]
            data["subtotal"] = amount(object["net_amount"])
            data["tax_total"] = amount(object["tax_amount"])
            data["total"] = amount(object["total_amount"])
            data["balance"] = amount(object["outstanding_amount"])
            data["status"] = object["status"]?["id"]
            let key = recordType == .invoice ? "invoice_lines" : "credit_note_lines"
            var lines: [JSONValue] = []
            for line in (object[key]?.arrayValue ?? []).prefix(1000) {
                lines.append(
                    JSONValue.object(
                        [
                            "description": line["description"], "quantity": amount(line["quantity"]),
                            "unit_amount": amount(line["unit_price"]), "amount": amount(line["net_amount"]),
                            "discount_amount": amount(line["discount_amount"]),
                            "tax_amount": amount(line["tax_amount"]), "account_code": line["ledger_account"]?["id"],
                            "tax_type": line["tax_rate"]?["id"], "item_code": line["service"]?["id"],
                        ].compactMapValues { $0 }))
            }
            data["lines"] = .array(lines)
            if object["status"]?["id"]?.stringValue == "VOID" { data["voided"] = true }
        case .payment, .refund:
            data["customer_id"] = object["contact"]?["id"]
            data["currency"] = object["currency"]?["id"]
            data["amount"] = amount(object["total_amount"])
            data["received_at"] = object["date"]
            data["reference"] = object["reference"]
            data["deposit_account_code"] = object["bank_account"]?["id"]
            let allocated = (object["allocated_artefacts"]?.arrayValue ?? []).prefix(500)
            if recordType == .payment {
                data["allocations"] = .array(
                    allocated.compactMap { allocation -> JSONValue? in
                        guard let id = allocation["artefact"]?["id"] else { return nil }
                        return ["invoice_id": id, "amount": amount(allocation["amount"]) ?? .null]
                    })
            } else if let note = allocated.first?["artefact"]?["id"] {
                data["credit_note_id"] = note
            }
        }
        return .object(data.filter { $0.value != .null })
    }

    /// A Sage amount as billing writes amounts: a decimal string.
    static func decimal(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .number(let text), .string(let text): .string(text)
        default: nil
        }
    }
}

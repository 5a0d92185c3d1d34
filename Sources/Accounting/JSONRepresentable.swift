/// A value with a canonical JSON form: billing's wire shape, snake_case, amounts as decimal strings.
///
/// Canonical records and their versions are stored in this form, so what billing sent and what
/// Ledgerwire keeps read the same.
public protocol JSONRepresentable {
    var json: JSONValue { get }
}

extension JSONValue {
    /// An object without its `null` members: optional fields that are absent are left out.
    static func compactObject(_ members: [String: JSONValue?]) -> JSONValue {
        .object(members.compactMapValues { $0 })
    }
}

extension Optional where Wrapped == String {
    var json: JSONValue? { map(JSONValue.string) }
}

extension Money {
    var json: JSONValue { .string(decimalString) }
}

extension Address: JSONRepresentable {
    public var json: JSONValue {
        .compactObject([
            "line1": .string(line1), "line2": line2.json, "city": .string(city), "region": region.json,
            "postal_code": postalCode.json, "country": .string(country),
        ])
    }
}

extension Customer: JSONRepresentable {
    public var json: JSONValue {
        .compactObject([
            "id": .string(id.rawValue), "name": .string(name), "email": email.json, "phone": phone.json,
            "billing_address": billingAddress?.json, "tax_id": taxID.json,
            "currency": currency.map { .string($0.code) },
            "updated_at": .string(updatedAt.rfc3339),
        ])
    }
}

extension DocumentLine: JSONRepresentable {
    public var json: JSONValue {
        .compactObject([
            "id": .string(id.rawValue), "description": .string(description), "course_id": courseID.json,
            "quantity": .number(quantity.description), "unit_amount": unitAmount.json,
            "discount_amount": discountAmount?.json, "amount": amount.json, "revenue_account": .string(revenueAccount),
            "tax_code": taxCode.json, "tax_amount": taxAmount?.json,
        ])
    }
}

extension Invoice: JSONRepresentable {
    public var json: JSONValue {
        .compactObject([
            "id": .string(id.rawValue), "number": .string(number), "customer_id": .string(customerID.rawValue),
            "customer": customer?.json, "currency": .string(currency.code),
            "exchange_rate": exchangeRate.map { .string($0.description) }, "issue_date": .string(issueDate.description),
            "due_date": dueDate.map { .string($0.description) }, "lines": .array(lines.map(\.json)),
            "subtotal": subtotal.json, "tax_total": taxTotal.json, "total": total.json,
            "status": "issued", "updated_at": .string(updatedAt.rfc3339),
        ])
    }
}

extension InvoiceVoid: JSONRepresentable {
    public var json: JSONValue {
        .compactObject([
            "id": .string(id.rawValue), "number": .string(number), "void_reason": reason.json, "status": "voided",
            "updated_at": .string(updatedAt.rfc3339),
        ])
    }
}

extension Payment: JSONRepresentable {
    public var json: JSONValue {
        .compactObject([
            "id": .string(id.rawValue), "customer_id": .string(customerID.rawValue), "currency": .string(currency.code),
            "amount": amount.json, "received_at": .string(receivedAt.rfc3339), "method": .string(method),
            "reference": reference.json, "deposit_account": .string(depositAccount),
            "allocations": .array(
                allocations.map { .object(["invoice_id": .string($0.invoiceID.rawValue), "amount": $0.amount.json]) }
            ),
            "updated_at": .string(updatedAt.rfc3339),
        ])
    }
}

extension CreditNote: JSONRepresentable {
    public var json: JSONValue {
        .compactObject([
            "id": .string(id.rawValue), "number": .string(number), "customer_id": .string(customerID.rawValue),
            "invoice_id": invoiceID.map { .string($0.rawValue) }, "currency": .string(currency.code),
            "issue_date": .string(issueDate.description), "lines": .array(lines.map(\.json)),
            "subtotal": subtotal.json, "tax_total": taxTotal.json, "total": total.json, "reason": reason.json,
            "updated_at": .string(updatedAt.rfc3339),
        ])
    }
}

extension Refund: JSONRepresentable {
    public var json: JSONValue {
        .compactObject([
            "id": .string(id.rawValue), "customer_id": .string(customerID.rawValue), "currency": .string(currency.code),
            "amount": amount.json, "refunded_at": .string(refundedAt.rfc3339), "method": .string(method),
            "reference": reference.json, "payment_id": paymentID.map { .string($0.rawValue) },
            "credit_note_id": creditNoteID.map { .string($0.rawValue) }, "deposit_account": .string(depositAccount),
            "updated_at": .string(updatedAt.rfc3339),
        ])
    }
}

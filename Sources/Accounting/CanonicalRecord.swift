/// One of billing's records, typed: what the engine decodes once from the stored canonical JSON when it claims a job,
/// and what a connector maps to its platform's entities (no connector reads billing's fields by name).
public enum CanonicalRecord: Hashable, Sendable {
    case customer(Customer)
    /// An invoice; one billing voided keeps its fields (the job's action says it is a void).
    case invoice(Invoice)
    case payment(Payment)
    case creditNote(CreditNote)
    case refund(Refund)

    public var recordType: RecordType {
        switch self {
        case .customer: .customer
        case .invoice: .invoice
        case .payment: .payment
        case .creditNote: .creditNote
        case .refund: .refund
        }
    }

    /// The canonical JSON it is stored as.
    public var json: JSONValue {
        switch self {
        case .customer(let customer): customer.json
        case .invoice(let invoice): invoice.json
        case .payment(let payment): payment.json
        case .creditNote(let note): note.json
        case .refund(let refund): refund.json
        }
    }

    /// The records it refers to, which must be in the books before it: an invoice's customer; a payment's customer
    /// and the invoices it is allocated to; a credit note's customer and invoice; a refund's customer and the payment
    /// or credit note it returns. In that order, without repeats (as `RecordReference.dependencies` reads them from
    /// the JSON).
    public var dependencies: [RecordReference] {
        var references: [RecordReference] = []
        func add(_ type: RecordType, _ id: String?) {
            guard let id, !id.isEmpty else { return }
            let reference = RecordReference(type, id)
            if !references.contains(reference) { references.append(reference) }
        }
        switch self {
        case .customer:
            break
        case .invoice(let invoice):
            add(.customer, invoice.customerID.rawValue)
        case .payment(let payment):
            add(.customer, payment.customerID.rawValue)
            for allocation in payment.allocations { add(.invoice, allocation.invoiceID.rawValue) }
        case .creditNote(let note):
            add(.customer, note.customerID.rawValue)
            add(.invoice, note.invoiceID?.rawValue)
        case .refund(let refund):
            add(.customer, refund.customerID.rawValue)
            add(.payment, refund.paymentID?.rawValue)
            add(.creditNote, refund.creditNoteID?.rawValue)
        }
        return references
    }

    /// A stored record that does not read as its type: every problem, by field.
    public struct DecodingError: Error, Hashable, Sendable, CustomStringConvertible {
        public var recordType: RecordType
        public var errors: [FieldError]

        public init(recordType: RecordType, errors: [FieldError]) {
            self.recordType = recordType
            self.errors = errors
        }

        public var description: String {
            "the stored \(recordType.rawValue) cannot be read: "
                + errors.map(\.description).joined(separator: "; ")
        }
    }
}

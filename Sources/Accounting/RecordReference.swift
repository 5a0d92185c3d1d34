/// A record named by billing's id: what another record refers to.
public struct RecordReference: Hashable, Sendable, CustomStringConvertible {
    public var recordType: RecordType
    public var localID: String

    public init(_ recordType: RecordType, _ localID: String) {
        self.recordType = recordType
        self.localID = localID
    }

    public var description: String { "\(recordType.rawValue) \(localID)" }

    /// The records a canonical record refers to, which must be in the books before it: an invoice's customer; a
    /// payment's customer and the invoices it is allocated to; a credit note's customer and invoice; a refund's
    /// customer and the payment or credit note it returns. In that order, without repeats.
    public static func dependencies(of recordType: RecordType, data: JSONValue) -> [RecordReference] {
        var references: [RecordReference] = []
        func add(_ type: RecordType, _ key: String, in object: JSONValue = data) {
            guard let id = object[key]?.stringValue, !id.isEmpty else { return }
            let reference = RecordReference(type, id)
            if !references.contains(reference) { references.append(reference) }
        }
        switch recordType {
        case .customer:
            break
        case .invoice:
            add(.customer, "customer_id")
        case .payment:
            add(.customer, "customer_id")
            for allocation in data["allocations"]?.arrayValue ?? [] { add(.invoice, "invoice_id", in: allocation) }
        case .creditNote:
            add(.customer, "customer_id")
            add(.invoice, "invoice_id")
        case .refund:
            add(.customer, "customer_id")
            add(.payment, "payment_id")
            add(.creditNote, "credit_note_id")
        }
        return references
    }
}

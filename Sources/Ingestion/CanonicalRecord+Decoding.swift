public import Accounting

extension CanonicalRecord {
    /// Decodes a stored canonical record of `recordType` (for a void: the record, marked void), the way billing's data
    /// is decoded on its way in: every field read, every problem reported.
    /// - Throws: the problems, each naming its field, when the JSON is not a record of that type.
    public init(recordType: RecordType, json: JSONValue) throws(DecodingError) {
        let diagnostics = Diagnostics()
        guard case .object(let members) = json else {
            throw DecodingError(
                recordType: recordType,
                errors: [FieldError(field: "data", message: "must be a JSON object, not \(json.typeDescription)")])
        }
        let data = FieldReader(members, path: "", diagnostics: diagnostics)
        let record: CanonicalRecord? =
            switch recordType {
            case .customer: BillingRecordDecoder.customer(data).map(CanonicalRecord.customer)
            case .invoice: BillingRecordDecoder.invoice(data).map(CanonicalRecord.invoice)
            case .payment: BillingRecordDecoder.payment(data).map(CanonicalRecord.payment)
            case .creditNote: BillingRecordDecoder.creditNote(data).map(CanonicalRecord.creditNote)
            case .refund: BillingRecordDecoder.refund(data).map(CanonicalRecord.refund)
            }
        guard let record, diagnostics.errors.isEmpty else {
            let errors = diagnostics.errors
            throw DecodingError(
                recordType: recordType,
                errors: errors.isEmpty
                    ? [FieldError(field: "data", message: "is not a \(recordType.rawValue)")] : errors)
        }
        self = record
    }
}

public import Accounting

/// A Cognify billing event, normalized: what it is, whose it is, and the commands it asks for.
public struct BillingEvent: Sendable {
    /// The event types of the contract (API.md, "Cognify billing events").
    public enum Kind: String, Sendable, CaseIterable {
        case customerCreated = "customer.created"
        case customerUpdated = "customer.updated"
        case invoiceIssued = "invoice.issued"
        case invoiceUpdated = "invoice.updated"
        case invoiceVoided = "invoice.voided"
        case paymentReceived = "payment.received"
        case creditNoteIssued = "credit_note.issued"
        case refundIssued = "refund.issued"
    }

    /// The event's `type`, when it is a string (even an unknown one), for the inbox.
    public var type: String?
    /// The tenant named by the event; `default` when it names none.
    public var tenantID: Tenant.ID?
    public var commands: [SyncCommand]
    /// Every problem found; the event is valid when there are none.
    public var errors: [FieldError]

    /// Decodes an event body. Never throws: problems are collected in `errors`, all at once.
    public init(json document: JSONValue) {
        let diagnostics = Diagnostics()
        commands = []
        guard case .object(let members) = document else {
            type = nil
            tenantID = nil
            errors = [FieldError(field: "body", message: "must be a JSON object, not \(document.typeDescription)")]
            return
        }
        let envelope = FieldReader(members, path: "", diagnostics: diagnostics)
        type = members["type"]?.stringValue
        let kind = envelope.string("type").flatMap { type -> Kind? in
            guard let kind = Kind(rawValue: type) else {
                let known = Kind.allCases.map(\.rawValue).joined(separator: ", ")
                diagnostics.add("type", "\"\(type)\" is not a billing event type (\(known))")
                return nil
            }
            return kind
        }
        _ = envelope.timestamp("timestamp")
        let tenant = envelope.optionalString("tenant_id").map(Tenant.ID.init) ?? Tenant.defaultID
        tenantID = tenant
        if let kind, let data = envelope.object("data") {
            commands = Self.commands(for: kind, data: data, tenant: tenant, diagnostics: diagnostics)
        }
        errors = diagnostics.errors
        if !errors.isEmpty { commands = [] }
    }

    private static func commands(
        for kind: Kind,
        data: FieldReader,
        tenant: Tenant.ID,
        diagnostics: Diagnostics
    ) -> [SyncCommand] {
        func command(
            _ type: RecordType, _ id: String, _ action: SyncCommand.Action, _ updatedAt: Timestamp, _ json: JSONValue
        )
            -> SyncCommand
        {
            SyncCommand(
                tenantID: tenant, recordType: type, localID: id, action: action, updatedAt: updatedAt, data: json)
        }
        switch kind {
        case .customerCreated, .customerUpdated:
            guard let customer = BillingRecordDecoder.customer(data) else { return [] }
            return [command(.customer, customer.id.rawValue, .upsert, customer.updatedAt, customer.json)]
        case .invoiceIssued, .invoiceUpdated:
            guard let invoice = BillingRecordDecoder.invoice(data) else { return [] }
            diagnostics.add(invoice.validationErrors(), under: "data")
            var commands: [SyncCommand] = []
            if let customer = invoice.customer {
                commands.append(command(.customer, customer.id.rawValue, .upsert, customer.updatedAt, customer.json))
            }
            commands.append(command(.invoice, invoice.id.rawValue, .upsert, invoice.updatedAt, invoice.json))
            return commands
        case .invoiceVoided:
            guard let void = BillingRecordDecoder.invoiceVoid(data) else { return [] }
            return [command(.invoice, void.id.rawValue, .void, void.updatedAt, void.json)]
        case .paymentReceived:
            guard let payment = BillingRecordDecoder.payment(data) else { return [] }
            diagnostics.add(payment.validationErrors(), under: "data")
            return [command(.payment, payment.id.rawValue, .upsert, payment.updatedAt, payment.json)]
        case .creditNoteIssued:
            guard let note = BillingRecordDecoder.creditNote(data) else { return [] }
            diagnostics.add(note.validationErrors(), under: "data")
            return [command(.creditNote, note.id.rawValue, .upsert, note.updatedAt, note.json)]
        case .refundIssued:
            guard let refund = BillingRecordDecoder.refund(data) else { return [] }
            diagnostics.add(refund.validationErrors(), under: "data")
            return [command(.refund, refund.id.rawValue, .upsert, refund.updatedAt, refund.json)]
        }
    }
}

/// A credit to a customer, usually against an invoice: a withdrawal, a scholarship, a correction.
public struct CreditNote: Hashable, Sendable {
    public typealias ID = Identifier<CreditNote>

    public var id: ID
    public var number: String
    public var customerID: Customer.ID
    public var invoiceID: Invoice.ID?
    public var currency: Currency
    public var issueDate: LocalDate
    public var lines: [DocumentLine]
    public var subtotal: Money
    public var taxTotal: Money
    public var total: Money
    public var reason: String?
    public var updatedAt: Timestamp

    public init(
        id: ID,
        number: String,
        customerID: Customer.ID,
        invoiceID: Invoice.ID? = nil,
        currency: Currency,
        issueDate: LocalDate,
        lines: [DocumentLine],
        subtotal: Money,
        taxTotal: Money,
        total: Money,
        reason: String? = nil,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.number = number
        self.customerID = customerID
        self.invoiceID = invoiceID
        self.currency = currency
        self.issueDate = issueDate
        self.lines = lines
        self.subtotal = subtotal
        self.taxTotal = taxTotal
        self.total = total
        self.reason = reason
        self.updatedAt = updatedAt
    }

    public func validationErrors() -> [FieldError] {
        DocumentLine.validate(lines: lines, subtotal: subtotal, taxTotal: taxTotal, total: total)
    }
}

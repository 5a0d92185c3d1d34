/// A bill to a customer: fees for courses, with tax.
public struct Invoice: Hashable, Sendable {
    public typealias ID = Identifier<Invoice>

    public var id: ID
    /// Billing's invoice number, which becomes the document number in the books.
    public var number: String
    public var customerID: Customer.ID
    /// The customer, when billing sends it along with the invoice.
    public var customer: Customer?
    public var currency: Currency
    /// Units of the books' home currency per one unit of `currency`, for multi-currency books.
    public var exchangeRate: ScaledDecimal?
    public var issueDate: LocalDate
    public var dueDate: LocalDate?
    public var lines: [DocumentLine]
    public var subtotal: Money
    public var taxTotal: Money
    public var total: Money
    public var updatedAt: Timestamp

    public init(
        id: ID,
        number: String,
        customerID: Customer.ID,
        customer: Customer? = nil,
        currency: Currency,
        exchangeRate: ScaledDecimal? = nil,
        issueDate: LocalDate,
        dueDate: LocalDate? = nil,
        lines: [DocumentLine],
        subtotal: Money,
        taxTotal: Money,
        total: Money,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.number = number
        self.customerID = customerID
        self.customer = customer
        self.currency = currency
        self.exchangeRate = exchangeRate
        self.issueDate = issueDate
        self.dueDate = dueDate
        self.lines = lines
        self.subtotal = subtotal
        self.taxTotal = taxTotal
        self.total = total
        self.updatedAt = updatedAt
    }

    /// The rules of the contract: line amounts, subtotal, tax total, total, dates.
    public func validationErrors() -> [FieldError] {
        var errors = DocumentLine.validate(lines: lines, subtotal: subtotal, taxTotal: taxTotal, total: total)
        if let dueDate, dueDate < issueDate {
            errors.append(FieldError(field: "due_date", message: "must not be before issue_date \(issueDate)"))
        }
        if let exchangeRate, exchangeRate.units <= 0 {
            errors.append(FieldError(field: "exchange_rate", message: "must be greater than zero"))
        }
        return errors
    }
}

/// Billing's notice that an invoice no longer stands.
public struct InvoiceVoid: Hashable, Sendable {
    public var id: Invoice.ID
    public var number: String
    public var reason: String?
    public var updatedAt: Timestamp

    public init(id: Invoice.ID, number: String, reason: String? = nil, updatedAt: Timestamp) {
        self.id = id
        self.number = number
        self.reason = reason
        self.updatedAt = updatedAt
    }
}

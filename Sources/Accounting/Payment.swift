/// Money received from a customer, allocated to invoices.
public struct Payment: Hashable, Sendable {
    public typealias ID = Identifier<Payment>

    public var id: ID
    public var customerID: Customer.ID
    public var currency: Currency
    public var amount: Money
    public var receivedAt: Timestamp
    /// How it was paid: `card`, `bank_transfer`, `upi`, `cash`, … (billing's words).
    public var method: String
    public var reference: String?
    /// Billing's deposit account code, mapped to a bank account per integration.
    public var depositAccount: String
    public var allocations: [Allocation]
    public var updatedAt: Timestamp

    /// The part of a payment that settles one invoice.
    public struct Allocation: Hashable, Sendable {
        public var invoiceID: Invoice.ID
        public var amount: Money

        public init(invoiceID: Invoice.ID, amount: Money) {
            self.invoiceID = invoiceID
            self.amount = amount
        }
    }

    public init(
        id: ID,
        customerID: Customer.ID,
        currency: Currency,
        amount: Money,
        receivedAt: Timestamp,
        method: String,
        reference: String? = nil,
        depositAccount: String,
        allocations: [Allocation],
        updatedAt: Timestamp
    ) {
        self.id = id
        self.customerID = customerID
        self.currency = currency
        self.amount = amount
        self.receivedAt = receivedAt
        self.method = method
        self.reference = reference
        self.depositAccount = depositAccount
        self.allocations = allocations
        self.updatedAt = updatedAt
    }

    /// A payment is positive; its allocations are positive, name each invoice once and do not exceed it.
    public func validationErrors() -> [FieldError] {
        var errors: [FieldError] = []
        if amount.minorUnits <= 0 {
            errors.append(FieldError(field: "amount", message: "must be greater than zero"))
        }
        var allocated = Money.zero(currency)
        var invoices: Set<Invoice.ID> = []
        for (position, allocation) in allocations.enumerated() {
            if allocation.amount.minorUnits <= 0 {
                errors.append(
                    FieldError(field: "allocations[\(position)].amount", message: "must be greater than zero"))
            }
            if !invoices.insert(allocation.invoiceID).inserted {
                errors.append(
                    FieldError(
                        field: "allocations[\(position)].invoice_id",
                        message: "invoice \"\(allocation.invoiceID)\" is allocated twice"
                    )
                )
            }
            if let next = allocated.adding(allocation.amount) {
                allocated = next
            } else {
                errors.append(
                    FieldError(
                        field: "allocations[\(position)].amount", message: "the sum of the allocations is too large"))
            }
        }
        if allocated.minorUnits > amount.minorUnits {
            errors.append(
                FieldError(
                    field: "allocations",
                    message: "allocate \(allocated.decimalString), more than the payment's \(amount.decimalString)"
                )
            )
        }
        return errors
    }
}

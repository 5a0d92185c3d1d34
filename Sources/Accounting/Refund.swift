/// Money paid back to a customer, against a payment or a credit note.
public struct Refund: Hashable, Sendable {
    public typealias ID = Identifier<Refund>

    public var id: ID
    public var customerID: Customer.ID
    public var currency: Currency
    public var amount: Money
    public var refundedAt: Timestamp
    public var method: String
    public var reference: String?
    public var paymentID: Payment.ID?
    public var creditNoteID: CreditNote.ID?
    public var depositAccount: String
    public var updatedAt: Timestamp

    public init(
        id: ID,
        customerID: Customer.ID,
        currency: Currency,
        amount: Money,
        refundedAt: Timestamp,
        method: String,
        reference: String? = nil,
        paymentID: Payment.ID? = nil,
        creditNoteID: CreditNote.ID? = nil,
        depositAccount: String,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.customerID = customerID
        self.currency = currency
        self.amount = amount
        self.refundedAt = refundedAt
        self.method = method
        self.reference = reference
        self.paymentID = paymentID
        self.creditNoteID = creditNoteID
        self.depositAccount = depositAccount
        self.updatedAt = updatedAt
    }

    public func validationErrors() -> [FieldError] {
        amount.minorUnits > 0 ? [] : [FieldError(field: "amount", message: "must be greater than zero")]
    }
}

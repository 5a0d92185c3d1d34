/// A line of an invoice or a credit note.
public struct DocumentLine: Hashable, Sendable {
    public typealias ID = Identifier<DocumentLine>

    public var id: ID
    public var description: String
    public var courseID: String?
    public var quantity: ScaledDecimal
    public var unitAmount: Money
    public var discountAmount: Money?
    /// quantity × unit_amount − discount, in minor units.
    public var amount: Money
    /// Billing's revenue account code, mapped to an income account per integration.
    public var revenueAccount: String
    /// Billing's tax code, mapped to a tax code per integration.
    public var taxCode: String?
    public var taxAmount: Money?

    public init(
        id: ID,
        description: String,
        courseID: String? = nil,
        quantity: ScaledDecimal,
        unitAmount: Money,
        discountAmount: Money? = nil,
        amount: Money,
        revenueAccount: String,
        taxCode: String? = nil,
        taxAmount: Money? = nil
    ) {
        self.id = id
        self.description = description
        self.courseID = courseID
        self.quantity = quantity
        self.unitAmount = unitAmount
        self.discountAmount = discountAmount
        self.amount = amount
        self.revenueAccount = revenueAccount
        self.taxCode = taxCode
        self.taxAmount = taxAmount
    }

    /// quantity × unit_amount, rounded half away from zero to the minor unit, or `nil` on overflow.
    ///
    /// Fractional quantities (1.5 terms, 0.333 of a fee) can give a fraction of a minor unit; billing rounds
    /// those half away from zero, as schools' invoices do, so the same rule decides whether `amount` is right.
    public var extendedAmount: Money? {
        let (product, overflow) = quantity.units.multipliedReportingOverflow(by: unitAmount.minorUnits)
        guard !overflow else { return nil }
        var divisor: Int64 = 1
        for _ in 0..<quantity.scale { divisor *= 10 }
        var quotient = product / divisor
        let remainder = product % divisor
        if remainder.magnitude * 2 >= divisor.magnitude { quotient += product < 0 ? -1 : 1 }
        return Money(minorUnits: quotient, currency: unitAmount.currency)
    }

    /// The contract's sums for a document: each line's amount, the subtotal, the tax total and the total.
    public static func validate(lines: [DocumentLine], subtotal: Money, taxTotal: Money, total: Money) -> [FieldError] {
        var errors: [FieldError] = []
        if lines.isEmpty {
            errors.append(FieldError(field: "lines", message: "must have at least one line"))
        }
        var seenIDs: Set<ID> = []
        var sum = Money.zero(subtotal.currency)
        var taxSum = Money.zero(taxTotal.currency)
        var anyTax = false
        for (position, line) in lines.enumerated() {
            let path = "lines[\(position)]"
            if !seenIDs.insert(line.id).inserted {
                errors.append(FieldError(field: "\(path).id", message: "\"\(line.id)\" is used by an earlier line"))
            }
            if line.quantity.units <= 0 {
                errors.append(FieldError(field: "\(path).quantity", message: "must be greater than zero"))
            }
            if line.unitAmount.isNegative {
                errors.append(FieldError(field: "\(path).unit_amount", message: "must not be negative"))
            }
            if let discount = line.discountAmount, discount.isNegative {
                errors.append(FieldError(field: "\(path).discount_amount", message: "must not be negative"))
            }
            if let tax = line.taxAmount {
                anyTax = true
                if tax.isNegative {
                    errors.append(FieldError(field: "\(path).tax_amount", message: "must not be negative"))
                }
                if let next = taxSum.adding(tax) {
                    taxSum = next
                } else {
                    errors.append(
                        FieldError(field: "\(path).tax_amount", message: "the sum of the lines' tax is too large"))
                }
            }
            if let extended = line.extendedAmount,
                let expected = extended.subtracting(line.discountAmount ?? .zero(extended.currency))
            {
                if expected != line.amount {
                    errors.append(
                        FieldError(
                            field: "\(path).amount",
                            message: "is \(line.amount.decimalString) but quantity × unit_amount − discount_amount "
                                + "is \(expected.decimalString)"
                        )
                    )
                }
            } else {
                errors.append(FieldError(field: "\(path).amount", message: "quantity × unit_amount is too large"))
            }
            guard let next = sum.adding(line.amount) else {
                errors.append(FieldError(field: "\(path).amount", message: "the sum of the lines is too large"))
                continue
            }
            sum = next
        }
        if sum != subtotal {
            errors.append(
                FieldError(
                    field: "subtotal",
                    message: "is \(subtotal.decimalString) but the lines' amounts add up to \(sum.decimalString)"
                )
            )
        }
        if anyTax, taxSum != taxTotal {
            errors.append(
                FieldError(
                    field: "tax_total",
                    message: "is \(taxTotal.decimalString) but the lines' tax_amount add up to \(taxSum.decimalString)"
                )
            )
        }
        if taxTotal.isNegative {
            errors.append(FieldError(field: "tax_total", message: "must not be negative"))
        }
        if let expectedTotal = subtotal.adding(taxTotal) {
            if expectedTotal != total {
                errors.append(
                    FieldError(
                        field: "total",
                        message: "is \(total.decimalString) but subtotal + tax_total is \(expectedTotal.decimalString)"
                    )
                )
            }
        } else {
            errors.append(FieldError(field: "total", message: "subtotal + tax_total is too large"))
        }
        return errors
    }
}

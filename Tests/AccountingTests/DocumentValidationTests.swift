import Accounting
import Testing

@Suite struct DocumentValidationTests {
    let gbp = Currency(code: "GBP")!

    func money(_ text: String) -> Money { try! Money(parsing: text, currency: gbp) }

    func line(_ quantity: String, _ unit: String, discount: String? = nil, amount: String, tax: String? = nil)
        -> DocumentLine
    {
        DocumentLine(
            id: .init("l\(quantity)\(unit)"),
            description: "fee",
            quantity: try! ScaledDecimal(parsing: quantity, maximumFractionDigits: 6),
            unitAmount: money(unit),
            discountAmount: discount.map(money),
            amount: money(amount),
            revenueAccount: "4000",
            taxAmount: tax.map(money)
        )
    }

    @Test func acceptsConsistentSums() {
        let lines = [
            line("1", "6250.00", amount: "6250.00", tax: "1250.00"), line("2", "45.50", amount: "91.00", tax: "18.20"),
        ]
        let errors = DocumentLine.validate(
            lines: lines,
            subtotal: money("6341.00"),
            taxTotal: money("1268.20"),
            total: money("7609.20")
        )
        #expect(errors.isEmpty)
    }

    @Test func namesEachBrokenSum() {
        let lines = [line("3", "1500.00", discount: "500.00", amount: "4500.00")]
        let errors = DocumentLine.validate(
            lines: lines,
            subtotal: money("4000.00"),
            taxTotal: money("0.00"),
            total: money("4000.01")
        )
        #expect(errors.map(\.field) == ["lines[0].amount", "subtotal", "total"])
        #expect(errors[0].message.contains("4000.00"))
    }

    @Test func roundsFractionalQuantitiesHalfAwayFromZero() {
        // 1.5 × 33.33 = 49.995 → 50.00
        let rounded = line("1.5", "33.33", amount: "50.00")
        #expect(rounded.extendedAmount == money("50.00"))
        let errors = DocumentLine.validate(
            lines: [rounded],
            subtotal: money("50.00"),
            taxTotal: money("0.00"),
            total: money("50.00")
        )
        #expect(errors.isEmpty)
    }

    @Test func taxTotalMustMatchTheLinesTax() {
        let errors = DocumentLine.validate(
            lines: [line("1", "100.00", amount: "100.00", tax: "20.00")],
            subtotal: money("100.00"),
            taxTotal: money("21.00"),
            total: money("121.00")
        )
        #expect(errors.map(\.field) == ["tax_total"])
    }

    @Test func paymentsCannotAllocateMoreThanTheyAre() {
        let payment = Payment(
            id: .init("p1"),
            customerID: .init("c1"),
            currency: gbp,
            amount: money("100.00"),
            receivedAt: Timestamp(secondsSinceEpoch: 0),
            method: "card",
            depositAccount: "1010",
            allocations: [
                .init(invoiceID: .init("i1"), amount: money("60.00")),
                .init(invoiceID: .init("i2"), amount: money("40.01")),
            ],
            updatedAt: Timestamp(secondsSinceEpoch: 0)
        )
        #expect(payment.validationErrors().map(\.field) == ["allocations"])
    }

    // 92,233,720,368,547,758.07 is the largest GBP amount 64 bits hold.
    @Test func sumsBeyondSixtyFourBitsAreNamedNotIgnored() {
        let huge = [
            line("1", "92233720368547758.00", amount: "92233720368547758.00", tax: "92233720368547758.00"),
            line("1", "92233720368547757.00", amount: "92233720368547757.00", tax: "92233720368547757.00"),
        ]
        let errors = DocumentLine.validate(
            lines: huge, subtotal: money("1.00"), taxTotal: money("1.00"), total: money("2.00"))
        #expect(errors.map(\.field).contains("lines[1].amount"))
        #expect(errors.map(\.field).contains("lines[1].tax_amount"))

        let totalOverflow = DocumentLine.validate(
            lines: [line("1", "92233720368547758.00", amount: "92233720368547758.00", tax: "1.00")],
            subtotal: money("92233720368547758.00"), taxTotal: money("1.00"), total: money("1.00"))
        #expect(totalOverflow.map(\.field) == ["total"])
        #expect(totalOverflow.first?.message == "subtotal + tax_total is too large")
    }

    @Test func allocationsBeyondSixtyFourBitsAreNamed() {
        let payment = Payment(
            id: .init("p1"), customerID: .init("c1"), currency: gbp, amount: money("100.00"),
            receivedAt: Timestamp(secondsSinceEpoch: 0), method: "card", depositAccount: "1010",
            allocations: [
                .init(invoiceID: .init("i1"), amount: money("92233720368547758.00")),
                .init(invoiceID: .init("i2"), amount: money("92233720368547758.00")),
            ],
            updatedAt: Timestamp(secondsSinceEpoch: 0))
        #expect(payment.validationErrors().map(\.field).contains("allocations[1].amount"))
    }

    @Test func instantsSaturateInsteadOfTrapping() {
        let late = Timestamp(secondsSinceEpoch: .max)
        #expect(late.microsecondsSinceEpoch == .max)
        #expect(Timestamp(secondsSinceEpoch: .min).microsecondsSinceEpoch == .min)
        #expect(Timestamp(secondsSinceEpoch: 0).adding(.seconds(Int64.max)).microsecondsSinceEpoch == .max)
        #expect(late.adding(.seconds(1)) == late)
        #expect(Duration.seconds(Int64.max).wholeMicroseconds == .max)
        #expect(!Timestamp(microsecondsSinceEpoch: .min).rfc3339.isEmpty)
        #expect(!late.rfc3339.isEmpty)
    }
}

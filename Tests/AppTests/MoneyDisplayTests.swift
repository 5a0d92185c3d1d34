import Accounting
import Testing

@testable import App

/// Money on the dashboard, as people who use each currency write it.
@Suite struct MoneyDisplayTests {
    @Test(arguments: [
        ("118000.00", "INR", "₹1,18,000.00"), ("12345678.5", "INR", "₹1,23,45,678.50"), ("999", "INR", "₹999.00"),
        ("1180", "GBP", "£1,180.00"), ("500", "JPY", "¥500"), ("1234567.89", "USD", "$1,234,567.89"),
        ("-500", "INR", "-₹500.00"), ("-12.5", "USD", "-$12.50"), ("10", "CHF", "CHF 10.00"),
        ("0.125", "KWD", "KWD 0.125"), ("1000", "EUR", "€1,000.00"),
    ])
    func amountsAreWrittenTheWayTheirCurrencysUsersWriteThem(amount: String, code: String, shown: String) throws {
        let currency = try #require(Currency(code: code))
        #expect(try Money(parsing: amount, currency: currency).displayed == shown)
    }
}

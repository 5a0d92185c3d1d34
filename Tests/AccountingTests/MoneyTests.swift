import Accounting
import Testing

@Suite struct MoneyTests {
    let inr = Currency(code: "INR")!
    let jpy = Currency(code: "JPY")!
    let kwd = Currency(code: "KWD")!

    @Test func parsesAmountsInTheCurrencysPrecision() throws {
        #expect(try Money(parsing: "1180.00", currency: inr).minorUnits == 118_000)
        #expect(try Money(parsing: "1180.5", currency: inr).minorUnits == 118_050)
        #expect(try Money(parsing: "0.07", currency: inr).minorUnits == 7)
        #expect(try Money(parsing: "-12.30", currency: inr).minorUnits == -1230)
        #expect(try Money(parsing: "500", currency: jpy).minorUnits == 500)
        #expect(try Money(parsing: "1.234", currency: kwd).minorUnits == 1234)
    }

    @Test func refusesMoreDecimalsThanTheMinorUnitHas() {
        #expect(throws: MoneyError.tooManyFractionDigits(currency: "INR", allowed: 2)) {
            try Money(parsing: "1180.005", currency: inr)
        }
        #expect(throws: MoneyError.tooManyFractionDigits(currency: "JPY", allowed: 0)) {
            try Money(parsing: "500.0", currency: jpy)
        }
    }

    @Test(arguments: ["", "1e3", "1,000.00", " 10.00", "10.", ".5", "+5", "12a", "--1", "0x10", "NaN"])
    func refusesAnythingButAPlainDecimal(_ text: String) {
        #expect(throws: MoneyError.notADecimal) { try Money(parsing: text, currency: inr) }
    }

    @Test func refusesAmountsBeyondSixtyFourBits() {
        #expect(throws: MoneyError.outOfRange) { try Money(parsing: "99999999999999999999", currency: inr) }
    }

    @Test func printsWithExactlyTheCurrencysDecimals() throws {
        #expect(try Money(parsing: "1180.5", currency: inr).decimalString == "1180.50")
        #expect(Money(minorUnits: 7, currency: inr).decimalString == "0.07")
        #expect(Money(minorUnits: -5, currency: inr).decimalString == "-0.05")
        #expect(Money(minorUnits: 65_800, currency: jpy).decimalString == "65800")
        #expect(Money(minorUnits: 1, currency: kwd).decimalString == "0.001")
    }

    @Test func knowsIsoExponentsAndRefusesUnknownCodes() {
        #expect(Currency(code: "GBP")?.minorUnitExponent == 2)
        #expect(Currency(code: "JPY")?.minorUnitExponent == 0)
        #expect(Currency(code: "BHD")?.minorUnitExponent == 3)
        #expect(Currency(code: "XYZ") == nil)
        #expect(Currency(code: "inr") == nil)
    }
}

@Suite struct DateTests {
    @Test func parsesCalendarDatesStrictly() {
        #expect(LocalDate(parsing: "2028-02-29")?.description == "2028-02-29")
        #expect(LocalDate(parsing: "2026-02-29") == nil)
        #expect(LocalDate(parsing: "2026-13-01") == nil)
        #expect(LocalDate(parsing: "2026-1-01") == nil)
        #expect(LocalDate(parsing: "2026-11-21T00:00:00Z") == nil)
    }

    @Test func parsesRfc3339InstantsExactly() throws {
        let utc = try #require(Timestamp(rfc3339: "2026-11-21T09:30:00Z"))
        let india = try #require(Timestamp(rfc3339: "2026-11-21T15:00:00+05:30"))
        #expect(utc == india)
        #expect(utc.microsecondsSinceEpoch == 1_795_253_400_000_000)
        let fraction = try #require(Timestamp(rfc3339: "2026-11-21T09:30:00.123456Z"))
        #expect(fraction.microsecondsSinceEpoch - utc.microsecondsSinceEpoch == 123_456)
        #expect(Timestamp(rfc3339: "2026-11-21T09:30:00.5Z")!.rfc3339 == "2026-11-21T09:30:00.500000Z")
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59Z")!.rfc3339 == "1969-12-31T23:59:59.000000Z")
    }

    @Test(arguments: ["2026-11-21", "2026-11-21T09:30:00", "2026-11-21T25:00:00Z", "2026-11-21T09:30:00.1234567Z"])
    func refusesInstantsThatAreNotRfc3339(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }
}

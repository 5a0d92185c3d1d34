/// An exact amount of money: integer minor units of an ISO 4217 currency.
///
/// Never a `Double`. Parsed from and printed as decimal strings in the currency's precision.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    /// The amount in the currency's minor unit (paise, pence, yen).
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Zero in a currency.
    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    /// Parses a decimal string strictly: an optional `-`, digits, and at most as many fraction digits as the
    /// currency's minor unit has. No exponents, no rounding, no spaces, no grouping separators.
    ///
    /// `"1180.00"` INR and `"1180.5"` INR are 118000 and 118050 paise; `"1.005"` INR and `"500.0"` JPY are errors.
    public init(parsing text: String, currency: Currency) throws(MoneyError) {
        let decimal: ScaledDecimal
        do {
            decimal = try ScaledDecimal(parsing: text, maximumFractionDigits: currency.minorUnitExponent)
        } catch .tooManyFractionDigits {
            throw .tooManyFractionDigits(currency: currency.code, allowed: currency.minorUnitExponent)
        } catch .outOfRange {
            throw .outOfRange
        } catch {
            throw .notADecimal
        }
        guard let minor = decimal.rescaled(to: currency.minorUnitExponent) else { throw .outOfRange }
        self.init(minorUnits: minor, currency: currency)
    }

    /// The amount as a decimal string with exactly the currency's fraction digits: `"1180.00"`, `"500"`.
    public var decimalString: String {
        ScaledDecimal(units: minorUnits, scale: currency.minorUnitExponent).description
    }

    public var description: String { "\(decimalString) \(currency.code)" }

    public var isNegative: Bool { minorUnits < 0 }

    /// The sum, or `nil` when it would overflow.
    public func adding(_ other: Money) -> Money? {
        precondition(currency == other.currency, "adding money of different currencies")
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        return overflow ? nil : Money(minorUnits: sum, currency: currency)
    }

    /// The difference, or `nil` when it would overflow.
    public func subtracting(_ other: Money) -> Money? {
        precondition(currency == other.currency, "subtracting money of different currencies")
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        return overflow ? nil : Money(minorUnits: difference, currency: currency)
    }
}

/// Why a decimal string is not an amount of money.
public enum MoneyError: Error, Hashable, Sendable, CustomStringConvertible {
    case notADecimal
    case tooManyFractionDigits(currency: String, allowed: Int)
    case outOfRange

    public var description: String {
        switch self {
        case .notADecimal:
            "must be a decimal string such as \"1180.00\""
        case .tooManyFractionDigits(let currency, 0):
            "\(currency) has no minor unit: use a whole number"
        case .tooManyFractionDigits(let currency, let allowed):
            "\(currency) amounts have at most \(allowed) decimal places"
        case .outOfRange:
            "is too large"
        }
    }
}

/// An ISO 4217 currency with the number of digits its minor unit has.
///
/// Only active ISO 4217 codes are accepted; the exponent comes from the standard's table
/// (`JPY` 0, `GBP` 2, `KWD` 3, `CLF` 4), so `"500"` JPY and `"1180.00"` INR are both exact.
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    /// The three-letter upper-case code, for example `INR`.
    public let code: String
    /// Digits after the decimal point in the currency's minor unit.
    public let minorUnitExponent: Int

    /// The currency for an ISO 4217 code, or `nil` when the code is not an active one.
    public init?(code: String) {
        guard let exponent = Currency.exponents[code] else { return nil }
        self.code = code
        self.minorUnitExponent = exponent
    }

    public var description: String { code }

    /// 10 to the power of the exponent: how many minor units make one major unit.
    public var minorUnitsPerMajorUnit: Int64 {
        var result: Int64 = 1
        for _ in 0..<minorUnitExponent { result *= 10 }
        return result
    }
}

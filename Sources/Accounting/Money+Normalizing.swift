extension Money {
    /// An amount a platform wrote as a decimal number, in `currency`: `"20000"` and `"20000.000"` INR are both
    /// 2,000,000 paise; `nil` when it is not a decimal or has significant digits beyond the currency's minor unit.
    public init?(platformDecimal text: String, currency: Currency) {
        guard let decimal = try? ScaledDecimal(parsing: text, maximumFractionDigits: 8),
            let minor = decimal.rescaled(to: currency.minorUnitExponent)
        else { return nil }
        self.init(minorUnits: minor, currency: currency)
    }
}

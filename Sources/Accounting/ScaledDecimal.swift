/// An exact decimal number: `units × 10^-scale`. Used for amounts, quantities and exchange rates.
public struct ScaledDecimal: Hashable, Sendable, CustomStringConvertible {
    public let units: Int64
    public let scale: Int

    public init(units: Int64, scale: Int) {
        self.units = units
        self.scale = scale
    }

    /// Why a string is not an exact decimal.
    public enum ParseError: Error, Hashable, Sendable {
        case syntax
        case tooManyFractionDigits
        case outOfRange
    }

    /// Parses `-?digits(.digits)?` — the JSON number grammar without exponents, or the same inside a string.
    public init(parsing text: String, maximumFractionDigits: Int) throws(ParseError) {
        var utf8 = Array(text.utf8)[...]
        var negative = false
        if utf8.first == UInt8(ascii: "-") {
            negative = true
            utf8 = utf8.dropFirst()
        }
        var units: Int64 = 0
        var scale = 0
        var sawDigit = false
        var sawPoint = false
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                sawDigit = true
                if sawPoint {
                    scale += 1
                    if scale > maximumFractionDigits { throw .tooManyFractionDigits }
                }
                let (times10, o1) = units.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if o1 || o2 { throw .outOfRange }
                units = next
            case UInt8(ascii: ".") where !sawPoint && sawDigit:
                sawPoint = true
            default:
                throw .syntax
            }
        }
        // "12." and "" are not numbers.
        if !sawDigit || (sawPoint && scale == 0) { throw .syntax }
        self.init(units: negative ? -units : units, scale: scale)
    }

    /// The same value with `scale` fraction digits, or `nil` if that loses digits or overflows.
    public func rescaled(to newScale: Int) -> Int64? {
        if newScale == scale { return units }
        if newScale > scale {
            var result = units
            for _ in scale..<newScale {
                let (next, overflow) = result.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                result = next
            }
            return result
        }
        var result = units
        for _ in newScale..<scale {
            if result % 10 != 0 { return nil }
            result /= 10
        }
        return result
    }

    public var isZero: Bool { units == 0 }
    public var isNegative: Bool { units < 0 }

    public var description: String {
        let magnitude = units.magnitude
        var digits = String(magnitude)
        if scale > 0 {
            if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return units < 0 ? "-" + digits : digits
    }
}

/// An amount of pounds as Sage 50's import and export files write it (`1234.56`), held in pence so sums are exact.
///
/// Sage 50 takes money as "8 digits + 2 decimal places" (Sage knowledgebase, "Audit trail transaction data fields you
/// can import", gb-kb.sage.com k2dockey=250321114601443): no currency sign, no grouping commas, no exponent.
public struct Sage50Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The largest amount a field takes: eight digits of pounds and two of pence.
    public static let limit: Int64 = 99_999_999_99

    /// Nothing.
    public static let zero = Sage50Money(pence: 0)

    /// The amount in pence; negative only for a balance, never for a value read from a file.
    public var pence: Int64

    /// An amount of `pence`.
    public init(pence: Int64) {
        self.pence = pence
    }

    /// Reads `text` as Sage 50 takes an amount: up to eight digits, and at most two decimal places. A sign, grouping
    /// commas, a currency sign, an exponent or a third decimal are refused (`nil`).
    public init?(parsing text: String) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 8, whole.allSatisfy(\.isASCIIDigit) else {
            return nil
        }
        var fraction: Substring = ""
        if parts.count == 2 {
            fraction = parts[1]
            guard !fraction.isEmpty, fraction.count <= 2, fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        }
        guard let pounds = Int64(whole), let pence = Int64(fraction + String(repeating: "0", count: 2 - fraction.count))
        else { return nil }
        self.pence = pounds * 100 + pence
    }

    public static func < (lhs: Sage50Money, rhs: Sage50Money) -> Bool { lhs.pence < rhs.pence }

    /// Sums of amounts each below `limit`: a company would need ninety million of them to overflow, so the sum
    /// saturates rather than traps.
    public static func + (lhs: Sage50Money, rhs: Sage50Money) -> Sage50Money {
        let (sum, overflow) = lhs.pence.addingReportingOverflow(rhs.pence)
        return Sage50Money(pence: overflow ? (rhs.pence < 0 ? Int64.min : Int64.max) : sum)
    }

    public static func - (lhs: Sage50Money, rhs: Sage50Money) -> Sage50Money {
        let (difference, overflow) = lhs.pence.subtractingReportingOverflow(rhs.pence)
        return Sage50Money(pence: overflow ? (rhs.pence > 0 ? Int64.min : Int64.max) : difference)
    }

    /// `1234.56`, `-12.00`: as Sage 50's CSV exports write amounts (two decimals, no grouping).
    public var description: String {
        let magnitude = pence.magnitude
        let pounds = magnitude / 100
        let rest = magnitude % 100
        return (pence < 0 ? "-" : "") + "\(pounds)." + (rest < 10 ? "0" : "") + "\(rest)"
    }

    /// The tax on this net amount at `percent` hundredths of a per cent (2000 = 20 %), rounded half up to the penny
    /// as Sage 50 calculates VAT on a line.
    func tax(atBasisPoints basisPoints: Int64) -> Sage50Money {
        // Both factors are bounded (`limit`, and a rate clamped to 0…100 %), so the product fits in 64 bits.
        let rate = min(max(basisPoints, 0), 10_000)
        let magnitude = min(pence.magnitude, UInt64(Self.limit))
        let scaled = Int64(magnitude) * rate
        return Sage50Money(pence: (scaled + 5_000) / 10_000)
    }
}

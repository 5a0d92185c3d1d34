/// An amount of rupees as Tally's XML writes it (`-1180.00`), held in paise so sums are exact. Tally's own sign
/// convention: a debit is negative, a credit positive.
public struct TallyAmount: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The largest amount taken: twelve digits of rupees. Larger ones are refused before any arithmetic, so a sum of
    /// any number of entries that Tally would accept cannot overflow.
    public static let limit: Int64 = 999_999_999_999_99

    /// Nothing: neither a debit nor a credit.
    public static let zero = TallyAmount(paise: 0)

    /// The amount in paise (hundredths of a rupee), negative for a debit.
    public var paise: Int64

    /// An amount of `paise`.
    public init(paise: Int64) {
        self.paise = paise
    }

    /// Reads `text` as an amount: an optional `-`, up to twelve digits, and at most two decimal places. Grouping
    /// commas, exponents, `Dr`/`Cr` suffixes and more decimals are refused (`nil`).
    public init?(parsing text: String) {
        var characters = Substring(text.trimmingWhitespace)
        var negative = false
        if characters.first == "-" {
            negative = true
            characters = characters.dropFirst()
        }
        let parts = characters.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 12, whole.allSatisfy(\.isASCIIDigit) else {
            return nil
        }
        var fraction: Substring = ""
        if parts.count == 2 {
            fraction = parts[1]
            guard !fraction.isEmpty, fraction.count <= 2, fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        }
        guard let rupees = Int64(whole) else { return nil }
        let padded = fraction + String(repeating: "0", count: 2 - fraction.count)
        guard let paise = Int64(padded) else { return nil }
        let value = rupees * 100 + paise
        self.paise = negative ? -value : value
    }

    public static func < (lhs: TallyAmount, rhs: TallyAmount) -> Bool { lhs.paise < rhs.paise }

    public static func + (lhs: TallyAmount, rhs: TallyAmount) -> TallyAmount {
        // Each term is bounded by `limit`; a sum of many could in principle overflow, so it saturates instead.
        let (sum, overflow) = lhs.paise.addingReportingOverflow(rhs.paise)
        return TallyAmount(paise: overflow ? (lhs.paise < 0 ? Int64.min : Int64.max) : sum)
    }

    public static prefix func - (amount: TallyAmount) -> TallyAmount {
        TallyAmount(paise: amount.paise == Int64.min ? Int64.max : -amount.paise)
    }

    /// A debit, in Tally's sign.
    public var isNegative: Bool { paise < 0 }

    /// `-1180.00`, as Tally writes `AMOUNT` and `CLOSINGBALANCE`.
    public var description: String {
        let magnitude = paise.magnitude
        let rupees = magnitude / 100
        let cents = magnitude % 100
        return (paise < 0 ? "-" : "") + "\(rupees)." + (cents < 10 ? "0" : "") + "\(cents)"
    }

    /// The magnitude grouped the Indian way, as Tally shows it in messages: `29,18,362.10`.
    public var grouped: String {
        let magnitude = paise.magnitude
        var digits = String(magnitude / 100)
        let cents = magnitude % 100
        var groups: [String] = []
        if digits.count > 3 {
            groups.append(String(digits.suffix(3)))
            digits = String(digits.dropLast(3))
            while digits.count > 2 {
                groups.insert(String(digits.suffix(2)), at: 0)
                digits = String(digits.dropLast(2))
            }
            if !digits.isEmpty { groups.insert(digits, at: 0) }
        } else {
            groups = [digits]
        }
        return groups.joined(separator: ",") + "." + (cents < 10 ? "0" : "") + "\(cents)"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StringProtocol {
    var trimmingWhitespace: Substring {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return slice
    }
}

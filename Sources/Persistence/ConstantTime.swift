/// Comparing secrets (tokens, key hashes, derived keys) without the time taken saying how much of them matched.
public enum ConstantTime {
    /// Whether the two are the same bytes, every byte compared whatever the first difference. Only the lengths are
    /// not hidden: they are no secret (a token's length is fixed).
    public static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }
}

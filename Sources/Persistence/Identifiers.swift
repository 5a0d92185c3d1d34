public import Accounting
public import Foundation

/// Ledgerwire's own ids: a type prefix, then 13 hex digits of microseconds since 1970 and 16 random hex digits,
/// `dlv_0640a3c1f2e4b7c9e02f41d6a8b35f`.
///
/// Time-ordered like UUIDv7, so new rows append at the right edge of each primary-key B-tree instead of
/// dirtying a random page per insert: a group commit then rewrites a few pages, not one per row.
enum Identifiers {
    private static let digits = Array("0123456789abcdef".utf8)

    static func make(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        bytes.append(UInt8(ascii: "_"))
        let micros = UInt64(max(0, Timestamp.now().microsecondsSinceEpoch))
        for shift in stride(from: 48, through: 0, by: -4) {
            bytes.append(digits[Int((micros >> UInt64(shift)) & 0xF)])
        }
        var random = UInt64.random(in: 0...UInt64.max)
        for _ in 0..<16 {
            bytes.append(digits[Int(random & 0xF)])
            random >>= 4
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Timestamp {
    /// The current instant from Foundation's clock.
    public static func now() -> Timestamp {
        Timestamp(Date())
    }

    public init(_ date: Date) {
        self.init(microsecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
    }
}

import Accounting
import Foundation

/// Ledgerwire's own ids: a short type prefix and a random UUID, `dlv_1b4e…`.
enum Identifiers {
    static func make(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
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

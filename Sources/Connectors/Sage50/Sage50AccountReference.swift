public import Accounting

/// How a `sage_50` integration names its customers' A/C references (`settings.account_ref_style`, API.md "Sage
/// specifics"): made from the customer's name (`name`, the default) or from billing's id (`id`).
///
/// Sage 50 stores an A/C of at most 8 characters, A–Z and 0–9 ("This must be just the letters A to Z and the Numbers 0
/// to 9", makingithappen.co.uk customer import; "cropped to the maximum eight characters", Sage Line 50 help "Comma
/// Separated Values"), so a reference is made to that shape before Sage can change it.
public enum Sage50AccountReferenceStyle: String, Sendable, Hashable, CaseIterable {
    case name
    case id

    /// The style `settings` asks for; an unknown value is refused.
    public init(settings: JSONValue) throws(ConnectorError) {
        guard let value = settings["account_ref_style"] else {
            self = .name
            return
        }
        guard let text = value.stringValue, let style = Self(rawValue: text) else {
            throw ConnectorError.validation(
                code: "sage50_settings", message: "settings.account_ref_style must be name or id")
        }
        self = style
    }

    /// The A/C for `customer`, different from every reference in `taken`: its letters and digits upper-cased, cut to
    /// 8; when that is taken, its end gives way to a number (`SMITHJ` → `SMITHJ1`, `SMITHJOH` → `SMITHJ12`). `nil`
    /// only when every one of the 99,999 numbered forms is taken.
    public func reference(for customer: Customer, taken: Set<String>) -> String? {
        let source = self == .name ? customer.name : customer.id.rawValue
        var base = String(source.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) })
        if self == .id, base.count > 8 {
            // Billing's ids differ at their end (`cus_000123`), so the end is kept.
            base = String(base.suffix(8))
        }
        base = String(base.prefix(8))
        if base.isEmpty { base = "CUSTOMER" }
        if !taken.contains(base) { return base }
        for number in 1...99_999 {
            let suffix = String(number)
            let candidate = String(base.prefix(8 - suffix.count)) + suffix
            if !taken.contains(candidate) { return candidate }
        }
        return nil
    }
}

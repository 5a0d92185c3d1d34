/// Billing's own codes (revenue accounts, tax codes, courses, deposit accounts) resolved to one platform's ids.
///
/// A code `"*"` is the integration's default for its kind, used for any code not mapped by itself.
public struct CodeMappings: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case account
        case taxCode = "tax_code"
        case item
        case depositAccount = "deposit_account"
    }

    public static let fallbackCode = "*"

    public var accounts: [String: String]
    public var taxCodes: [String: String]
    public var items: [String: String]
    public var depositAccounts: [String: String]

    public init(
        accounts: [String: String] = [:],
        taxCodes: [String: String] = [:],
        items: [String: String] = [:],
        depositAccounts: [String: String] = [:]
    ) {
        self.accounts = accounts
        self.taxCodes = taxCodes
        self.items = items
        self.depositAccounts = depositAccounts
    }

    public subscript(kind: Kind) -> [String: String] {
        get {
            switch kind {
            case .account: accounts
            case .taxCode: taxCodes
            case .item: items
            case .depositAccount: depositAccounts
            }
        }
        set {
            switch kind {
            case .account: accounts = newValue
            case .taxCode: taxCodes = newValue
            case .item: items = newValue
            case .depositAccount: depositAccounts = newValue
            }
        }
    }

    /// The platform id for `code`, or the kind's default.
    public func remoteID(_ kind: Kind, for code: String) -> String? {
        self[kind][code] ?? self[kind][Self.fallbackCode]
    }

    /// The codes a canonical record needs mapped before it can be pushed, by kind: every line's revenue account
    /// and tax code (invoices, credit notes), the deposit account (payments, refunds).
    public static func requiredCodes(recordType: RecordType, data: JSONValue) -> [(Kind, String)] {
        var required: [(Kind, String)] = []
        switch recordType {
        case .invoice, .creditNote:
            guard case .array(let lines) = data["lines"] else { return [] }
            for line in lines {
                if let account = line["revenue_account"]?.stringValue { required.append((.account, account)) }
                if let tax = line["tax_code"]?.stringValue { required.append((.taxCode, tax)) }
            }
        case .payment, .refund:
            if let deposit = data["deposit_account"]?.stringValue { required.append((.depositAccount, deposit)) }
        case .customer:
            break
        }
        return required
    }
}

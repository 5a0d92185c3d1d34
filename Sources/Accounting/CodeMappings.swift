/// Billing's own codes (revenue accounts, tax codes, courses, deposit accounts) resolved to one platform's ids.
///
/// A code `"*"` is the integration's default for its kind, used for any code not mapped by itself.
public struct CodeMappings: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case account
        case taxCode = "tax_code"
        case item
        case depositAccount = "deposit_account"

        /// The kind's member in the admin API's mappings (`accounts`, `tax_codes`, `items`, `deposit_accounts`).
        public var member: String {
            switch self {
            case .account: "accounts"
            case .taxCode: "tax_codes"
            case .item: "items"
            case .depositAccount: "deposit_accounts"
            }
        }
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

    /// A billing code a record uses that the mapping does not resolve (neither by itself nor by its kind's `"*"`).
    public struct Missing: Sendable, Hashable {
        public var kind: Kind
        public var code: String

        public init(_ kind: Kind, _ code: String) {
            self.kind = kind
            self.code = code
        }
    }

    /// The mapping kinds most platforms need: revenue accounts, tax codes and deposit accounts. A platform whose
    /// documents need items too (QuickBooks Online) adds `.item`.
    public static let commonKinds: Set<Kind> = [.account, .taxCode, .depositAccount]

    /// The codes a canonical record needs mapped before it can be pushed, each once, by kind and in the order the
    /// record names them: every line's revenue account, tax code and (when `kinds` has items) item — its course, else the
    /// default `"*"` — for invoices and credit notes; the deposit account for payments and refunds, and the default
    /// item for a refund's line.
    public static func requiredCodes(
        recordType: RecordType, data: JSONValue, kinds: Set<Kind> = commonKinds
    ) -> [Missing] {
        var required: [Missing] = []
        func need(_ kind: Kind, _ code: String?) {
            guard kinds.contains(kind), let code else { return }
            let missing = Missing(kind, code)
            if !required.contains(missing) { required.append(missing) }
        }
        switch recordType {
        case .invoice, .creditNote:
            guard case .array(let lines) = data["lines"] else { return [] }
            for line in lines {
                need(.account, line["revenue_account"]?.stringValue)
                need(.taxCode, line["tax_code"]?.stringValue)
                need(.item, line["course_id"]?.stringValue ?? fallbackCode)
            }
        case .payment:
            need(.depositAccount, data["deposit_account"]?.stringValue)
        case .refund:
            need(.depositAccount, data["deposit_account"]?.stringValue)
            need(.item, fallbackCode)
        case .customer:
            break
        }
        // By kind (revenue accounts, tax codes, items, deposit accounts), each kind's codes as the record names them.
        return Kind.allCases.flatMap { kind in required.filter { $0.kind == kind } }
    }

    /// The codes of `requiredCodes` this mapping does not resolve, all of them at once.
    public func missing(recordType: RecordType, data: JSONValue, kinds: Set<Kind> = commonKinds) -> [Missing] {
        Self.requiredCodes(recordType: recordType, data: data, kinds: kinds).filter {
            remoteID($0.kind, for: $0.code) == nil
        }
    }

    /// What a person reads: "billing's revenue account 4000-TUITION, tax code GST18 and deposit account BANK are
    /// not mapped".
    public static func describe(_ missing: [Missing]) -> String {
        let names = missing.map { entry -> String in
            switch entry.kind {
            case .account: "revenue account \(entry.code)"
            case .taxCode: "tax code \(entry.code)"
            case .depositAccount: "deposit account \(entry.code)"
            case .item: entry.code == fallbackCode ? "default item (\"*\")" : "item for course \(entry.code)"
            }
        }
        let list =
            names.count <= 1
            ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names[names.count - 1]
        return "billing's \(list) \(names.count == 1 ? "is" : "are") not mapped"
    }
}

extension CodeMappings.Missing {
    /// `{kind, code}`, the kind as jobs and events name it: `account`, `tax_code`, `item`, `deposit_account`.
    public var json: JSONValue { ["kind": .string(kind.rawValue), "code": .string(code)] }

    public init?(json: JSONValue) {
        guard let kind = json["kind"]?.stringValue.flatMap(CodeMappings.Kind.init(rawValue:)),
            let code = json["code"]?.stringValue
        else { return nil }
        self.init(kind, code)
    }
}

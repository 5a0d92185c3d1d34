/// Billing's own codes (revenue accounts, tax codes, courses, deposit accounts) resolved to one platform's ids.
///
/// A code `"*"` is the integration's default for its kind, used for any code not mapped by itself.
public struct CodeMappings: Sendable, Hashable {
    /// A kind of billing code a platform maps: an open set, each platform's connector declaring the kinds it uses
    /// (`ConnectorCapabilities.mappingKinds`), so a new platform brings its own (Tally's ledgers, QuickBooks Desktop's
    /// sales-tax item) without a change here or in the store.
    public struct Kind: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
        /// As jobs, events and the store name it: `account`, `tax_code`, `item`, `deposit_account`, …
        public let rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }

        /// Billing's revenue accounts, mapped to income accounts.
        public static let account = Kind(rawValue: "account")
        /// Billing's tax codes.
        public static let taxCode = Kind(rawValue: "tax_code")
        /// Billing's courses, mapped to the platform's items (`"*"`: the default item).
        public static let item = Kind(rawValue: "item")
        /// Billing's deposit accounts, mapped to bank accounts.
        public static let depositAccount = Kind(rawValue: "deposit_account")

        /// The kinds every version of Ledgerwire has known, in the order the admin API lists them.
        public static let wellKnown: [Kind] = [.account, .taxCode, .item, .depositAccount]

        /// The kind's member in the admin API's mappings: its name made plural (`accounts`, `tax_codes`, `items`,
        /// `deposit_accounts`, `ledgers`).
        public var member: String { rawValue + "s" }

        /// The kind of an admin API member (`tax_codes` → `tax_code`), or `nil` for a name that is not plural.
        public init?(member: String) {
            guard member.count > 1, member.hasSuffix("s") else { return nil }
            self.init(rawValue: String(member.dropLast()))
        }

        public var description: String { rawValue }

        /// The well-known kinds first, in their order, then the others by name.
        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            let (left, right) = (wellKnown.firstIndex(of: lhs), wellKnown.firstIndex(of: rhs))
            switch (left, right) {
            case (let left?, let right?): return left < right
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return lhs.rawValue < rhs.rawValue
            }
        }
    }

    public static let fallbackCode = "*"

    /// Every kind's mappings (billing code → platform id); a kind with none is absent.
    public private(set) var byKind: [Kind: [String: String]] = [:]

    public var accounts: [String: String] {
        get { self[.account] }
        set { self[.account] = newValue }
    }
    public var taxCodes: [String: String] {
        get { self[.taxCode] }
        set { self[.taxCode] = newValue }
    }
    public var items: [String: String] {
        get { self[.item] }
        set { self[.item] = newValue }
    }
    public var depositAccounts: [String: String] {
        get { self[.depositAccount] }
        set { self[.depositAccount] = newValue }
    }

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
        get { byKind[kind] ?? [:] }
        set { byKind[kind] = newValue.isEmpty ? nil : newValue }
    }

    /// The kinds that have mappings, well-known first.
    public var kinds: [Kind] { byKind.keys.sorted() }

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
    public static func requiredCodes(for record: CanonicalRecord, kinds: Set<Kind> = commonKinds) -> [Missing] {
        var required: [Missing] = []
        func need(_ kind: Kind, _ code: String?) {
            guard kinds.contains(kind), let code else { return }
            let missing = Missing(kind, code)
            if !required.contains(missing) { required.append(missing) }
        }
        func need(_ lines: [DocumentLine]) {
            for line in lines {
                need(.account, line.revenueAccount)
                need(.taxCode, line.taxCode)
                need(.item, line.courseID ?? fallbackCode)
            }
        }
        switch record {
        case .invoice(let invoice):
            need(invoice.lines)
        case .creditNote(let note):
            need(note.lines)
        case .payment(let payment):
            need(.depositAccount, payment.depositAccount)
        case .refund(let refund):
            need(.depositAccount, refund.depositAccount)
            need(.item, fallbackCode)
        case .customer:
            break
        }
        // By kind (revenue accounts, tax codes, items, deposit accounts), each kind's codes as the record names them.
        return Kind.wellKnown.flatMap { kind in required.filter { $0.kind == kind } }
    }

    /// The codes of `requiredCodes` this mapping does not resolve, all of them at once.
    public func missing(for record: CanonicalRecord, kinds: Set<Kind> = commonKinds) -> [Missing] {
        Self.requiredCodes(for: record, kinds: kinds).filter { remoteID($0.kind, for: $0.code) == nil }
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
            default: "\(String(entry.kind.rawValue.map { $0 == "_" ? " " : $0 })) \(entry.code)"
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
        guard let kind = json["kind"]?.stringValue.map(CodeMappings.Kind.init(rawValue:)),
            let code = json["code"]?.stringValue
        else { return nil }
        self.init(kind, code)
    }
}

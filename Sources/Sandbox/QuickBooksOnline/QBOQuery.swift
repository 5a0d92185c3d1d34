import Accounting
import Foundation

/// The QuickBooks Online query language's subset (platforms.md §1.6): `SELECT * | count(*) FROM <Entity>
/// [WHERE <field> <op> <value> [AND …]] [ORDERBY <field> [ASC|DESC]] [STARTPOSITION n] [MAXRESULTS n]`, with
/// `=`, `<`, `>`, `<=`, `>=`, `IN (…)` and `LIKE` (`%` only). `OR` is refused, as QuickBooks refuses it.
struct QBOQuery {
    enum Operator: String {
        case equal = "=", less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">=", isIn = "IN", like =
            "LIKE"
    }

    struct Condition {
        let field: String
        let op: Operator
        let values: [String]
    }

    var count = false
    var entity = ""
    var conditions: [Condition] = []
    var orderBy: (field: String, descending: Bool)?
    var startPosition = 1
    var maxResults = 100

    init(parsing text: String) throws(QBOFault) {
        var tokens = try Self.tokenize(text)
        var column = 1
        func next() -> String? {
            guard !tokens.isEmpty else { return nil }
            let (token, at) = tokens.removeFirst()
            column = at
            return token
        }
        func expect(_ word: String) throws(QBOFault) {
            guard next()?.uppercased() == word else { throw .parse("expected \(word) in \"\(text)\"") }
        }
        /// Where the query has got to in QuickBooks' grammar: WHERE (then AND), ORDERBY, STARTPOSITION, MAXRESULTS,
        /// each at most once and in that order.
        var clause = 0
        func enter(_ word: String, _ stage: Int) throws(QBOFault) {
            guard stage > clause else { throw .unexpected(word, column: column) }
            clause = stage
        }
        try expect("SELECT")
        switch next() {
        case "*": break
        case let token? where token.lowercased() == "count(*)": count = true
        default: throw .parse("only SELECT * or SELECT count(*) is supported")
        }
        try expect("FROM")
        guard let entity = next() else { throw .parse("missing entity after FROM") }
        self.entity = entity
        while let word = next() {
            switch word.uppercased() {
            case "WHERE", "AND":
                if word.uppercased() == "WHERE" {
                    try enter(word, 1)
                } else if clause != 1 {
                    throw .unexpected(word, column: column)
                }
                guard let field = next(), let opText = next() else { throw .parse("incomplete condition") }
                guard let op = Operator(rawValue: opText.uppercased()) else {
                    throw .parse("unsupported operator \(opText)")
                }
                var values: [String] = []
                if op == .isIn {
                    guard next() == "(" else { throw .parse("IN needs a list in parentheses") }
                    while let value = next(), value != ")" {
                        if value != "," { values.append(Self.literal(value)) }
                    }
                } else {
                    guard let value = next() else { throw .parse("missing value for \(field)") }
                    values = [Self.literal(value)]
                }
                conditions.append(Condition(field: field, op: op, values: values))
            case "OR":
                throw .parse("OR is not supported")
            case "ORDERBY", "ORDER":
                try enter(word, 2)
                if word.uppercased() == "ORDER" { try expect("BY") }
                guard let field = next() else { throw .parse("missing field after ORDERBY") }
                var descending = false
                if let direction = tokens.first?.0.uppercased(), direction == "ASC" || direction == "DESC" {
                    descending = next()?.uppercased() == "DESC"
                }
                orderBy = (field, descending)
            case "STARTPOSITION":
                try enter(word, 3)
                guard let value = next().flatMap(Int.init), value >= 1 else { throw .parse("bad STARTPOSITION") }
                startPosition = value
            case "MAXRESULTS":
                try enter(word, 4)
                guard let value = next().flatMap(Int.init), (1...1000).contains(value) else {
                    throw .parse("MAXRESULTS must be 1 to 1000")
                }
                maxResults = value
            default:
                throw .parse("unexpected \(word)")
            }
        }
    }

    /// Refuses a condition or ORDERBY naming a property `entity` does not have (QuickBooks answers 4001 rather than
    /// matching nothing); a dotted path is checked by its first name.
    func checkProperties(of entity: String) throws(QBOFault) {
        let known = Self.properties[entity] ?? []
        for field in conditions.map(\.field) + [orderBy?.field].compactMap({ $0 }) {
            let name = String(field.split(separator: ".").first ?? "")
            guard known.contains(name) else { throw .unknownProperty(field, entity: entity) }
        }
    }

    /// The properties of each entity the emulator serves (`Finance.xsd`, `IntuitBaseTypes.xsd`).
    static let properties: [String: Set<String>] = {
        let base: Set<String> = ["Id", "SyncToken", "MetaData", "domain", "sparse", "status", "CustomField"]
        let transaction =
            base.union([
                "DocNumber", "TxnDate", "DepartmentRef", "CurrencyRef", "ExchangeRate", "PrivateNote", "TxnStatus",
                "LinkedTxn", "Line", "TxnTaxDetail", "TxnSource", "TaxFormType", "TransactionLocationType",
            ])
        let sales = transaction.union([
            "CustomerRef", "CustomerMemo", "BillAddr", "ShipAddr", "ClassRef", "SalesTermRef", "DueDate", "ShipDate",
            "TrackingNum", "GlobalTaxCalculation", "TotalAmt", "HomeTotalAmt", "ApplyTaxAfterDiscount", "PrintStatus",
            "EmailStatus", "BillEmail", "Balance", "HomeBalance", "DepositToAccountRef", "PaymentMethodRef",
            "PaymentRefNum", "ARAccountRef",
        ])
        return [
            "Customer": base.union([
                "DisplayName", "Title", "GivenName", "MiddleName", "FamilyName", "Suffix", "CompanyName",
                "PrintOnCheckName", "PrimaryEmailAddr", "PrimaryPhone", "AlternatePhone", "Mobile", "Fax", "WebAddr",
                "BillAddr", "ShipAddr", "Notes", "Active", "Taxable", "DefaultTaxCodeRef", "SalesTermRef",
                "PaymentMethodRef", "Balance", "BalanceWithJobs", "OpenBalanceDate", "CurrencyRef",
                "PreferredDeliveryMethod", "ResaleNum", "Job", "BillWithParent", "ParentRef", "Level",
                "FullyQualifiedName", "ARAccountRef",
            ]),
            "Item": base.union([
                "Name", "Sku", "Description", "Active", "SubItem", "ParentRef", "Level", "FullyQualifiedName", "Type",
                "UnitPrice", "PurchaseDesc", "PurchaseCost", "IncomeAccountRef", "ExpenseAccountRef",
                "AssetAccountRef", "TrackQtyOnHand", "QtyOnHand", "InvStartDate", "Taxable", "SalesTaxCodeRef",
                "PurchaseTaxCodeRef",
            ]),
            "Account": base.union([
                "Name", "AcctNum", "Description", "Active", "SubAccount", "ParentRef", "FullyQualifiedName",
                "Classification", "AccountType", "AccountSubType", "CurrentBalance", "CurrentBalanceWithSubAccounts",
                "CurrencyRef", "TaxCodeRef",
            ]),
            "TaxCode": base.union([
                "Name", "Description", "Active", "Hidden", "Taxable", "TaxGroup", "SalesTaxRateList",
                "PurchaseTaxRateList",
            ]),
            "TaxRate": base.union([
                "Name", "Description", "Active", "RateValue", "AgencyRef", "TaxReturnLineRef", "SpecialTaxType",
                "DisplayType", "EffectiveTaxRate", "OriginalTaxRate",
            ]),
            "Invoice": sales.union([
                "Deposit", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment",
                "AutoDocNumber", "InvoiceLink",
            ]),
            "CreditMemo": sales.union(["RemainingCredit", "InvoiceRef"]),
            "RefundReceipt": sales.union(["CheckPayment", "CreditCardPayment"]),
            "Payment": transaction.union([
                "CustomerRef", "TotalAmt", "PaymentRefNum", "PaymentMethodRef", "DepositToAccountRef",
                "ARAccountRef", "UnappliedAmt", "ProcessPayment", "CreditCardPayment",
            ]),
        ]
    }()

    /// The name lists: entities made inactive rather than deleted, whose inactive entries a query leaves out
    /// unless it names `Active`.
    static let nameLists: Set<String> = ["Customer", "Vendor", "Employee", "Item", "Account", "TaxCode", "TaxRate"]

    /// Whether an entity object matches every condition.
    func matches(_ object: [String: JSONValue]) -> Bool {
        conditions.allSatisfy { condition in
            let actual = Self.value(of: condition.field, in: object)
            guard let actual else { return false }
            switch condition.op {
            case .equal: return Self.compare(actual, condition.values[0]) == .orderedSame
            case .less: return Self.compare(actual, condition.values[0]) == .orderedAscending
            case .greater: return Self.compare(actual, condition.values[0]) == .orderedDescending
            case .lessOrEqual: return Self.compare(actual, condition.values[0]) != .orderedDescending
            case .greaterOrEqual: return Self.compare(actual, condition.values[0]) != .orderedAscending
            case .isIn: return condition.values.contains { Self.compare(actual, $0) == .orderedSame }
            case .like:
                let pattern = condition.values[0].lowercased()
                let text = actual.lowercased()
                let parts = pattern.split(separator: "%", omittingEmptySubsequences: false).map(String.init)
                if parts.count == 1 { return text == pattern }
                var rest = Substring(text)
                for (index, part) in parts.enumerated() where !part.isEmpty {
                    if index == 0 {
                        guard rest.hasPrefix(part) else { return false }
                        rest = rest.dropFirst(part.count)
                    } else if index == parts.count - 1 {
                        return rest.hasSuffix(part)
                    } else {
                        guard let range = rest.range(of: part) else { return false }
                        rest = rest[range.upperBound...]
                    }
                }
                return true
            }
        }
    }

    /// A field's value as text; a dotted path reads nested objects, and a reference (`CustomerRef`) its `value`.
    static func value(of field: String, in object: [String: JSONValue]) -> String? {
        var current: JSONValue = .object(object)
        for part in field.split(separator: ".") {
            guard let member = current[String(part)] else { return nil }
            current = member
        }
        switch current {
        case .string(let text), .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        // A reference (`CustomerRef`) by its `value`; an email address (`PrimaryEmailAddr`) by its `Address`.
        case .object(let members): return (members["value"] ?? members["Address"])?.stringValue
        default: return nil
        }
    }

    static func compare(_ actual: String, _ expected: String) -> ComparisonResult {
        if let left = Decimal(string: actual), let right = Decimal(string: expected),
            actual.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" })
        {
            return left == right ? .orderedSame : left < right ? .orderedAscending : .orderedDescending
        }
        return actual.lowercased().compare(expected.lowercased())
    }

    private static func literal(_ token: String) -> String {
        guard token.hasPrefix("'"), token.hasSuffix("'"), token.count >= 2 else { return token }
        return String(token.dropFirst().dropLast()).replacingOccurrences(of: "\\'", with: "'")
    }

    /// Words, quoted strings (`\'` escapes a quote), operators and parentheses.
    private static func tokenize(_ text: String) throws(QBOFault) -> [(String, Int)] {
        var tokens: [(String, Int)] = []
        var characters = Array(text)[...]
        while let first = characters.first {
            let column = characters.startIndex + 1
            if first.isWhitespace {
                characters = characters.dropFirst()
            } else if first == "'" {
                var token = "'"
                characters = characters.dropFirst()
                var closed = false
                while let character = characters.first {
                    characters = characters.dropFirst()
                    if character == "\\", let escaped = characters.first {
                        token += "\\\(escaped)"
                        characters = characters.dropFirst()
                    } else if character == "'" {
                        closed = true
                        break
                    } else {
                        token.append(character)
                    }
                }
                guard closed else { throw .parse("unterminated string") }
                tokens.append((token + "'", column))
            } else if String(characters.prefix(8)).lowercased() == "count(*)" {
                tokens.append(("count(*)", column))
                characters = characters.dropFirst(8)
            } else if "(),".contains(first) {
                tokens.append((String(first), column))
                characters = characters.dropFirst()
            } else if "<>=".contains(first) {
                var token = String(first)
                characters = characters.dropFirst()
                if let second = characters.first, second == "=" {
                    token.append(second)
                    characters = characters.dropFirst()
                }
                tokens.append((token, column))
            } else {
                var token = ""
                while let character = characters.first, !character.isWhitespace, !"<>=,'()".contains(character) {
                    token.append(character)
                    characters = characters.dropFirst()
                }
                tokens.append((token, column))
            }
        }
        return tokens
    }
}

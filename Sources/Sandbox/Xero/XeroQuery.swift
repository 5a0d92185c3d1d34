import Accounting
import Foundation

/// A `where` filter in the subset of Xero's syntax the emulator reads: comparisons `Field == literal` and
/// `Field != literal` (a dotted path such as `Contact.ContactID`; a literal `"text"`, `true`, `false`, `null`, a number
/// or `Guid("…")`), joined by `&&`/`AND` and `||`/`OR` (AND binding tighter). Anything else is refused as Xero refuses
/// what it cannot parse: 400 `QueryParseException` (ErrorNumber 16), never ignored.
struct XeroQuery: Sendable {
    enum Literal: Sendable, Equatable {
        case string(String)
        case guid(String)
        case bool(Bool)
        case number(Decimal)
        case null
    }

    struct Comparison: Sendable {
        let path: [String]
        let equal: Bool
        let literal: Literal
    }

    /// Alternatives, each a conjunction of comparisons.
    let alternatives: [[Comparison]]

    struct ParseError: Error, Sendable {
        let message: String
    }

    /// The fields a filter may name, per collection (from `xero_accounting.yaml`'s schemas).
    static let fields: [String: Set<String>] = [
        "Contacts": [
            "ContactID", "ContactNumber", "AccountNumber", "ContactStatus", "Name", "FirstName", "LastName",
            "CompanyNumber", "EmailAddress", "TaxNumber", "IsSupplier", "IsCustomer", "DefaultCurrency",
            "UpdatedDateUTC", "HasAttachments",
        ],
        "Invoices": [
            "Type", "Contact", "Date", "DueDate", "LineAmountTypes", "InvoiceNumber", "Reference", "CurrencyCode",
            "CurrencyRate", "Status", "SentToContact", "SubTotal", "TotalTax", "Total", "InvoiceID", "AmountDue",
            "AmountPaid", "AmountCredited", "UpdatedDateUTC", "HasAttachments", "IsDiscounted",
        ],
        "CreditNotes": [
            "Type", "Contact", "Date", "DueDate", "Status", "LineAmountTypes", "SubTotal", "TotalTax", "Total",
            "UpdatedDateUTC", "CurrencyCode", "CreditNoteID", "CreditNoteNumber", "Reference", "RemainingCredit",
            "HasAttachments",
        ],
        "Payments": [
            "Invoice", "CreditNote", "Account", "Date", "CurrencyRate", "Amount", "BankAmount", "Reference",
            "IsReconciled", "Status", "PaymentType", "UpdatedDateUTC", "PaymentID",
        ],
        "Items": [
            "Code", "Name", "IsSold", "IsPurchased", "Description", "PurchaseDescription", "IsTrackedAsInventory",
            "ItemID", "UpdatedDateUTC",
        ],
        "Accounts": [
            "Code", "Name", "AccountID", "Type", "BankAccountNumber", "Status", "Description", "BankAccountType",
            "CurrencyCode", "TaxType", "EnablePaymentsToAccount", "ShowInExpenseClaims", "Class", "SystemAccount",
            "ReportingCode", "UpdatedDateUTC",
        ],
        "TaxRates": ["Name", "TaxType", "Status", "ReportTaxType", "DisplayTaxRate", "EffectiveRate"],
        "Currencies": ["Code", "Description"],
    ]

    static let booleans: Set<String> = [
        "IsSupplier", "IsCustomer", "IsSold", "IsPurchased", "IsTrackedAsInventory", "EnablePaymentsToAccount",
        "ShowInExpenseClaims", "HasAttachments", "SentToContact", "IsDiscounted", "IsReconciled",
    ]

    /// The schema names Xero's parser reports (`type 'Contact'`).
    static let typeNames: [String: String] = [
        "Contacts": "Contact", "Invoices": "Invoice", "CreditNotes": "CreditNote", "Payments": "Payment",
        "Items": "Item", "Accounts": "Account", "TaxRates": "TaxRate", "Currencies": "Currency",
    ]

    init(parsing text: String, collection: String) throws(ParseError) {
        guard text.utf8.count <= 4096 else { throw ParseError(message: "Expression too long") }
        var tokens = try Self.tokens(text)
        tokens.reverse()
        var alternatives: [[Comparison]] = []
        var current: [Comparison] = []
        while true {
            guard case .word(let field)? = tokens.popLast() else { throw ParseError(message: "Expression expected") }
            let path = field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let type = Self.typeNames[collection] ?? collection
            guard let first = path.first, !path.contains(where: \.isEmpty),
                Self.fields[collection]?.contains(first) == true
            else { throw ParseError(message: "No property or field '\(path.first ?? field)' exists in type '\(type)'") }
            guard case .symbol(let op)? = tokens.popLast(), op == "==" || op == "!=" else {
                throw ParseError(message: "Expression expected")
            }
            let literal = try Self.literal(&tokens)
            if Self.booleans.contains(first), case .string = literal {
                throw ParseError(message: "Operator '\(op)' incompatible with operand types 'Boolean?' and 'String'")
            }
            current.append(Comparison(path: path, equal: op == "==", literal: literal))
            guard let next = tokens.popLast() else { break }
            switch next {
            case .symbol("&&"), .word("AND"), .word("and"): continue
            case .symbol("||"), .word("OR"), .word("or"):
                alternatives.append(current)
                current = []
            default: throw ParseError(message: "Syntax error")
            }
        }
        alternatives.append(current)
        self.alternatives = alternatives
    }

    func matches(_ object: [String: JSONValue]) -> Bool {
        alternatives.contains { all in all.allSatisfy { Self.holds($0, in: object) } }
    }

    static func holds(_ comparison: Comparison, in object: [String: JSONValue]) -> Bool {
        var value: JSONValue? = .object(object)
        for key in comparison.path { value = value?[key] }
        let same: Bool
        switch (comparison.literal, value) {
        case (.null, nil), (.null, .null?): same = true
        case (.string(let text), .string(let stored)?): same = text == stored
        case (.guid(let text), .string(let stored)?): same = text.lowercased() == stored.lowercased()
        case (.bool(let flag), .bool(let stored)?): same = flag == stored
        case (.number(let number), let stored?): same = XeroOrganisation.decimal(stored) == number
        default: same = false
        }
        return same == comparison.equal
    }

    enum Token: Equatable {
        case word(String)
        case string(String)
        case symbol(String)
    }

    static func tokens(_ text: String) throws(ParseError) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace {
                index += 1
            } else if character == "\"" {
                var value = ""
                index += 1
                while true {
                    guard index < characters.count else { throw ParseError(message: "Unterminated string literal") }
                    if characters[index] == "\"" {
                        // Xero writes a quote inside a string as two.
                        if index + 1 < characters.count, characters[index + 1] == "\"" {
                            value.append("\"")
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    value.append(characters[index])
                    index += 1
                }
                tokens.append(.string(value))
            } else if "=!&|".contains(character) {
                guard index + 1 < characters.count else { throw ParseError(message: "Syntax error") }
                let pair = String(characters[index...index + 1])
                guard ["==", "!=", "&&", "||"].contains(pair) else { throw ParseError(message: "Syntax error") }
                tokens.append(.symbol(pair))
                index += 2
            } else if "()".contains(character) {
                tokens.append(.symbol(String(character)))
                index += 1
            } else if character.isLetter || character.isNumber || "._-".contains(character) {
                var word = ""
                while index < characters.count,
                    characters[index].isLetter || characters[index].isNumber || "._-".contains(characters[index])
                {
                    word.append(characters[index])
                    index += 1
                }
                tokens.append(.word(word))
            } else {
                throw ParseError(message: "Syntax error '\(character)'")
            }
        }
        return tokens
    }

    /// The literal at the top of the (reversed) token stack.
    static func literal(_ tokens: inout [Token]) throws(ParseError) -> Literal {
        switch tokens.popLast() {
        case .string(let text)?: return .string(text)
        case .word("true")?: return .bool(true)
        case .word("false")?: return .bool(false)
        case .word("null")?: return .null
        case .word("Guid")?:
            guard tokens.popLast() == .symbol("("), case .string(let id)? = tokens.popLast(),
                tokens.popLast() == .symbol(")")
            else { throw ParseError(message: "Expression expected") }
            guard UUID(uuidString: id) != nil else { throw ParseError(message: "Guid should contain 32 digits") }
            return .guid(id)
        case .word(let word)?:
            guard word.utf8.count <= 30, let number = Decimal(string: word, locale: Locale(identifier: "en_US_POSIX")),
                word.first?.isNumber == true || word.first == "-"
            else { throw ParseError(message: "No property or field '\(word)' exists") }
            return .number(number)
        default:
            throw ParseError(message: "Expression expected")
        }
    }
}

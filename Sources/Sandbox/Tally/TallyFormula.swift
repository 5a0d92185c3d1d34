/// A collection `FILTER` formula, in the part of TDL's expression language the emulator evaluates: comparisons of a
/// field with a number (`$AlterID > 120`, `>=`, `<`, `<=`, `=`), with text (`$Name = "Cash"`,
/// `$$IsEqual:$Parent:"Sundry Debtors"`), joined with `AND` and `OR` (`AND` binds tighter, no parentheses). Text
/// literals are in double quotes, a quote inside written twice. Anything else is refused when the formula is read.
struct TallyFormula: Sendable, Hashable {
    /// Why a formula was refused.
    struct Failure: Error, Sendable {
        let message: String
    }

    /// A value a field holds or a literal names.
    enum Value: Sendable, Hashable {
        case number(Int64)
        case text(String)
    }

    enum Operator: String, Sendable, CaseIterable {
        case greaterOrEqual = ">="
        case lessOrEqual = "<="
        case greater = ">"
        case less = "<"
        case equal = "="
    }

    struct Comparison: Sendable, Hashable {
        let field: String
        let op: Operator
        let value: Value
    }

    /// The fields a formula may name, by their lower-cased name, with the name objects give them.
    static let fields: [String: String] = [
        "alterid": "AlterID", "masterid": "MasterID", "guid": "GUID", "parent": "Parent", "name": "Name",
        "vouchertypename": "VoucherTypeName", "vouchernumber": "VoucherNumber", "date": "Date",
        "iscancelled": "IsCancelled",
    ]

    /// Alternatives (`OR`), each a conjunction (`AND`) of comparisons.
    let alternatives: [[Comparison]]

    /// Reads `text`; throws for anything outside the grammar.
    init(_ text: String) throws(Failure) {
        let trimmed = String(text.trimmingWhitespace)
        guard !trimmed.isEmpty else { throw Failure(message: "The formula is empty") }
        var alternatives: [[Comparison]] = []
        for alternative in try Self.split(Substring(trimmed), on: "OR") {
            var terms: [Comparison] = []
            for term in try Self.split(alternative, on: "AND") {
                terms.append(try Self.comparison(String(term.trimmingWhitespace)))
            }
            alternatives.append(terms)
        }
        self.alternatives = alternatives
    }

    /// Whether an object whose fields `value(of:)` gives satisfies the formula. A field the object does not have reads
    /// as empty text or zero.
    func holds(_ value: (String) -> Value?) -> Bool {
        alternatives.contains { terms in
            terms.allSatisfy { term in Self.compare(value(term.field), term.op, term.value) }
        }
    }

    private static func compare(_ held: Value?, _ op: Operator, _ literal: Value) -> Bool {
        switch literal {
        case .number(let number):
            let left: Int64
            switch held {
            case .number(let value): left = value
            case .text(let text): left = Int64(text) ?? 0
            case nil: left = 0
            }
            switch op {
            case .greater: return left > number
            case .greaterOrEqual: return left >= number
            case .less: return left < number
            case .lessOrEqual: return left <= number
            case .equal: return left == number
            }
        case .text(let text):
            let left: String
            switch held {
            case .number(let value): left = String(value)
            case .text(let value): left = value
            case nil: left = ""
            }
            // Tally compares names without regard to case.
            return left.lowercased() == text.lowercased()
        }
    }

    /// `text` split at ` keyword ` outside quoted literals (the keyword in any case).
    private static func split(_ text: Substring, on keyword: String) throws(Failure) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        var quoted = false
        let needle = " \(keyword) "
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" {
                quoted.toggle()
            } else if !quoted, character == " ",
                text[index...].prefix(needle.count).uppercased() == needle
            {
                parts.append(text[start..<index])
                index = text.index(index, offsetBy: needle.count)
                start = index
                continue
            }
            index = text.index(after: index)
        }
        guard !quoted else { throw Failure(message: "A text literal is not closed in the formula") }
        parts.append(text[start...])
        return parts
    }

    private static func comparison(_ term: String) throws(Failure) -> Comparison {
        if term.lowercased().hasPrefix("$$isequal:") {
            let rest = term.dropFirst("$$IsEqual:".count)
            guard rest.hasPrefix("$"), let colon = rest.firstIndex(of: ":") else {
                throw Failure(message: "Could not evaluate '\(term)'")
            }
            let field = try fieldName(rest[rest.index(after: rest.startIndex)..<colon])
            let literal = try value(rest[rest.index(after: colon)...])
            guard case .text = literal else { throw Failure(message: "$$IsEqual needs a text value in '\(term)'") }
            return Comparison(field: field, op: .equal, value: literal)
        }
        guard term.hasPrefix("$"), !term.hasPrefix("$$") else {
            throw Failure(message: "Could not evaluate '\(term)'")
        }
        let body = term.dropFirst()
        guard let end = body.firstIndex(where: { !($0.isLetter || $0.isNumber) }) else {
            throw Failure(message: "Could not evaluate '\(term)'")
        }
        let field = try fieldName(body[..<end])
        let rest = body[end...].trimmingWhitespace
        guard let op = Operator.allCases.first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw Failure(message: "Could not evaluate '\(term)'")
        }
        let literal = try value(rest.dropFirst(op.rawValue.count).trimmingWhitespace)
        if case .text = literal, op != .equal {
            throw Failure(message: "Text can only be compared with = in '\(term)'")
        }
        return Comparison(field: field, op: op, value: literal)
    }

    private static func fieldName(_ name: Substring) throws(Failure) -> String {
        guard let field = fields[name.lowercased()] else {
            throw Failure(message: "Unknown field '$\(name)' in the formula")
        }
        return field
    }

    private static func value(_ text: Substring) throws(Failure) -> Value {
        if text.first == "\"" {
            guard text.count >= 2, text.last == "\"" else { throw Failure(message: "Bad text literal \(text)") }
            let inner = text.dropFirst().dropLast()
            var out = ""
            var index = inner.startIndex
            while index < inner.endIndex {
                let character = inner[index]
                if character == "\"" {
                    let next = inner.index(after: index)
                    guard next < inner.endIndex, inner[next] == "\"" else {
                        throw Failure(message: "Bad text literal \(text)")
                    }
                    out.append("\"")
                    index = inner.index(after: next)
                    continue
                }
                out.append(character)
                index = inner.index(after: index)
            }
            return .text(out)
        }
        var digits = text
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy(\.isASCIIDigit), let number = Int64(digits) else {
            throw Failure(message: "Bad number '\(text)' in the formula")
        }
        return .number(negative ? -number : number)
    }
}

/// Collects every field error of one document, so a 422 names all of them at once.
public final class Diagnostics {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public func add(_ field: String, _ message: String) {
        errors.append(FieldError(field: field, message: message))
    }

    public func add(_ errors: [FieldError], under parent: String) {
        self.errors.append(contentsOf: errors.map { $0.nested(under: parent) })
    }
}

/// Reads typed fields from a JSON object, reporting each missing or wrong field by its path.
public struct FieldReader {
    public let members: [String: JSONValue]
    public let path: String
    public let diagnostics: Diagnostics

    public init(_ members: [String: JSONValue], path: String, diagnostics: Diagnostics) {
        self.members = members
        self.path = path
        self.diagnostics = diagnostics
    }

    public func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func fail<T>(_ key: String, _ message: String) -> T? {
        diagnostics.add(field(key), message)
        return nil
    }

    /// The value, treating `null` as absent.
    private func value(_ key: String) -> JSONValue? {
        guard let value = members[key], value != .null else { return nil }
        return value
    }

    /// A required, non-blank string.
    public func string(_ key: String) -> String? {
        guard let value = value(key) else { return fail(key, "is required") }
        return nonBlank(key, value)
    }

    public func optionalString(_ key: String) -> String? {
        guard let value = value(key) else { return nil }
        return nonBlank(key, value)
    }

    private func nonBlank(_ key: String, _ value: JSONValue) -> String? {
        guard case .string(let text) = value else { return fail(key, "must be a string, not \(value.typeDescription)") }
        guard !text.allSatisfy(\.isWhitespace) else { return fail(key, "must not be blank") }
        return text
    }

    public func currency(_ key: String, required: Bool = true) -> Currency? {
        guard let code = required ? string(key) : optionalString(key) else { return nil }
        guard let currency = Currency(code: code) else {
            return fail(key, "\"\(code)\" is not an ISO 4217 currency code")
        }
        return currency
    }

    /// A required amount. When `currency` is unknown (already reported), only the type is checked.
    public func money(_ key: String, _ currency: Currency?) -> Money? {
        guard value(key) != nil else { return fail(key, "is required") }
        return optionalMoney(key, currency)
    }

    public func optionalMoney(_ key: String, _ currency: Currency?) -> Money? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else {
            return fail(key, "must be a decimal string such as \"1180.00\", not \(value.typeDescription)")
        }
        guard let currency else { return nil }
        do {
            return try Money(parsing: text, currency: currency)
        } catch {
            return fail(key, "\"\(text)\" \(error)")
        }
    }

    /// A decimal given as a JSON number or a decimal string (`2`, `1.5`, `"0.25"`).
    public func decimal(_ key: String, required: Bool = true, maximumFractionDigits: Int = 6) -> ScaledDecimal? {
        guard let value = value(key) else { return required ? fail(key, "is required") : nil }
        let text: String
        switch value {
        case .number(let literal): text = literal
        case .string(let literal): text = literal
        default: return fail(key, "must be a number, not \(value.typeDescription)")
        }
        do {
            return try ScaledDecimal(parsing: text, maximumFractionDigits: maximumFractionDigits)
        } catch .tooManyFractionDigits {
            return fail(key, "has more than \(maximumFractionDigits) decimal places")
        } catch {
            return fail(key, "\"\(text)\" is not a plain decimal number")
        }
    }

    public func date(_ key: String, required: Bool = true) -> LocalDate? {
        guard let text = required ? string(key) : optionalString(key) else { return nil }
        guard let date = LocalDate(parsing: text) else { return fail(key, "\"\(text)\" is not a date (YYYY-MM-DD)") }
        return date
    }

    public func timestamp(_ key: String, required: Bool = true) -> Timestamp? {
        guard let text = required ? string(key) : optionalString(key) else { return nil }
        guard let instant = Timestamp(rfc3339: text) else {
            return fail(key, "\"\(text)\" is not an RFC 3339 instant such as 2026-11-21T09:30:00Z")
        }
        return instant
    }

    public func object(_ key: String, required: Bool = true) -> FieldReader? {
        guard let value = value(key) else { return required ? fail(key, "is required") : nil }
        guard case .object(let members) = value else {
            return fail(key, "must be an object, not \(value.typeDescription)")
        }
        return FieldReader(members, path: field(key), diagnostics: diagnostics)
    }

    /// The elements of an array of objects, each with its own reader (`lines[2]`).
    public func objects(_ key: String, required: Bool = true) -> [FieldReader]? {
        guard let value = value(key) else { return required ? fail(key, "is required") : nil }
        guard case .array(let elements) = value else {
            return fail(key, "must be an array, not \(value.typeDescription)")
        }
        var readers: [FieldReader] = []
        for (position, element) in elements.enumerated() {
            guard case .object(let members) = element else {
                diagnostics.add("\(field(key))[\(position)]", "must be an object, not \(element.typeDescription)")
                continue
            }
            readers.append(FieldReader(members, path: "\(field(key))[\(position)]", diagnostics: diagnostics))
        }
        return readers
    }
}

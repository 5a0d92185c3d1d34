import Accounting
import Foundation

extension OpenAPIDocument {
    /// One check of a value against a schema of the document, collecting what breaks it.
    struct SchemaCheck {
        enum Mode: Equatable {
            /// What a client sends: `readOnly` properties are refused; dates may be `YYYY-MM-DD`.
            case request
            /// What the platform answers: `x-is-msdate` strings must be `/Date(milliseconds)/`.
            case response
        }

        let document: OpenAPIDocument
        let mode: Mode
        private(set) var found: [String] = []

        init(document: OpenAPIDocument, mode: Mode) {
            self.document = document
            self.mode = mode
        }

        /// Every keyword Xero's specs use in a schema. Annotations (`description`, `example`, `default`,
        /// `externalDocs`, `x-is-money`, `x-objectArrayKey`, `x-enum-varnames`) change nothing; the rest are checked.
        /// A keyword outside this set is reported, so a schema is never passed on a rule it was not checked for.
        /// Sage's Swagger 2.0 spec adds `minimum` and `maximum` (checked), `x-nullable` (a null is allowed) and the
        /// annotation `x-sage-menusection`.
        static let known: Set<String> = [
            "$ref", "type", "properties", "items", "required", "enum", "maxLength", "format", "readOnly",
            "x-is-msdate", "x-is-msdate-time", "minimum", "maximum", "x-nullable",
            "description", "example", "default", "externalDocs", "x-is-money", "x-objectArrayKey", "x-enum-varnames",
            "x-sage-menusection",
        ]

        /// The formats checked; others are reported.
        static let formats: [String: Set<String>] = [
            "string": ["uuid", "date", "date-time", "binary"],
            "number": ["double"],
            "integer": ["int32"],
        ]

        mutating func check(
            _ value: JSONValue, against schema: JSONValue, at path: String, envelope: [String: JSONValue] = [:],
            name: String? = nil, depth: Int = 0
        ) {
            guard depth < 256 else {
                found.append("\(path): the schema nests deeper than the check follows")
                return
            }
            guard case .object(let keywords) = schema else {
                found.append("\(path): the schema is not an object")
                return
            }
            for keyword in keywords.keys.sorted() where !Self.known.contains(keyword) {
                found.append("\(path): the schema uses \(keyword), which this check does not know")
            }
            // OpenAPI 3.0: a `$ref` replaces its object; siblings (Xero repeats `type: string` beside some) are ignored.
            if let reference = keywords["$ref"]?.stringValue {
                guard let target = document.pointer(reference) else {
                    found.append("\(path): the schema's $ref \(reference) names nothing")
                    return
                }
                let targetName = reference.split(separator: "/").last.map(String.init)
                check(value, against: target, at: path, envelope: envelope, name: targetName, depth: depth + 1)
                return
            }
            if mode == .request, keywords["readOnly"]?.boolValue == true {
                found.append("\(path): read-only, not accepted in a request")
                return
            }
            if value == .null {
                if keywords["x-nullable"]?.boolValue == true { return }
                found.append("\(path): null, which the schema does not allow")
                return
            }
            let type = keywords["type"]?.stringValue ?? (keywords["properties"] != nil ? "object" : nil)
            if let type {
                guard Self.value(value, is: type) else {
                    found.append("\(path): \(Self.describe(value)) is not \(Self.article(type)) \(type)")
                    return
                }
            }
            if let options = keywords["enum"]?.arrayValue, !options.contains(value) {
                let list = options.map { $0.stringValue ?? $0.canonicalString }
                let shown =
                    list.count > 12 ? list.prefix(12).joined(separator: ", ") + ", …" : list.joined(separator: ", ")
                found.append("\(path): \(Self.describe(value)) is not one of \(shown)")
            }
            if let format = keywords["format"]?.stringValue {
                checkFormat(format, of: value, type: type, at: path)
            }
            if case .number(let text) = value, let number = Decimal(string: text) {
                if let minimum = keywords["minimum"].flatMap(Self.decimal), number < minimum {
                    found.append("\(path): \(text) is less than the minimum \(minimum)")
                }
                if let maximum = keywords["maximum"].flatMap(Self.decimal), number > maximum {
                    found.append("\(path): \(text) is more than the maximum \(maximum)")
                }
            }
            if let limit = keywords["maxLength"]?.intValue, case .string(let text) = value,
                text.unicodeScalars.count > limit
            {
                found.append("\(path): \(text.unicodeScalars.count) characters, more than the \(limit) allowed")
            }
            if keywords["x-is-msdate"]?.boolValue == true || keywords["x-is-msdate-time"]?.boolValue == true,
                case .string(let text) = value
            {
                checkDate(text, at: path)
            }
            if case .object(let members) = value {
                checkMembers(members, of: keywords, at: path, envelope: envelope, name: name, depth: depth)
            }
            if case .array(let elements) = value, let items = keywords["items"] {
                for (index, element) in elements.enumerated() {
                    check(element, against: items, at: "\(path)[\(index)]", depth: depth + 1)
                }
            }
        }

        private mutating func checkMembers(
            _ members: [String: JSONValue], of keywords: [String: JSONValue], at path: String,
            envelope: [String: JSONValue], name: String?, depth: Int
        ) {
            let properties = keywords["properties"]?.objectValue ?? [:]
            for required in keywords["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            where members[required] == nil {
                // OpenAPI 3.0: a required read-only property is required in answers only.
                let readOnly = document.resolve(properties[required])?["readOnly"]?.boolValue == true
                if !(mode == .request && readOnly) { found.append("\(path).\(required): required, missing") }
            }
            for (member, value) in members.sorted(by: { $0.key < $1.key }) {
                if let property = properties[member] {
                    check(value, against: property, at: "\(path).\(member)", depth: depth + 1)
                } else if let property = envelope[member] {
                    check(value, against: property, at: "\(path).\(member)", depth: depth + 1)
                } else {
                    found.append("\(path).\(member): not a property of \(name ?? "this object")")
                }
            }
        }

        private mutating func checkFormat(_ format: String, of value: JSONValue, type: String?, at path: String) {
            guard let type, Self.formats[type]?.contains(format) == true else {
                found.append(
                    "\(path): the schema's format \(format) (for \(type ?? "no type")) is not one this check knows")
                return
            }
            switch (format, value) {
            case ("uuid", .string(let text)) where UUID(uuidString: text) == nil || text.count != 36:
                found.append("\(path): \(Self.describe(value)) is not a UUID")
            case ("date", .string(let text)) where !Self.isDate(text):
                found.append("\(path): \(Self.describe(value)) is not a date (YYYY-MM-DD)")
            case ("date-time", .string(let text)) where !Self.isDateTime(text):
                found.append("\(path): \(Self.describe(value)) is not a date-time (RFC 3339)")
            case ("int32", .number(let text)) where Int32(text) == nil:
                found.append("\(path): \(text) does not fit a 32-bit integer")
            case ("double", .number(let text)) where !(Double(text)?.isFinite ?? false):
                found.append("\(path): \(text) is not a finite number")
            default:
                break
            }
        }

        /// Xero's dates: `/Date(1552262400000+0000)/` in answers; a request may also give `2019-03-11` or
        /// `2019-03-11T00:00:00`.
        private mutating func checkDate(_ text: String, at path: String) {
            if Self.isMicrosoftDate(text) { return }
            switch mode {
            case .response:
                found.append("\(path): \"\(text)\" is not a /Date(milliseconds)/ date")
            case .request where !Self.isDate(text) && !Self.isDateTime(text):
                found.append("\(path): \"\(text)\" is neither YYYY-MM-DD nor /Date(milliseconds)/")
            case .request:
                break
            }
        }

        /// A query or path parameter's text, read as its schema's type and checked.
        mutating func check(parameter text: String, against schema: JSONValue, at place: String) {
            let resolved = document.resolve(schema) ?? schema
            let type = resolved["type"]?.stringValue ?? "string"
            switch type {
            case "array":
                let items = resolved["items"] ?? ["type": "string"]
                for (index, part) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
                    check(parameter: String(part), against: items, at: "\(place)[\(index)]")
                }
                return
            case "boolean" where ["true", "false"].contains(text.lowercased()):
                check(.bool(text.lowercased() == "true"), against: resolved, at: place)
            case "integer" where Int(text) != nil, "number" where Double(text)?.isFinite == true:
                check(.number(text), against: resolved, at: place)
            default:
                check(.string(text), against: resolved, at: place)
            }
        }

        static func value(_ value: JSONValue, is type: String) -> Bool {
            switch (type, value) {
            case ("string", .string), ("boolean", .bool), ("object", .object), ("array", .array), ("number", .number):
                true
            case ("integer", .number(let text)):
                !text.contains(".") && !text.contains("e") && !text.contains("E")
            default:
                false
            }
        }

        static func decimal(_ value: JSONValue) -> Decimal? {
            if case .number(let text) = value { return Decimal(string: text) }
            return nil
        }

        static func describe(_ value: JSONValue) -> String {
            let text = value.canonicalString
            let shown = text.count > 60 ? text.prefix(60) + "…" : Substring(text)
            return "\(shown) (\(value.typeDescription))"
        }

        static func article(_ type: String) -> String {
            type.first.map { "aeiou".contains($0) } == true ? "an" : "a"
        }

        static func isMicrosoftDate(_ text: String) -> Bool {
            text.wholeMatch(of: /\/Date\(-?[0-9]{1,15}([+-][0-9]{4})?\)\//) != nil
        }

        static func isDate(_ text: String) -> Bool {
            text.wholeMatch(of: /[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])/) != nil
        }

        static func isDateTime(_ text: String) -> Bool {
            text.wholeMatch(
                of: /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?(Z|[+-][0-9]{2}:[0-9]{2})?/)
                != nil
        }
    }
}

public import Accounting
public import Foundation

/// A JSON Schema (draft 2020-12), as far as Ledgerwire's event schemas (docs/events/) use it: `type` (a name or a
/// list), `required`, `properties`, `additionalProperties` (`false` or a schema), `enum`, `const`, `pattern`,
/// `items`, `minItems`, `$defs` with local `$ref`s (`#/$defs/name`). A keyword it does not know fails the schema
/// instead of being ignored, so a schema can never pass more than it says.
public struct JSONSchema: Sendable {
    public let root: JSONValue

    public init(_ root: JSONValue) {
        self.root = root
    }

    /// The schema in a file.
    public init(contentsOf url: URL) throws {
        self.init(try JSONValue(parsing: Array(try Data(contentsOf: url))))
    }

    private static let known: Set<String> = [
        "$schema", "$id", "$defs", "$ref", "title", "description", "type", "required", "properties",
        "additionalProperties", "enum", "const", "pattern", "items", "minItems", "examples",
    ]

    /// Every way `value` breaks the schema, each as `path: what` (`$.data.amount: "59" does not match …`); empty
    /// when it conforms.
    public func violations(of value: JSONValue) -> [String] {
        var found: [String] = []
        check(value, against: root, path: "$", into: &found)
        return found
    }

    private func check(_ value: JSONValue, against schema: JSONValue, path: String, into found: inout [String]) {
        if schema == .bool(true) { return }
        if schema == .bool(false) {
            found.append("\(path): nothing is allowed here")
            return
        }
        guard case .object(let keywords) = schema else {
            found.append("\(path): the schema is not an object")
            return
        }
        for keyword in keywords.keys where !Self.known.contains(keyword) {
            found.append("\(path): the schema uses \(keyword), which this validator does not know")
        }
        if let reference = keywords["$ref"]?.stringValue {
            let name = reference.hasPrefix("#/$defs/") ? String(reference.dropFirst(8)) : ""
            guard let target = root["$defs"]?[name] else {
                found.append("\(path): unresolved $ref \(reference)")
                return
            }
            check(value, against: target, path: path, into: &found)
        }
        if let type = keywords["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            if !allowed.contains(where: { Self.value(value, is: $0) }) {
                found.append("\(path): \(value.canonicalString) is not \(allowed.joined(separator: " or "))")
                return
            }
        }
        if let constant = keywords["const"], constant != value {
            found.append("\(path): \(value.canonicalString) is not \(constant.canonicalString)")
        }
        if let options = keywords["enum"]?.arrayValue, !options.contains(value) {
            found.append("\(path): \(value.canonicalString) is not one of \(JSONValue.array(options).canonicalString)")
        }
        if let pattern = keywords["pattern"]?.stringValue, case .string(let text) = value {
            if let regex = try? Regex(pattern) {
                if (try? regex.firstMatch(in: text)) == nil {
                    found.append("\(path): \"\(text)\" does not match \(pattern)")
                }
            } else {
                found.append("\(path): the pattern \(pattern) is not a regular expression")
            }
        }
        if case .object(let members) = value {
            for name in keywords["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                found.append("\(path): \(name) is required")
            }
            let properties = keywords["properties"]?.objectValue ?? [:]
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = properties[name] {
                    check(member, against: property, path: "\(path).\(name)", into: &found)
                } else if let additional = keywords["additionalProperties"] {
                    check(member, against: additional, path: "\(path).\(name)", into: &found)
                }
            }
        }
        if case .array(let elements) = value {
            if let minimum = keywords["minItems"]?.intValue, elements.count < minimum {
                found.append("\(path): \(elements.count) items, fewer than \(minimum)")
            }
            if let items = keywords["items"] {
                for (index, element) in elements.enumerated() {
                    check(element, against: items, path: "\(path)[\(index)]", into: &found)
                }
            }
        }
    }

    private static func value(_ value: JSONValue, is type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("object", .object), ("array", .array),
            ("number", .number):
            true
        case ("integer", .number(let text)):
            !text.contains(".") && !text.lowercased().contains("e")
        default:
            false
        }
    }
}

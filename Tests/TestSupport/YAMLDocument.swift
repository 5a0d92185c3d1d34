import Accounting
import Foundation
import Yams

/// YAML read as JSON (`JSONValue`), for OpenAPI documents.
///
/// Scalars follow the YAML 1.2 core schema, not Yams' YAML 1.1 defaults: a quoted scalar is always a string, and a
/// plain one is `true`/`false`, `null`/`~`, a number, or else a string. (Under YAML 1.1, Xero's `CountryCode` value
/// `NO` would read as `false`, and an unquoted date as a timestamp.)
enum YAMLDocument {
    static func parse(_ text: String) throws -> JSONValue {
        guard let node = try Yams.compose(yaml: text) else {
            throw OpenAPIDocumentError(message: "the YAML document is empty")
        }
        return try value(of: node)
    }

    private static func value(of node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            return scalarValue(scalar)
        case .sequence(let sequence):
            return .array(try sequence.map(value(of:)))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, member) in mapping {
                guard case .scalar(let name) = key else {
                    throw OpenAPIDocumentError(
                        message: "a mapping key that is not a scalar at \(key.mark.map { "\($0)" } ?? "?")")
                }
                members[name.string] = try value(of: member)
            }
            return .object(members)
        case .alias:
            throw OpenAPIDocumentError(message: "YAML aliases are not supported at \(node.mark.map { "\($0)" } ?? "?")")
        }
    }

    private static func scalarValue(_ scalar: Node.Scalar) -> JSONValue {
        guard scalar.style == .plain else { return .string(scalar.string) }
        let text = scalar.string
        switch text {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null", "~", "": return .null
        default:
            if text.wholeMatch(of: /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/) != nil { return .number(text) }
            return .string(text)
        }
    }
}

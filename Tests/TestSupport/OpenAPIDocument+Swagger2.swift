public import Accounting
import Foundation

/// Swagger 2.0 documents (Sage's), checked as the OpenAPI 3.0 document they translate to: `basePath` becomes the
/// server's path, an `in: body` parameter the `requestBody`, a response's `schema` its `application/json` content, a
/// parameter's own `type`/`format`/`items` its `schema`. `#/definitions/…` references stay as they are: the
/// document's root keeps `definitions`, and a reference is a JSON pointer into it.
extension OpenAPIDocument {
    /// Sage Business Cloud Accounting's API v3.1 (specs/sage-business-cloud/openapi.json), read once per process,
    /// with what Sage documents outside the spec:
    /// - a list answers its envelope (`$total`, `$page`, `$next`, `$back`, `$items_per_page`, `$items`; platforms.md
    ///   §5.2), not the bare array the spec declares; `$next` and `$back` are null on the last and first page;
    /// - an error answers a JSON array of `{$severity, $dataCode, $message, $source}` (Sage's "Frequently Raised
    ///   Errors" guide), with 400, 401, 403, 404, 422 or 429 (Sage's "Response Codes" guide);
    /// - a create may carry `idempotency_id` inside its entity, for the resources Sage's idempotency guide lists
    ///   (https://developer.sage.com/accounting/guides/concepts/idempotency).
    public static let sageBusinessCloud: OpenAPIDocument = {
        let url = specs.appendingPathComponent("sage-business-cloud/openapi.json")
        do {
            let data = try Data(contentsOf: url)
            let root = try JSONValue(parsing: data)
            return try OpenAPIDocument(root: sageExtensions(openAPI3(fromSwagger2: root)))
        } catch {
            return OpenAPIDocument(failure: "\(url.path) could not be read: \(error)")
        }
    }()

    /// The entities Sage's idempotency guide names, by the singular key of their create's body.
    static let sageIdempotent: Set<String> = [
        "contact", "contact_allocation", "contact_payment", "sales_invoice", "sales_credit_note", "sales_quote",
        "sales_estimate", "purchase_invoice", "purchase_credit_note", "journal", "ledger_account", "product",
        "service", "other_payment", "bank_transfer", "bank_deposit",
    ]

    /// A Swagger 2.0 document as the OpenAPI 3.0 document this checker reads; any other document unchanged.
    public static func openAPI3(fromSwagger2 root: JSONValue) -> JSONValue {
        guard root["swagger"]?.stringValue == "2.0", var document = root.objectValue else { return root }
        document.removeValue(forKey: "swagger")
        document["openapi"] = "3.0.0"
        document["servers"] = [["url": .string(root["basePath"]?.stringValue ?? "")]]
        var paths: [String: JSONValue] = [:]
        for (template, item) in root["paths"]?.objectValue ?? [:] {
            var converted: [String: JSONValue] = [:]
            for (key, value) in item.objectValue ?? [:] {
                switch key {
                case "get", "put", "post", "delete", "patch", "head", "options":
                    converted[key] = operation(value)
                case "parameters":
                    converted[key] = .array((value.arrayValue ?? []).filter { $0["in"] != "body" }.map(parameter))
                default:
                    converted[key] = value
                }
            }
            paths[template] = .object(converted)
        }
        document["paths"] = .object(paths)
        return .object(document)
    }

    private static func operation(_ value: JSONValue) -> JSONValue {
        guard var operation = value.objectValue else { return value }
        let parameters = operation["parameters"]?.arrayValue ?? []
        if let body = parameters.first(where: { $0["in"] == "body" }) {
            operation["requestBody"] = [
                "required": body["required"] ?? false,
                "content": ["application/json": ["schema": body["schema"] ?? [:]]],
            ]
        }
        operation["parameters"] = .array(parameters.filter { $0["in"] != "body" }.map(parameter))
        var responses: [String: JSONValue] = [:]
        for (status, response) in operation["responses"]?.objectValue ?? [:] {
            var converted: [String: JSONValue] = ["description": response["description"] ?? ""]
            if let schema = response["schema"] {
                converted["content"] = ["application/json": ["schema": schema]]
            }
            responses[status] = .object(converted)
        }
        operation["responses"] = .object(responses)
        return .object(operation)
    }

    /// A non-body parameter: its type keywords move into `schema`.
    private static func parameter(_ value: JSONValue) -> JSONValue {
        guard var parameter = value.objectValue, parameter["schema"] == nil else { return value }
        var schema: [String: JSONValue] = [:]
        for key in ["type", "format", "items", "enum", "maximum", "minimum", "maxLength"] {
            if let keyword = parameter.removeValue(forKey: key) { schema[key] = keyword }
        }
        parameter.removeValue(forKey: "collectionFormat")
        parameter["schema"] = .object(schema)
        return .object(parameter)
    }

    /// What Sage documents outside its spec (see ``sageBusinessCloud``), added to the translated document.
    static func sageExtensions(_ root: JSONValue) -> JSONValue {
        guard var document = root.objectValue, var definitions = root["definitions"]?.objectValue else { return root }
        // The idempotency guide's `idempotency_id`, inside the entity of each create that takes it.
        for (name, definition) in definitions where name.hasPrefix("post") {
            guard var wrapper = definition.objectValue, var properties = wrapper["properties"]?.objectValue,
                properties.count == 1, let key = properties.keys.first, sageIdempotent.contains(key),
                var entity = properties[key]?.objectValue, var fields = entity["properties"]?.objectValue
            else { continue }
            fields["idempotency_id"] = [
                "type": "string", "description": "A key that makes repeating this create answer the first one",
            ]
            entity["properties"] = .object(fields)
            properties[key] = .object(entity)
            wrapper["properties"] = .object(properties)
            definitions[name] = .object(wrapper)
        }
        definitions["SageError"] = [
            "type": "array",
            "items": [
                "type": "object", "required": ["$severity", "$dataCode", "$message", "$source"],
                "properties": [
                    "$severity": ["type": "string", "enum": ["error", "warning", "info"]],
                    "$dataCode": ["type": "string"], "$message": ["type": "string"], "$source": ["type": "string"],
                ],
            ],
        ]
        document["definitions"] = .object(definitions)
        var paths: [String: JSONValue] = [:]
        for (template, item) in root["paths"]?.objectValue ?? [:] {
            guard var methods = item.objectValue else { continue }
            for method in ["get", "put", "post", "delete"] {
                guard var operation = methods[method]?.objectValue,
                    var responses = operation["responses"]?.objectValue
                else { continue }
                for status in ["400", "401", "403", "404", "422", "429"] {
                    responses[status] = [
                        "description": "Sage's error array",
                        "content": ["application/json": ["schema": ["$ref": "#/definitions/SageError"]]],
                    ]
                }
                if method == "get", let list = responses["200"]?["content"]?["application/json"]?["schema"],
                    list["type"] == "array", let items = list["items"]
                {
                    responses["200"] = [
                        "description": "The list envelope",
                        "content": ["application/json": ["schema": envelope(items)]],
                    ]
                }
                operation["responses"] = .object(responses)
                methods[method] = .object(operation)
            }
            paths[template] = .object(methods)
        }
        document["paths"] = .object(paths)
        return .object(document)
    }

    private static func envelope(_ items: JSONValue) -> JSONValue {
        [
            "type": "object", "required": ["$total", "$page", "$next", "$back", "$items_per_page", "$items"],
            "properties": [
                "$total": ["type": "integer"], "$page": ["type": "integer"],
                "$next": ["type": "string", "x-nullable": true], "$back": ["type": "string", "x-nullable": true],
                "$items_per_page": ["type": "integer"], "$items": ["type": "array", "items": items],
            ],
        ]
    }
}

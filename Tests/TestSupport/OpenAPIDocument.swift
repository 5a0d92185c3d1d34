public import Accounting
public import Connectors
public import Foundation

/// An OpenAPI 3.0 document (a platform's official spec under specs/), and the check of requests and answers
/// against it.
///
/// The check is strict, because its point is to catch a misspelt field or a value the platform would refuse: a
/// property the schema does not name is a violation, and so are a wrong `type`, a value outside `enum`, a string
/// over `maxLength`, a malformed `format: uuid`, a missing `required` property, a `readOnly` property in a request,
/// an `x-is-msdate` string in an answer that is not `/Date(milliseconds)/`, and a query parameter the operation does
/// not declare. It knows exactly the schema keywords Xero's specs use; a schema with any other keyword is reported
/// as a violation rather than passed.
public struct OpenAPIDocument: Sendable {
    /// The whole document, as JSON.
    public let root: JSONValue
    /// The path of the first server's URL (`/api.xro/2.0`): a path given with it is matched without it.
    public let basePath: String
    /// Properties the platform puts at the top level of every JSON answer beside what the operation's schema says
    /// (Xero's envelope, which its spec shows in every example but does not declare), with their schemas.
    public let responseEnvelope: [String: JSONValue]
    let routes: [Route]
    let loadingFailure: String?

    /// Xero's Accounting API (specs/xero/xero_accounting.yaml), read once per process.
    public static let xeroAccounting = OpenAPIDocument(
        loading: specs.appendingPathComponent("xero/xero_accounting.yaml"),
        responseEnvelope: [
            // https://developer.xero.com/documentation/api/accounting/responsecodes : every JSON answer is wrapped
            // in `{Id, Status, ProviderName, DateTimeUTC, <Collection>: [...]}`, as each example in the spec shows.
            "Id": ["type": "string", "format": "uuid"],
            "Status": ["type": "string", "enum": ["OK"]],
            "ProviderName": ["type": "string"],
            "DateTimeUTC": ["type": "string", "x-is-msdate-time": true],
        ])

    /// The repository's specs/ folder.
    public static let specs = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../specs").standardized

    /// The document in a YAML (or JSON) file.
    public init(contentsOf url: URL, responseEnvelope: [String: JSONValue] = [:]) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        try self.init(root: YAMLDocument.parse(text), responseEnvelope: responseEnvelope)
    }

    /// The document given as JSON (a Swagger 2.0 document is read as the OpenAPI 3.0 one it translates to).
    public init(root: JSONValue, responseEnvelope: [String: JSONValue] = [:]) throws {
        let root = Self.openAPI3(fromSwagger2: root)
        guard let paths = root["paths"]?.objectValue else {
            throw OpenAPIDocumentError(message: "the document has no paths")
        }
        self.root = root
        self.responseEnvelope = responseEnvelope
        self.loadingFailure = nil
        let server = root["servers"]?.arrayValue?.first?["url"]?.stringValue ?? ""
        let serverPath = URLComponents(string: server)?.path ?? ""
        self.basePath = serverPath.hasSuffix("/") ? String(serverPath.dropLast()) : serverPath
        self.routes = paths.keys.sorted().map { Route(template: $0, item: paths[$0] ?? .null) }
    }

    /// A document that could not be read: every check answers why, so a test fails with the reason instead of the
    /// process stopping.
    private init(loading url: URL, responseEnvelope: [String: JSONValue]) {
        do {
            self = try OpenAPIDocument(contentsOf: url, responseEnvelope: responseEnvelope)
        } catch {
            self.init(failure: "\(url.path) could not be read: \(error)")
        }
    }

    init(failure: String) {
        self.root = .null
        self.basePath = ""
        self.responseEnvelope = [:]
        self.routes = []
        self.loadingFailure = failure
    }

    /// Every way a request breaks the spec, each as `where: what`; empty when it conforms.
    ///
    /// - Parameters:
    ///   - method: The HTTP method (`PUT`).
    ///   - path: The path, with or without the server's base path (`/api.xro/2.0/Invoices/{id}` or `/Invoices/{id}`),
    ///     and with or without a `?query` (whose parameters are checked with `query`'s).
    ///   - query: Query parameters, percent-decoded.
    ///   - body: The body as sent; `nil` or empty for none.
    public func violations(
        request method: String, path: String, query: [(name: String, value: String)] = [], body: Data?
    ) -> [String] {
        if let loadingFailure { return [loadingFailure] }
        let (path, fromURL) = Self.split(path)
        let resolved = operation(method: method, path: path)
        guard case .found(let operation, let pathParameters) = resolved else { return resolved.violations }
        var found: [String] = []
        let parameters = self.parameters(of: operation)
        for (name, value) in pathParameters {
            if let schema = parameters.first(where: { $0.location == "path" && $0.name == name })?.schema {
                check(parameter: value, against: schema, at: "path parameter \(name)", into: &found)
            }
        }
        let declared = parameters.filter { $0.location == "query" }
        for (name, value) in fromURL + query {
            guard let parameter = declared.first(where: { $0.name == name }) else {
                found.append(
                    "query parameter \(name): not a parameter of \(operation.name) (it takes "
                        + "\(declared.map(\.name).joined(separator: ", ")))")
                continue
            }
            check(parameter: value, against: parameter.schema, at: "query parameter \(name)", into: &found)
        }
        let requestBody = resolve(operation.value["requestBody"])
        let bytes = body ?? Data()
        guard let requestBody else {
            if !bytes.isEmpty { found.append("\(operation.name) takes no request body") }
            return found
        }
        guard !bytes.isEmpty else {
            if requestBody["required"]?.boolValue == true { found.append("\(operation.name) needs a request body") }
            return found
        }
        if let schema = requestBody["content"]?["application/json"]?["schema"] {
            checkJSON(bytes, against: schema, mode: .request, into: &found)
        }
        return found
    }

    /// Every way an answer breaks the spec, each as `where: what`; empty when it conforms.
    ///
    /// - Parameters:
    ///   - method: The request's HTTP method.
    ///   - path: The request's path, as for ``violations(request:path:query:body:)``.
    ///   - status: The answer's status code: one the operation does not document is a violation.
    ///   - body: The answer's body.
    public func violations(response method: String, path: String, status: Int, body: Data?) -> [String] {
        if let loadingFailure { return [loadingFailure] }
        let resolved = operation(method: method, path: Self.split(path).path)
        guard case .found(let operation, _) = resolved else { return resolved.violations }
        let responses = operation.value["responses"]?.objectValue ?? [:]
        guard let response = resolve(responses[String(status)]) else {
            return [
                "\(operation.name) answers no \(status) in the spec (it documents "
                    + "\(responses.keys.sorted().joined(separator: ", ")))"
            ]
        }
        var found: [String] = []
        let bytes = body ?? Data()
        guard let content = response["content"]?.objectValue else {
            if !bytes.isEmpty { found.append("\(operation.name) \(status) has no body in the spec") }
            return found
        }
        if let schema = content["application/json"]?["schema"] {
            guard !bytes.isEmpty else {
                found.append("\(operation.name) \(status) has a JSON body in the spec; the answer has none")
                return found
            }
            checkJSON(bytes, against: schema, mode: .response, into: &found)
        }
        return found
    }

    /// Every way a connector's request breaks the spec (`violations(request:path:query:body:)` on its parts).
    public func violations(of request: TransportRequest) -> [String] {
        violations(request: request.method, path: Self.pathAndQuery(of: request.url), body: request.body)
    }

    /// Every way the answer to a connector's request breaks the spec.
    public func violations(of response: TransportResponse, to request: TransportRequest) -> [String] {
        violations(
            response: request.method, path: Self.pathAndQuery(of: request.url), status: response.status,
            body: response.body)
    }

    // MARK: Parts

    private static func pathAndQuery(of url: URL) -> String {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let path = components?.percentEncodedPath ?? url.path
        return components?.percentEncodedQuery.map { path + "?" + $0 } ?? path
    }

    /// The path without its query, and the query's parameters, percent-decoded.
    private static func split(_ path: String) -> (path: String, query: [(name: String, value: String)]) {
        guard let mark = path.firstIndex(of: "?") else { return (path, []) }
        let items = URLComponents(string: "http://h/?" + path[path.index(after: mark)...])?.queryItems ?? []
        return (String(path[..<mark]), items.map { ($0.name, $0.value ?? "") })
    }

    private func checkJSON(_ bytes: Data, against schema: JSONValue, mode: SchemaCheck.Mode, into found: inout [String])
    {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            found.append("$: the body is not JSON (\(error))")
            return
        }
        var check = SchemaCheck(document: self, mode: mode)
        check.check(value, against: schema, at: "$", envelope: mode == .response ? responseEnvelope : [:])
        found += check.found
    }

    private func check(parameter value: String, against schema: JSONValue, at place: String, into found: inout [String])
    {
        var check = SchemaCheck(document: self, mode: .request)
        check.check(parameter: value, against: schema, at: place)
        found += check.found
    }

    /// A `$ref` followed (`#/components/…`), or the value itself when it is not one; `nil` for `nil` or a dangling
    /// reference.
    func resolve(_ value: JSONValue?) -> JSONValue? {
        var value = value
        var hops = 0
        while let reference = value?["$ref"]?.stringValue, hops < 16 {
            value = pointer(reference)
            hops += 1
        }
        return value
    }

    /// The value a local JSON pointer (`#/components/schemas/Invoice`) names.
    func pointer(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var value: JSONValue? = root
        for token in reference.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            value = value?[key]
        }
        return value
    }
}

/// Why an OpenAPI document could not be read.
public struct OpenAPIDocumentError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}

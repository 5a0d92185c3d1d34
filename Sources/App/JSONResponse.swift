public import Accounting
public import Hummingbird
import Logging
import NIOCore
public import Persistence

/// A JSON answer built from a ``JSONValue``: exact numbers, keys in a stable order.
public struct JSONResponse: ResponseGenerator, Sendable {
    public var status: HTTPResponse.Status
    public var json: JSONValue

    public init(_ json: JSONValue, status: HTTPResponse.Status = .ok) {
        self.status = status
        self.json = json
    }

    /// A list page: `{"items": [...], "next_cursor": "…" | null}`.
    public static func page<Item>(_ page: Page<Item>, _ transform: (Item) -> JSONValue) -> JSONResponse {
        JSONResponse([
            "items": .array(page.items.map(transform)), "next_cursor": page.nextCursor.map(JSONValue.string) ?? .null,
        ])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json.canonicalBytes))
        )
    }
}

extension Request {
    /// The body as a JSON object, for admin calls; an empty body is an empty object.
    /// - Throws: a 400 problem when it is not a JSON object.
    mutating func jsonObject(context: AppRequestContext) async throws -> [String: JSONValue] {
        let buffer = try await collectBody(upTo: context.maxUploadSize)
        if buffer.readableBytes == 0 { return [:] }
        do {
            guard case .object(let members) = try JSONValue(parsing: buffer.readableBytesView) else {
                throw Problem(status: .badRequest, title: "Bad Request", detail: "the body must be a JSON object")
            }
            return members
        } catch let error as JSONParseError {
            throw Problem(status: .badRequest, title: "Bad Request", detail: "the body is not JSON: \(error)")
        }
    }

    /// `?limit=` and `?cursor=` of a list call.
    func pageRequest() throws -> PageRequest {
        let query = uri.queryParameters
        var limit: Int?
        if let text = query["limit"] {
            guard let value = Int(text), value > 0 else {
                throw Problem.invalid([FieldError(field: "limit", message: "must be a whole number from 1 to 500")])
            }
            limit = value
        }
        return try PageRequest(limit: limit, cursor: query["cursor"].map(String.init))
    }

    /// A query parameter, or `nil`.
    func query(_ name: String) -> String? {
        uri.queryParameters[Substring(name)].map(String.init)
    }

    /// A query parameter naming one of `Value`'s cases, or `nil` when absent.
    /// - Throws: a 422 problem listing the allowed values when it names none.
    func query<Value: RawRepresentable & CaseIterable>(_ name: String, as _: Value.Type) throws -> Value?
    where Value.RawValue == String {
        guard let text = query(name) else { return nil }
        guard let value = Value(rawValue: text) else {
            let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
            throw Problem.invalid([FieldError(field: name, message: "must be one of \(allowed)")])
        }
        return value
    }
}

extension Timestamp {
    var json: JSONValue { .string(rfc3339) }
}

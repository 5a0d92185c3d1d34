import Accounting
import Crypto
import Foundation
import Logging

/// One integration's calls to Xero's Accounting API: the organisation's `xero-tenant-id` on every call, the bearer
/// token, an `Idempotency-Key` on every write, and Xero's answers turned into values or errors.
struct XeroSession {
    let context: ConnectorContext
    let tenantID: String
    private let base: URL

    init(context: ConnectorContext) async throws(ConnectorError) {
        self.context = context
        guard let tenant = try await context.credentials.remoteTenantID(), !tenant.isEmpty else {
            throw .credentialsRefused(
                message: "no Xero organisation is chosen for this integration: choose one (settings.xero_tenant_id)")
        }
        guard Self.isTenantID(tenant) else {
            throw .credentialsRefused(message: "the stored Xero tenant id is not one: connect the integration again")
        }
        tenantID = tenant
        base = XeroConnector.apiBaseURL(settings: context.settings)
    }

    /// Xero's tenant ids are UUIDs; nothing else goes into a header of every call.
    static func isTenantID(_ text: String) -> Bool {
        text.utf8.count == 36 && UUID(uuidString: text) != nil
    }

    func get(_ path: String, query: [(String, String)] = [], modifiedSince: Timestamp? = nil)
        async throws(ConnectorError) -> JSONValue
    {
        var headers: [(String, String)] = []
        if let modifiedSince { headers.append(("If-Modified-Since", XeroTime.header(modifiedSince))) }
        return try await send("GET", path, query: query, body: nil, headers: headers)
    }

    /// A write (`PUT` creates, `POST` creates or updates) under `idempotencyKey`: the same key again gets Xero's
    /// answer to the first, and makes nothing twice.
    func write(
        _ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue, idempotencyKey: String
    ) async throws(ConnectorError) -> JSONValue {
        try await send(
            method, path, query: query, body: body, headers: [("Idempotency-Key", Self.idempotencyKey(idempotencyKey))])
    }

    /// An `Idempotency-Key` for a job's key: the same key always gives the same one, within Xero's 128 characters.
    static func idempotencyKey(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).hexString
    }

    /// Every page of a collection (Xero's pages hold up to 100).
    func list(_ collection: String, query: [(String, String)] = [], modifiedSince: Timestamp? = nil)
        async throws(ConnectorError) -> [JSONValue]
    {
        var found: [JSONValue] = []
        var page = 1
        while page <= Self.maximumPages {
            let answer = try await get(
                collection, query: query + [("page", String(page)), ("pageSize", "100")], modifiedSince: modifiedSince)
            let items = answer[collection]?.arrayValue ?? []
            found += items
            if items.count < 100 { return found }
            page += 1
        }
        return found
    }

    /// Pages read for one listing at most (100,000 records): a bound on what an answer can make us do.
    static let maximumPages = 1000

    /// A string literal for Xero's `where` filter.
    static func literal(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private func send(
        _ method: String, _ path: String, query: [(String, String)], body: JSONValue?, headers extra: [(String, String)]
    ) async throws(ConnectorError) -> JSONValue {
        // Ids in the path (a record's, from Xero or a webhook) cannot climb out of the API's URLs.
        for segment in path.split(separator: "/", omittingEmptySubsequences: false)
        where !DestinationPolicy.isSafePathSegment(String(segment)) {
            throw .validation(code: "invalid_id", message: "an id to put in a Xero URL is not safe: refused")
        }
        guard var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        else { throw .validation(code: "invalid_url", message: "api_base_url does not make a Xero URL") }
        if !query.isEmpty {
            components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) }
            // `+` is a space to a form decoder; a `where` with a `+` in it must keep it.
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        guard let url = components.url else {
            throw .validation(code: "invalid_url", message: "api_base_url does not make a Xero URL")
        }
        let token = try await context.credentials.accessToken()
        var headers = [
            ("Authorization", "Bearer \(token)"), ("xero-tenant-id", tenantID), ("Accept", "application/json"),
        ]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        headers += extra
        let request = TransportRequest(
            method: method, url: url, headers: headers.map { (name: $0.0, value: $0.1) },
            body: body.map { Data($0.canonicalBytes) }, timeout: .seconds(60))
        let response: TransportResponse
        do {
            response = try await context.transport.send(request)
        } catch {
            throw Self.error(for: error)
        }
        return try Self.answer(response)
    }

    /// Xero's answer as JSON, or the error it stands for.
    static func answer(_ response: TransportResponse) throws(ConnectorError) -> JSONValue {
        let json = (try? JSONValue(parsing: response.body)) ?? .null
        switch response.status {
        case 200..<300:
            return json
        case 401:
            throw .authentication(message: "Xero refused the access token (401 \(problemDetail(json) ?? ""))")
        case 403:
            // The organisation was disconnected from the app, or the token was never granted it.
            throw .credentialsRefused(
                message: "Xero refused access to the organisation (403 \(problemDetail(json) ?? "Forbidden")): "
                    + "connect it again")
        case 404:
            throw .validation(code: "xero_404", message: "Xero has no such record (404)")
        case 429:
            let problem = response.header("x-rate-limit-problem").map { String($0.prefix(20)) } ?? "limit"
            throw .busy(
                code: "throttled", message: "Xero answered 429: the \(problem) limit is reached",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")))
        case 503:
            throw .busy(
                code: "xero_503", message: "Xero is unavailable (503)",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")))
        case 500...:
            throw .retryable(
                code: "xero_\(response.status)", message: "Xero answered \(response.status)",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")))
        default:
            throw validationError(json, status: response.status)
        }
    }

    /// A 400: Xero's `ValidationException` with each element's messages, in Xero's words.
    static func validationError(_ json: JSONValue, status: Int) -> ConnectorError {
        let messages = elementMessages(json)
        let summary = json["Message"]?.stringValue.map { String($0.prefix(300)) }
        let text = messages.isEmpty ? (summary ?? "Xero answered HTTP \(status)") : messages.joined(separator: "; ")
        return .validation(code: "xero_validation", message: "Xero refused it: \(text)")
    }

    /// The `ValidationErrors` messages of every element of a `ValidationException` (or of one element).
    static func elementMessages(_ json: JSONValue) -> [String] {
        var messages: [String] = []
        let elements = json["Elements"]?.arrayValue ?? [json]
        for element in elements.prefix(50) {
            for error in (element["ValidationErrors"]?.arrayValue ?? []).prefix(10) {
                if let message = error["Message"]?.stringValue { messages.append(String(message.prefix(300))) }
            }
        }
        return messages
    }

    /// A problem body's `Detail` (`TokenExpired: …`, `AuthenticationUnsuccessful`), kept short.
    static func problemDetail(_ json: JSONValue) -> String? {
        json["Detail"]?.stringValue.map { String($0.prefix(200)) }
    }

    /// A request that got no answer. Only a connection that could not be made says nothing was sent.
    static func error(for error: TransportError) -> ConnectorError {
        .noAnswer(error, from: "Xero")
    }
}

/// Xero's instants: `/Date(1552262400000+0000)/` in answers, `If-Modified-Since` in requests.
enum XeroTime {
    /// `/Date(ms)/` or `/Date(ms+hhmm)/` (the offset says how the instant was shown; the milliseconds are UTC).
    static func parse(_ text: String) -> Timestamp? {
        guard text.hasPrefix("/Date("), text.hasSuffix(")/") else { return nil }
        let inner = text.dropFirst(6).dropLast(2)
        var digits = inner.prefix { $0.isASCII && ($0.isNumber || $0 == "-") }
        let negative = digits.first == "-"
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(\.isNumber), let millis = Int64(digits) else {
            return nil
        }
        return Timestamp(microsecondsSinceEpoch: (negative ? -millis : millis) * 1000)
    }

    /// A `/Date()/` as the calendar day it is in UTC (Xero gives dates as midnight UTC).
    static func day(_ text: String) -> String? {
        parse(text).map { String($0.rfc3339.prefix(10)) }
    }

    /// `If-Modified-Since`, as Xero takes it: an ISO 8601 instant in UTC, to the millisecond.
    static func header(_ timestamp: Timestamp) -> String {
        let text = timestamp.rfc3339
        let seconds = String(text.prefix(19))
        let millis = (timestamp.microsecondsSinceEpoch % 1_000_000 + 1_000_000) % 1_000_000 / 1000
        return seconds + "." + String(format: "%03d", millis) + "Z"
    }
}

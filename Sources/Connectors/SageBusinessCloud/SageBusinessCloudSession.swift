import Accounting
import Crypto
import Foundation

/// One integration's calls to Sage Business Cloud Accounting (API v3.1): the bearer token, the business in
/// `X-Business` on every call, writes wrapped in their singular key, and Sage's answers turned into values or errors
/// (platforms.md §5.2, §5.3).
struct SageBusinessCloudSession {
    let context: ConnectorContext
    let businessID: String
    private let base: URL

    init(context: ConnectorContext) async throws(ConnectorError) {
        self.context = context
        guard let business = try await context.credentials.remoteTenantID(), !business.isEmpty else {
            throw .credentialsRefused(
                message: "no Sage business is chosen for this integration: choose one (settings.business_id)")
        }
        guard Self.isBusinessID(business) else {
            throw .credentialsRefused(message: "the stored Sage business id is not one: connect the integration again")
        }
        businessID = business
        base = SageBusinessCloudConnector.apiBaseURL(settings: context.settings)
    }

    /// Sage's ids are 32 hexadecimal digits (platforms.md §5.2); nothing else goes into a header of every call.
    static func isBusinessID(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Whether `text` can be a Sage record id in a URL.
    static func isRecordID(_ text: String) -> Bool { isBusinessID(text.lowercased()) }

    /// An `idempotency_id` for a job's key: 32 hex digits ("a random 32-character hyphenless GUID", Sage's
    /// idempotency guide), the same for every attempt of the job, so a resent create answers the first one's 201.
    static func idempotencyID(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).prefix(16).hexString
    }

    func get(_ path: String, query: [(String, String)] = []) async throws(ConnectorError) -> JSONValue {
        try await send("GET", path, query: query, body: nil)
    }

    /// `POST /{resource}` with `{singular: entity}`, the entity carrying `idempotency_id` from `idempotencyKey`.
    func create(_ resource: String, _ singular: String, _ entity: [String: JSONValue], idempotencyKey: String)
        async throws(ConnectorError) -> JSONValue
    {
        var entity = entity
        entity["idempotency_id"] = .string(Self.idempotencyID(idempotencyKey))
        return try await send("POST", resource, query: [], body: [singular: .object(entity)])
    }

    /// `PUT /{resource}/{id}` with `{singular: entity}`: the fields given change.
    func update(_ resource: String, _ singular: String, id: String, _ entity: [String: JSONValue])
        async throws(ConnectorError) -> JSONValue
    {
        try await send("PUT", "\(resource)/\(id)", query: [], body: [singular: .object(entity)])
    }

    func delete(_ path: String, query: [(String, String)] = []) async throws(ConnectorError) -> JSONValue {
        try await send("DELETE", path, query: query, body: nil)
    }

    /// Every item of a list, page by page (200 to a page, Sage's most), whole (`attributes=all`).
    func list(_ resource: String, query: [(String, String)] = []) async throws(ConnectorError) -> [JSONValue] {
        var found: [JSONValue] = []
        var page = 1
        while page <= Self.maximumPages {
            let answer = try await get(
                resource,
                query: query + [("attributes", "all"), ("items_per_page", "200"), ("page", String(page))])
            found += answer["$items"]?.arrayValue ?? []
            guard answer["$next"]?.stringValue != nil else { return found }
            page += 1
        }
        return found
    }

    /// Pages read for one listing at most (200,000 records): a bound on what an answer can make us do.
    static let maximumPages = 1000

    private func send(_ method: String, _ path: String, query: [(String, String)], body: JSONValue?)
        async throws(ConnectorError) -> JSONValue
    {
        // Ids in the path (Sage's, from an answer) cannot climb out of the API's URLs.
        for segment in path.split(separator: "/", omittingEmptySubsequences: false)
        where !DestinationPolicy.isSafePathSegment(String(segment)) {
            throw .validation(code: "invalid_id", message: "an id to put in a Sage URL is not safe: refused")
        }
        guard var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        else { throw .validation(code: "invalid_url", message: "api_base_url does not make a Sage URL") }
        if !query.isEmpty {
            components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) }
            // `+` is a space to a form decoder; an instant's `+00:00` must keep it.
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        guard let url = components.url else {
            throw .validation(code: "invalid_url", message: "api_base_url does not make a Sage URL")
        }
        let token = try await context.credentials.accessToken()
        var headers: [(name: String, value: String)] = [
            ("Authorization", "Bearer \(token)"), ("X-Business", businessID), ("Accept", "application/json"),
        ]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let request = TransportRequest(
            method: method, url: url, headers: headers, body: body.map { Data($0.canonicalBytes) },
            timeout: .seconds(60))
        let response: TransportResponse
        do {
            response = try await context.transport.send(request)
        } catch {
            throw .noAnswer(error, from: "Sage")
        }
        return try Self.answer(response)
    }

    /// How long to wait after a 429 that names no time: a minute, Sage's limit window.
    static let throttleWait: Duration = .seconds(60)

    /// Sage's answer as JSON, or the error it stands for: 401 → the token is refreshed once (`authentication`), 403
    /// → the business is not the grant's, 404 → no such record, 422 → Sage's `$message` (and `$source`), 429 → wait
    /// (`Retry-After`, else a minute).
    static func answer(_ response: TransportResponse) throws(ConnectorError) -> JSONValue {
        let json = (try? JSONValue(parsing: response.body)) ?? .null
        switch response.status {
        case 200..<300:
            return json
        case 401:
            throw .authentication(message: "Sage refused the access token (401 \(messages(json) ?? ""))")
        case 403:
            throw .credentialsRefused(
                message: "Sage refused access to the business (403 \(messages(json) ?? "Forbidden")): connect it again"
            )
        case 404:
            throw .validation(code: "sage_404", message: "Sage has no such record (404)")
        case 429:
            throw .busy(
                code: "throttled",
                message: "Sage answered 429: \(messages(json) ?? "too many requests for the business")",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")) ?? throttleWait)
        case 503:
            throw .busy(
                code: "sage_503", message: "Sage is unavailable (503)",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")))
        case 500...:
            throw .retryable(
                code: "sage_\(response.status)", message: "Sage answered \(response.status)",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")))
        default:
            throw .validation(
                code: "sage_validation",
                message: "Sage refused it (\(response.status)): \(messages(json) ?? "no reason given")")
        }
    }

    /// The `$message`s of Sage's error array, each with its `$source` when it names a field, kept short.
    static func messages(_ json: JSONValue) -> String? {
        let items = (json.arrayValue ?? [json]).prefix(10)
        let texts = items.compactMap { item -> String? in
            guard let message = item["$message"]?.stringValue else { return nil }
            let source = item["$source"]?.stringValue.map { String($0.prefix(100)) } ?? ""
            let text = String(message.prefix(300))
            return source.isEmpty ? text : "\(text) ($source: \(source))"
        }
        return texts.isEmpty ? nil : texts.joined(separator: "; ")
    }
}

/// Sage's instants: `2026-11-21T09:30:00Z` in answers; `YYYY-MM-DDThh:mm:ss+00:00` in `updated_or_created_since`
/// and `deleted_since` (the spec's descriptions of those parameters).
enum SageTime {
    /// Seconds since the epoch of an answer's instant.
    static func seconds(_ text: String?) -> Int64? {
        guard let text, text.utf8.count <= 64, let instant = Timestamp(rfc3339: text) else { return nil }
        let micros = instant.microsecondsSinceEpoch
        // Whole seconds, rounded down (an instant before the epoch too).
        return micros >= 0 ? micros / 1_000_000 : -((-micros + 999_999) / 1_000_000)
    }

    static func timestamp(_ text: String?) -> Timestamp? {
        seconds(text).map { Timestamp(microsecondsSinceEpoch: $0 * 1_000_000) }
    }

    /// A query parameter's instant.
    static func parameter(_ seconds: Int64) -> String {
        let text = Timestamp(microsecondsSinceEpoch: seconds * 1_000_000).rfc3339
        return String(text.prefix(19)) + "+00:00"
    }
}

import Accounting
import Crypto
import Foundation
import Logging

/// One integration's calls to the Accounting API v3: the company's URLs (with `minorversion` on every call), the
/// bearer token, and QuickBooks' answers turned into values or errors.
struct QuickBooksOnlineSession {
    /// A `Fault` QuickBooks answered with: the first error's code, message and detail.
    struct Fault: Error, Hashable {
        var code: String
        var message: String
        var detail: String

        init(code: String, message: String, detail: String) {
            self.code = code
            self.message = message
            self.detail = detail
        }

        init?(_ json: JSONValue?) {
            guard let error = json?["Error"]?.arrayValue?.first else { return nil }
            // The code becomes part of a job's error code and a metric label: digits only, as QuickBooks' are. The
            // texts are QuickBooks' words for a person, kept to a readable length.
            let rawCode = error["code"]?.stringValue ?? ""
            code = rawCode.count <= 12 && rawCode.allSatisfy(\.isASCII) && rawCode.allSatisfy(\.isNumber) ? rawCode : ""
            message = String((error["Message"]?.stringValue ?? "").prefix(500))
            detail = String((error["Detail"]?.stringValue ?? "").prefix(1000))
        }

        /// As the sync engine keeps it: QuickBooks' own words, for the person who must fix the record.
        var connectorError: ConnectorError {
            .validation(
                code: "quickbooks_\(code.isEmpty ? "fault" : code)",
                message: "QuickBooks Fault \(code): \(message). \(detail)")
        }
    }

    let context: ConnectorContext
    let realmID: String
    private let base: URL

    init(context: ConnectorContext) async throws(ConnectorError) {
        self.context = context
        guard let realm = try await context.credentials.remoteTenantID(), !realm.isEmpty else {
            throw .credentialsRefused(message: "no QuickBooks realmId is stored for this integration: connect it again")
        }
        // QuickBooks realm ids are digits; anything else would change the path every call is made to.
        guard realm.count <= 32, realm.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .credentialsRefused(message: "the stored QuickBooks realmId is not a realm id: connect it again")
        }
        realmID = realm
        base = QuickBooksOnlineConnector.apiBaseURL(settings: context.settings)
    }

    func get(_ path: String, query: [(String, String)] = []) async throws(ConnectorError) -> JSONValue {
        try await send("GET", path, query: query, body: nil)
    }

    func post(
        _ path: String, query: [(String, String)] = [], body: JSONValue, windows: Set<String> = []
    ) async throws(ConnectorError) -> JSONValue {
        try await send("POST", path, query: query, body: body, windows: windows)
    }

    /// The entities a query finds, every page of them.
    /// - Parameter maximum: at most this many, in one page (up to QuickBooks' 1000); `nil`: every one, page by page.
    func query(_ entity: String, where condition: String? = nil, maximum: Int? = nil) async throws(ConnectorError)
        -> [JSONValue]
    {
        var found: [JSONValue] = []
        var start = 1
        let pageSize = min(max(maximum ?? 1000, 1), 1000)
        while true {
            var sql = "SELECT * FROM \(entity)"
            if let condition { sql += " WHERE \(condition)" }
            sql += " STARTPOSITION \(start) MAXRESULTS \(pageSize)"
            let answer = try await get("query", query: [("query", sql)])
            let page = answer["QueryResponse"]?[entity]?.arrayValue ?? []
            found += page
            if page.count < pageSize || maximum != nil { return found }
            start += pageSize
        }
    }

    /// A string literal for QuickBooks' query language.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// A `requestid` for an idempotency key: the same key always gives the same id, within QuickBooks' 36
    /// characters for batch requests (50 for the others).
    static func requestID(_ key: String) -> String {
        String(SHA256.hash(data: Data(key.utf8)).hexString.prefix(36))
    }

    private func send(
        _ method: String, _ path: String, query: [(String, String)], body: JSONValue?, windows: Set<String> = []
    ) async throws(ConnectorError) -> JSONValue {
        // Ids in the path (a record's, from QuickBooks or a webhook) cannot climb out of the company's URLs.
        for segment in path.split(separator: "/", omittingEmptySubsequences: false)
        where !DestinationPolicy.isSafePathSegment(String(segment)) {
            throw .validation(code: "invalid_id", message: "an id to put in a QuickBooks URL is not safe: refused")
        }
        guard
            var components = URLComponents(
                url: base.appendingPathComponent("v3/company/\(realmID)/\(path)"), resolvingAgainstBaseURL: false)
        else {
            throw .validation(code: "invalid_url", message: "api_base_url does not make a QuickBooks URL")
        }
        components.queryItems =
            query.map { URLQueryItem(name: $0.0, value: $0.1) }
            + [URLQueryItem(name: "minorversion", value: String(QuickBooksOnlineConnector.minorVersion))]
        // `+` is a space to a form decoder; QuickBooks' query text and dates must keep theirs.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        let token = try await context.credentials.accessToken()
        var headers = [("Authorization", "Bearer \(token)"), ("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        guard let url = components.url else {
            throw .validation(code: "invalid_url", message: "api_base_url does not make a QuickBooks URL")
        }
        let request = TransportRequest(
            method: method, url: url, headers: headers.map { (name: $0.0, value: $0.1) },
            body: body.map { Data($0.canonicalBytes) }, timeout: .seconds(60), rateLimitWindows: windows)
        let response: TransportResponse
        do {
            response = try await context.transport.send(request)
        } catch .failed(let message) where query.contains(where: { $0.0 == "requestid" }) {
            // The exchange broke after the write was sent: sent again as it was, under the same `requestid`,
            // QuickBooks answers a write it made with its stored answer and makes one it did not. Once: a second
            // break leaves the outcome to the job's next attempt (and its look-up).
            context.logger.info(
                "the exchange broke; sending the write again under the same requestid",
                metadata: ["path": "\(path)", "error": "\(message)"])
            do {
                response = try await context.transport.send(request)
            } catch {
                throw Self.error(for: error)
            }
        } catch {
            throw Self.error(for: error)
        }
        let json = (try? JSONValue(parsing: response.body)) ?? .null
        switch response.status {
        case 200..<300:
            return json
        case 401:
            throw .authentication(message: "QuickBooks refused the access token (401)")
        case 429:
            throw .busy(
                code: "throttled", message: "QuickBooks answered 429 ThrottleExceeded",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")))
        case 503:
            throw .busy(
                code: "quickbooks_503", message: "QuickBooks is unavailable (503), as during its maintenance",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")))
        case 500...:
            throw .retryable(
                code: "quickbooks_\(response.status)", message: "QuickBooks answered \(response.status)",
                retryAfter: PlatformNumbers.retryAfter(response.header("retry-after")))
        default:
            if let fault = Fault(json["Fault"]) { throw fault.connectorError }
            // Only a Fault's own fields are shown; any other body is not echoed to API callers.
            throw .validation(
                code: "quickbooks_\(response.status)",
                message: "QuickBooks answered HTTP \(response.status) without a Fault")
        }
    }
}

/// What the connector tells apart in the errors a session throws: a Fault, or an exchange whose outcome is unknown.
extension QuickBooksOnlineSession {
    /// A request that got no answer. Only a connection that could not be made says nothing was sent (`unreachable`:
    /// deferred, no attempt used); after the others the request may have been received and acted on
    /// (`isUncertain`).
    static func error(for error: TransportError) -> ConnectorError {
        .noAnswer(error, from: "QuickBooks")
    }

    /// The QuickBooks Fault code an error carries, if it is one.
    static func faultCode(_ error: ConnectorError) -> String? {
        guard case .validation(let code, _) = error, code.hasPrefix("quickbooks_") else { return nil }
        return String(code.dropFirst("quickbooks_".count))
    }

    static func isUncertain(_ error: ConnectorError) -> Bool {
        if case .retryable("uncertain", _, _) = error { return true }
        return false
    }
}

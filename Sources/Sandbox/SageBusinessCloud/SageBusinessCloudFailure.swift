import Accounting

/// What Sage Business Cloud Accounting answers instead of a resource: an HTTP status and a JSON array of
/// `{"$severity", "$dataCode", "$message", "$source"}` (platforms.md §5.3).
///
/// The shape and `AuthorizationFailure` are Sage's own ("Frequently Raised Errors",
/// https://developer.sage.com/accounting/guides/concepts/frequently_raised_errors/); `RecordInvalid` and `NotFound`
/// come from a third-party copy of that page; the wording of each `$message` here is the emulator's where Sage
/// publishes none.
struct SageBusinessCloudFailure: Error, Sendable {
    struct Item: Sendable, Equatable {
        let dataCode: String
        let message: String
        let source: String
    }

    let status: Int
    var items: [Item]

    init(status: Int, _ items: [Item]) {
        self.status = status
        self.items = items
    }

    init(status: Int, dataCode: String, message: String, source: String = "") {
        self.init(status: status, [Item(dataCode: dataCode, message: message, source: source)])
    }

    var body: JSONValue {
        .array(
            items.map {
                [
                    "$severity": "error", "$dataCode": .string($0.dataCode), "$message": .string($0.message),
                    "$source": .string($0.source),
                ]
            })
    }

    /// 422: one field refused (`$source` names it as the request spells it).
    static func invalid(_ source: String, _ message: String) -> SageBusinessCloudFailure {
        SageBusinessCloudFailure(status: 422, dataCode: "RecordInvalid", message: message, source: source)
    }

    /// 422: a required field missing.
    static func blank(_ source: String) -> SageBusinessCloudFailure { invalid(source, "can't be blank") }

    /// 404: no such resource, or no such id.
    static let notFound = SageBusinessCloudFailure(
        status: 404, dataCode: "NotFound", message: "Resource not found")

    /// 401: no token, an unknown one or an expired one.
    static func unauthorized(_ message: String = "Access denied.") -> SageBusinessCloudFailure {
        SageBusinessCloudFailure(status: 401, dataCode: "AuthorizationFailure", message: message)
    }

    /// 403: a business the user may not use, or a write with a `readonly` token.
    static let forbidden = SageBusinessCloudFailure(
        status: 403, dataCode: "AuthorizationFailure", message: "Access denied.")

    /// 429: over the per-business limit.
    static let throttled = SageBusinessCloudFailure(
        status: 429, dataCode: "TooManyRequests",
        message: "Too many requests. The limit is 200 requests per minute for each business.")

    /// 415: a write whose body is not declared `application/json`.
    static let unsupportedMediaType = SageBusinessCloudFailure(
        status: 415, dataCode: "UnsupportedMediaType", message: "The request body must be application/json")

    /// 400: the body is not the JSON the operation takes.
    static func badRequest(_ message: String) -> SageBusinessCloudFailure {
        SageBusinessCloudFailure(status: 400, dataCode: "BadRequest", message: message)
    }
}

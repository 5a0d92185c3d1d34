public import Accounting
import Foundation
public import HTTPTypes
public import Hummingbird
import Ingestion
import Logging
import NIOCore
import Persistence

/// An RFC 9457 problem: `application/problem+json` with `type`, `title`, `status`, `detail` and the field
/// errors, saying what to fix. Never carries a secret.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    public var errors: [FieldError]
    /// Extra members, such as the `delivery_id` of a rejected webhook.
    public var extensions: [String: JSONValue]
    /// Sent as `Retry-After` (whole seconds, rounded up) when set.
    public var retryAfter: Duration?

    public init(
        status: HTTPResponse.Status,
        title: String,
        detail: String,
        errors: [FieldError] = [],
        extensions: [String: JSONValue] = [:]
    ) {
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.extensions = extensions
    }

    public static func unauthorized(_ detail: String) -> Problem {
        Problem(status: .unauthorized, title: "Unauthorized", detail: detail)
    }

    public static func tooManyRequests(_ detail: String, retryAfter: Duration) -> Problem {
        var problem = Problem(status: .tooManyRequests, title: "Too Many Requests", detail: detail)
        problem.retryAfter = retryAfter
        return problem
    }

    public static func notFound(_ detail: String) -> Problem {
        Problem(status: .notFound, title: "Not Found", detail: detail)
    }

    public static func invalid(_ errors: [FieldError], detail: String = "the request has invalid fields") -> Problem {
        Problem(status: .unprocessableContent, title: "Unprocessable Content", detail: detail, errors: errors)
    }

    public var json: JSONValue {
        var members = extensions
        members["type"] = .string("about:blank")
        members["title"] = .string(title)
        members["status"] = .number(String(status.code))
        members["detail"] = .string(detail)
        members["errors"] = .array(
            errors.map { .object(["field": .string($0.field), "message": .string($0.message)]) }
        )
        return .object(members)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfter {
            let (seconds, attoseconds) = retryAfter.components
            headers[.retryAfter] = String(max(0, seconds) + (attoseconds > 0 ? 1 : 0))
        }
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json.canonicalBytes)))
    }
}

extension Problem {
    /// The answer for any error a route lets escape: known errors say what happened, unknown ones are opaque.
    init(_ error: any Error) {
        switch error {
        case let problem as Problem:
            self = problem
        case let error as IngestionError:
            self.init(ingestion: error)
        case let error as PersistenceError:
            switch error {
            case .invalidCursor:
                self = .invalid([FieldError(field: "cursor", message: "is not a cursor this API handed out")])
            case .notFound(let entity, let id):
                self = .notFound("no \(entity) \(id)")
            case .conflict(let detail):
                self.init(status: .conflict, title: "Conflict", detail: detail)
            case .invalid(let errors):
                self = .invalid(errors)
            case .emailInUse:
                self.init(
                    status: .conflict, title: "Conflict", detail: "another user already signs in with this email",
                    errors: [FieldError(field: "email", message: "is already used by another user")])
            case .invalidMasterKey, .secretUnreadable, .commitIncomplete, .fileSystem, .unknownPlatform,
                .unreadableRow:
                self.init(
                    status: .internalServerError, title: "Internal Server Error",
                    detail: "the request could not be completed")
            }
        case let error as any HTTPResponseError:
            let title = error.status.reasonPhrase
            let detail = error.status == .contentTooLarge ? "the body is larger than 1 MiB" : title
            self.init(status: error.status, title: title, detail: detail)
        default:
            self.init(
                status: .internalServerError, title: "Internal Server Error", detail: "an unexpected error occurred")
        }
    }

    init(ingestion error: IngestionError) {
        switch error {
        case .missingHeader(let name):
            self = .unauthorized("the \(name) header is missing")
        case .invalidHeader(let name, let reason):
            self = .unauthorized("the \(name) header \(reason)")
        case .invalidSignature:
            self = .unauthorized("the signature does not match any active secret")
        case .staleTimestamp:
            self = .unauthorized("webhook-timestamp is more than 5 minutes from the server's clock")
        case .noActiveSecret(let source):
            self = .unauthorized("no active \(source) webhook secret is configured")
        case .invalidSecret:
            self = .invalid([FieldError(field: "secret", message: "must be whsec_ followed by base64")])
        case .deliveryNotFound(let id):
            self = .notFound("no delivery \(id)")
        }
    }
}

public import Accounting

/// How a platform call failed, in the terms the sync engine acts on.
public enum ConnectorError: Error, Hashable, Sendable {
    /// Worth trying again, using up one of the job's attempts: 5xx, an exchange that broke or timed out after the
    /// request may have been sent (its outcome unknown: the next attempt looks before it writes). `retryAfter` is the platform's own wait (`Retry-After`).
    case retryable(code: String, message: String, retryAfter: Duration?)
    /// The platform turned the request away without doing anything, and said so: throttling (429) or maintenance
    /// (503). Tried again after `retryAfter` or a growing wait, without using up one of the job's attempts (up to
    /// `SyncEngine.maximumDeferrals` times).
    case busy(code: String, message: String, retryAfter: Duration?)
    /// The platform could not be reached and nothing was sent: the connection was refused, its host did not
    /// resolve, or the connection could not be made. Not the record's fault: the job is deferred without using up an
    /// attempt, backing off from half a minute to an hour, for as long as the integration has been unreachable for
    /// less than `SyncEngine.maximumOutage`; the integration shows as unreachable meanwhile.
    case unreachable(code: String, message: String)
    /// The platform refused the access token (401): the engine refreshes it once and tries again.
    case authentication(message: String)
    /// The platform refused the credentials themselves (`invalid_grant` on refresh, revoked consent): nothing works
    /// until a person connects the integration again. Its jobs wait; none is failed.
    case credentialsRefused(message: String)
    /// The platform refused the data itself: retrying cannot help, a person must look. `message` is the platform's.
    case validation(code: String, message: String)
    /// Billing codes this record uses are not mapped to the platform (every one of them, not only the first): the
    /// job waits for the mappings.
    case missingMapping([CodeMappings.Missing])
    /// The change feed no longer reaches back to this cursor (QuickBooks' CDC keeps 30 days): read it again from
    /// the beginning.
    case cursorExpired(message: String)

    /// The code of a `validation` that is the platform refusing a create as a duplicate of a record in the books (a
    /// contact's name, an invoice's number), for a create the engine did not look for first: it looks then, adopts
    /// the match or creates anew (`ConnectorCapabilities.looksBeforeCreating`).
    public static let duplicateCode = "duplicate"

    /// Whether the platform itself answered (with a refusal, a throttle, a server error, …), so it can be reached: not
    /// when no connection was made, nor when the exchange broke or timed out before an answer came.
    public var platformAnswered: Bool {
        switch self {
        case .unreachable: false
        case .retryable(let code, _, _): !["uncertain", "network", "unanswered"].contains(code)
        case .missingMapping: false
        case .busy, .authentication, .credentialsRefused, .validation, .cursorExpired: true
        }
    }

    /// A short stable code for jobs, logs and metrics.
    public var code: String {
        switch self {
        case .retryable(let code, _, _), .busy(let code, _, _): code
        case .unreachable(let code, _): code
        case .authentication: "authentication"
        case .credentialsRefused: "credentials_refused"
        case .validation(let code, _): code
        case .missingMapping(let missing):
            // One kind: `unmapped_account`, `unmapped_tax_code`, …; codes of several kinds: `unmapped`.
            Set(missing.map(\.kind)).count == 1 ? "unmapped_\(missing[0].kind.rawValue)" : "unmapped"
        case .cursorExpired: "cursor_expired"
        }
    }

    public var message: String {
        switch self {
        case .retryable(_, let message, _), .busy(_, let message, _): message
        case .unreachable(_, let message): message
        case .authentication(let message): message
        case .credentialsRefused(let message): message
        case .validation(_, let message): message
        case .missingMapping(let missing): CodeMappings.describe(missing)
        case .cursorExpired(let message): message
        }
    }
}

extension ConnectorError {
    /// A request to `platform` (its name, for messages) that got no answer. Only a connection that could not be made
    /// says nothing was sent (`unreachable`: deferred, no attempt used); after the others the request may have been
    /// received and acted on (`uncertain`: the next attempt looks before it writes).
    static func noAnswer(_ error: TransportError, from platform: String) -> ConnectorError {
        let possessive = platform.hasSuffix("s") ? "\(platform)'" : "\(platform)'s"
        return switch error {
        case .cannotConnect(let message):
            .unreachable(code: "unreachable", message: "\(platform) could not be reached: \(message)")
        case .timedOut:
            .retryable(code: "uncertain", message: "\(platform) did not answer in time", retryAfter: nil)
        case .failed(let message):
            .retryable(code: "uncertain", message: "the exchange with \(platform) broke: \(message)", retryAfter: nil)
        case .responseTooLarge(let limit):
            .retryable(
                code: "uncertain", message: "\(possessive) answer was longer than \(limit) bytes; it was cut off",
                retryAfter: nil)
        case .destinationRefused(let reason):
            .retryable(
                code: "destination_refused", message: "the \(platform) API URL is not allowed: \(reason)",
                retryAfter: nil)
        case .overLimit(let window, let retryAfter):
            .busy(
                code: "rate_budget",
                message: window.map { "the share of \(possessive) \($0) limit for this work is spent" }
                    ?? "\(platform) asked for a pause", retryAfter: retryAfter)
        }
    }
}

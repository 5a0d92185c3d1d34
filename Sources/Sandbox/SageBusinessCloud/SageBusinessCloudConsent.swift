import Accounting
import Foundation

/// What the emulator's Sage consent page posts when the person presses Allow or Deny, built from the authorize URL an
/// app sends them to: for tests, benchmarks and scripts that go through OAuth without a browser.
///
/// ```swift
/// let consent = try #require(SageBusinessCloudConsent(authorizeURL: location))
/// // POST consent.body to consent.action as SageBusinessCloudConsent.contentType: a 302 to the redirect URI.
/// ```
public struct SageBusinessCloudConsent: Sendable {
    /// The button pressed.
    public enum Decision: String, Sendable {
        case allow, deny
    }

    /// The form's content type.
    public static let contentType = "application/x-www-form-urlencoded"

    /// Where the form is posted: the authorize URL without its query.
    public let action: String
    /// The form: the authorize request's parameters and the decision.
    public let body: String

    /// - Parameters:
    ///   - authorizeURL: the authorize URL with its query, as the app redirects the person to it.
    ///   - decision: the button pressed.
    /// - Returns: `nil` when `authorizeURL` is not a URL.
    public init?(authorizeURL: String, decision: Decision = .allow) {
        guard var components = URLComponents(string: authorizeURL) else { return nil }
        var fields = FormURLEncoded.fields(components.percentEncodedQuery ?? "").filter { $0.name != "decision" }
        fields.append((name: "decision", value: decision.rawValue))
        components.percentEncodedQuery = nil
        guard let action = components.string else { return nil }
        self.action = action
        self.body = FormURLEncoded.encode(fields)
    }
}

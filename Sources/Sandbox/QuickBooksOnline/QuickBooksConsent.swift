import Accounting
import Foundation

/// What the emulator's consent page posts when the person presses Connect or Cancel, built from the authorize URL
/// an app sends them to: for tests, benchmarks and scripts that go through the OAuth dance without a browser
/// (`BrowserTests` press the page's buttons in Chromium).
///
/// ```swift
/// let consent = try #require(QuickBooksConsent(authorizeURL: location))
/// // POST consent.body to consent.action as QuickBooksConsent.contentType: a 302 to the redirect URI.
/// ```
public struct QuickBooksConsent: Sendable {
    /// The button pressed.
    public enum Decision: String, Sendable {
        case connect, cancel
    }

    /// The form's content type.
    public static let contentType = "application/x-www-form-urlencoded"

    /// Where the form is posted: the authorize URL without its query (absolute or a path, as given).
    public let action: String
    /// The form: the authorize request's parameters, the company chosen (`realm`) and the decision.
    public let body: String

    /// - Parameters:
    ///   - authorizeURL: the authorize URL with its query, as the app redirects the person to it.
    ///   - realmID: the company chosen; the page's first (the consent realm) when `nil`.
    ///   - decision: the button pressed.
    /// - Returns: `nil` when `authorizeURL` is not a URL.
    public init?(authorizeURL: String, realmID: String? = nil, decision: Decision = .connect) {
        guard var components = URLComponents(string: authorizeURL) else { return nil }
        var fields = FormURLEncoded.fields(components.percentEncodedQuery ?? "").filter {
            $0.name != "decision" && (realmID == nil || $0.name != "realm")
        }
        if let realmID { fields.append((name: "realm", value: realmID)) }
        fields.append((name: "decision", value: decision.rawValue))
        components.percentEncodedQuery = nil
        guard let action = components.string else { return nil }
        self.action = action
        self.body = FormURLEncoded.encode(fields)
    }
}

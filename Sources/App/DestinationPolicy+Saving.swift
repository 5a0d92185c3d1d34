import Accounting
import Connectors
import Foundation

extension DestinationPolicy {
    /// What is wrong with `text` as an outbound URL a tenant admin saves (a webhook receiver, a platform's API or
    /// OAuth endpoint), in words saying what to fix; `nil` when it may be saved. The transport checks again, after
    /// resolving the host, each time it sends.
    func problem(withURL text: String) -> String? {
        guard let url = URL(string: text), url.scheme != nil, url.host != nil else {
            return "must be an absolute \(allowsInsecure ? "http or https" : "https") URL"
        }
        do {
            try check(url)
            return nil
        } catch {
            if case .destinationRefused(let reason) = error { return reason }
            return "is not an allowed destination"
        }
    }

    /// The problems with an integration's settings: every `…_url` key (`api_base_url`, `oauth_authorize_url`,
    /// `oauth_token_url`, `oauth_revoke_url`, and later platforms' own) and Tally's `url` is an outbound URL and must
    /// pass.
    func problems(withSettings settings: [String: JSONValue]) -> [FieldError] {
        settings.keys.sorted().filter { $0.hasSuffix("_url") || $0 == "url" }.compactMap { key in
            guard let text = settings[key]?.stringValue else {
                return settings[key] == .null
                    ? nil : FieldError(field: "settings.\(key)", message: "must be a URL string")
            }
            return problem(withURL: text).map { FieldError(field: "settings.\(key)", message: $0) }
        }
    }
}

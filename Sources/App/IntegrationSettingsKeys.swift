import Accounting
import Connectors

/// The settings keys each platform Ledgerwire implements reads, so a misspelled key (`enviroment`, `clientId`) is
/// refused with a 422 naming it instead of being saved and silently ignored.
///
/// The contract (API.md, "Platforms (v1.1)") welcomes keys it does not list; that holds for platforms Ledgerwire has
/// no connector for yet, whose settings are kept as given until their connector says which keys it reads. A platform
/// with a connector lists here every key its connector, the OAuth flow and the token refresh read.
enum IntegrationSettingsKeys {
    /// The OAuth keys every OAuth platform shares (API.md, "Integration settings keys").
    static let oauth = [
        "client_id", "client_secret", "redirect_uri", "environment", "api_base_url", "oauth_authorize_url",
        "oauth_token_url", "oauth_revoke_url",
    ]

    /// Every key `platform` reads; `nil` when any key is accepted (no connector yet).
    static func known(for platform: Platform) -> [String]? {
        switch platform {
        case .quickBooksOnline: oauth
        // `available_tenants` is the server's own (what a grant opens), never a person's to set.
        case .xero: oauth + ["connections_url", "xero_tenant_id"]
        case .sageBusinessCloud: oauth + ["business_id"]
        case .tally:
            [
                "url", "company", "version", "encoding", "state", "gstin", "round_off_ledger", "time_zone",
                "connection",
            ]
        // `password` is sealed as a hash, never kept as a setting; `country` is what QuickBooks reports.
        case .quickBooksDesktop:
            ["username", "password", "run_every_minutes", "app_url", "sales_tax_item", "country"]
        default: nil
        }
    }

    /// The values a key takes, when they are a fixed set.
    static func allowedValues(of key: String, for platform: Platform) -> [String]? {
        switch (platform, key) {
        case (.quickBooksOnline, "environment"): ["sandbox", "production"]
        case (.tally, "version"): TallySettings.Version.allCases.map(\.rawValue)
        case (.tally, "encoding"): TallyEncoding.allCases.map(\.rawValue)
        case (.tally, "connection"): TallySettings.Connection.allCases.map(\.rawValue)
        case (.quickBooksDesktop, "country"): ["US", "CA", "UK", "AU"]
        default: nil
        }
    }

    /// The problems with `settings` for `platform`: keys it does not read, each with the known key it looks like,
    /// and values outside a key's fixed set. `removing`: a `null` value removes a key (`PATCH`), so an unknown key
    /// saved before this check existed can be taken out.
    static func problems(
        with settings: [String: JSONValue], for platform: Platform, removing: Bool
    ) -> [FieldError] {
        guard let known = known(for: platform) else { return [] }
        var problems: [FieldError] = []
        for key in settings.keys.sorted() {
            let value = settings[key] ?? .null
            if removing, value == .null { continue }
            guard known.contains(key) else {
                let hint = suggestion(for: key, among: known).map { "did you mean \($0)? " } ?? ""
                problems.append(
                    FieldError(
                        field: "settings.\(key)",
                        message: "is not a \(platform.rawValue) setting; \(hint)the settings are "
                            + known.joined(separator: ", ")))
                continue
            }
            if let allowed = allowedValues(of: key, for: platform), value != .null,
                !allowed.contains(value.stringValue ?? "")
            {
                problems.append(
                    FieldError(
                        field: "settings.\(key)", message: "must be \(allowed.joined(separator: " or "))"))
            }
        }
        return problems
    }

    /// The known key `key` was most likely meant to be: the same letters and digits ignoring case and separators
    /// (`clientId`, `Client-ID` for `client_id`), or else the closest within two edits (`enviroment`).
    static func suggestion(for key: String, among known: [String]) -> String? {
        func letters(_ text: String) -> [Character] { text.lowercased().filter { $0.isLetter || $0.isNumber } }
        let typed = letters(key)
        if let same = known.first(where: { letters($0) == typed }) { return same }
        let closest = known.map { ($0, editDistance(typed, letters($0))) }.min { $0.1 < $1.1 }
        guard let closest, closest.1 <= min(2, max(1, typed.count / 4)) else { return nil }
        return closest.0
    }

    /// Levenshtein distance (insertions, deletions, substitutions).
    static func editDistance(_ lhs: [Character], _ rhs: [Character]) -> Int {
        guard !lhs.isEmpty else { return rhs.count }
        guard !rhs.isEmpty else { return lhs.count }
        var previous = Array(0...rhs.count)
        for (row, left) in lhs.enumerated() {
            var current = [row + 1] + Array(repeating: 0, count: rhs.count)
            for (column, right) in rhs.enumerated() {
                current[column + 1] = min(
                    previous[column + 1] + 1, current[column] + 1, previous[column] + (left == right ? 0 : 1))
            }
            previous = current
        }
        return previous[rhs.count]
    }
}

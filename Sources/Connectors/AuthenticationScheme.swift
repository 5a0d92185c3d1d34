import Accounting

/// How an integration of a platform is connected, and so which step makes it `connected`.
public enum AuthenticationScheme: Sendable, Hashable {
    /// OAuth 2.0's authorization code grant (QuickBooks Online, Xero, Sage Business Cloud), at these endpoints:
    /// connected once `GET …/connect` → `/oauth/callback`, or `PUT …/credentials`, saves the tokens of its
    /// connection; the token store refreshes them.
    case oauth2(OAuthEndpoints)
    /// Reached at an address with nothing to present (Tally's XML server, on the school's own network): connected
    /// when `POST …/connect-check` finds the platform answering for the company (`Connector.checkConnection`).
    case none
    /// The integration's secret settings hold a key the platform checks on every call (an API key, a gateway's shared
    /// secret). None of today's platforms uses it: it is for a platform reached with a key a person pastes in (a
    /// Tally gateway in front of the school's Tally). Connected, like `none`, by `POST …/connect-check`.
    case sharedSecret
    /// The platform calls Ledgerwire, presenting the integration's `username` and `password` (QuickBooks Desktop's
    /// Web Connector polling `/qbwc`): connected by its first accepted `authenticate` (`AppDatabase.markConnected`).
    case webConnector
    /// An agent beside the books calls Ledgerwire's mailbox API (`GET /integrations/{id}/mailbox`, replies posted
    /// back) with an operator key of the integration's tenant: connected by its first call. The sandbox's
    /// `MailboxBooks` is reached so; a Tally agent could be.
    case agent
    /// No connection at all: files are exchanged by hand (Sage 50: exports downloaded, audit-trail CSVs uploaded to
    /// `POST …/imports`). Nothing connects such an integration; its work is confirmed by the files it is given.
    case fileExchange

    /// The OAuth endpoints, for an OAuth platform.
    public var oauthEndpoints: OAuthEndpoints? {
        if case .oauth2(let endpoints) = self { endpoints } else { nil }
    }

    /// How an integration of this scheme connects, in plain words, for a person who asked the wrong way.
    public var howToConnect: String {
        switch self {
        case .oauth2:
            "GET /integrations/{id}/connect (OAuth), or PUT /integrations/{id}/credentials with tokens obtained elsewhere"
        case .none, .sharedSecret:
            "POST /integrations/{id}/connect-check, which asks the platform at once"
        case .webConnector:
            "the platform calls Ledgerwire: its Web Connector connects the integration on its first authenticate"
        case .agent:
            "the platform's agent calls GET /integrations/{id}/mailbox with an operator key: its first call connects it"
        case .fileExchange:
            "no connection: files are exchanged (exports downloaded, imports uploaded)"
        }
    }
}

/// What `Connector.checkConnection` found.
public enum ConnectionCheck: Sendable, Hashable {
    /// The platform answers for the integration's company: the integration is `connected`.
    case connected
    /// The platform does not (no answer at the address, the company not loaded, the credentials refused): the
    /// integration is `disconnected`, with `reason` in plain words naming the company or the address.
    case disconnected(reason: String)
}

/// An accounting platform Ledgerwire keeps in agreement with billing.
public enum Platform: String, Sendable, Hashable, CaseIterable {
    case quickBooksOnline = "quickbooks_online"
    case quickBooksDesktop = "quickbooks_desktop"
    case xero
    case sageBusinessCloud = "sage_business_cloud"
    case sage50 = "sage_50"
    case tally
}

extension Platform {
    /// The webhook source of its change notifications (`/webhooks/{source}`, `/webhook-sources`), for a platform that
    /// sends them: its secret may be stored before its intake is served.
    public var webhookSource: String? {
        switch self {
        case .quickBooksOnline: "quickbooks"
        case .xero: "xero"
        case .quickBooksDesktop, .sageBusinessCloud, .sage50, .tally: nil
        }
    }

    /// What the platform calls the company an integration connects to, as a JSON key (`realm_id` for QuickBooks
    /// Online's realm), or `nil` for a platform reached without choosing one.
    public var remoteTenantName: String? {
        switch self {
        case .quickBooksOnline: "realm_id"
        case .xero: "xero_tenant_id"
        case .sageBusinessCloud: "business_id"
        case .quickBooksDesktop, .sage50, .tally: nil
        }
    }
}

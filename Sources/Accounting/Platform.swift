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

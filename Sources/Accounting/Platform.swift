/// An accounting platform Ledgerwire keeps in agreement with billing.
public enum Platform: String, Sendable, Hashable, CaseIterable {
    case quickBooksOnline = "quickbooks_online"
    case quickBooksDesktop = "quickbooks_desktop"
    case xero
    case sageBusinessCloud = "sage_business_cloud"
    case sage50 = "sage_50"
    case tally
}

/// An accounting platform Ledgerwire keeps in agreement with billing, named as the contract names it
/// (`quickbooks_online`, `xero`, …).
///
/// An open set: the contract's platforms are named here, and a connector may bring another (a test platform in the
/// sandbox); which platforms a server speaks is its `ConnectorRegistry`'s business, not this type's.
public struct Platform: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String

    /// A platform name: a lower-case letter, then up to 39 lower-case letters, digits and underscores; `nil` for
    /// anything else.
    public init?(rawValue: String) {
        let bytes = Array(rawValue.utf8)
        guard let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), bytes.count <= 40,
            bytes.allSatisfy({
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: "_")
            })
        else { return nil }
        self.rawValue = rawValue
    }

    private init(known rawValue: String) {
        self.rawValue = rawValue
    }

    public static let quickBooksOnline = Platform(known: "quickbooks_online")
    public static let quickBooksDesktop = Platform(known: "quickbooks_desktop")
    public static let xero = Platform(known: "xero")
    public static let sageBusinessCloud = Platform(known: "sage_business_cloud")
    public static let sage50 = Platform(known: "sage_50")
    public static let tally = Platform(known: "tally")

    /// The platforms of the public contract (API.md), in its order: an integration may be made for any of them,
    /// served or not yet.
    public static let contract: [Platform] = [
        .quickBooksOnline, .quickBooksDesktop, .xero, .sageBusinessCloud, .sage50, .tally,
    ]

    public var description: String { rawValue }

    public static func < (lhs: Platform, rhs: Platform) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Platform {
    /// The webhook source of its change notifications (`/webhooks/{source}`, `/webhook-sources`), for a platform that
    /// sends them: its secret may be stored before its intake is served.
    public var webhookSource: String? {
        switch self {
        case .quickBooksOnline: "quickbooks"
        case .xero: "xero"
        default: nil
        }
    }

    /// What an integration shows while a person chooses among the companies its grant opens: the list's JSON key and
    /// each entry's id key, in the platform's own words (Sage's businesses, the others' tenants).
    public var availableTenantsNames: (list: String, id: String) {
        switch self {
        case .sageBusinessCloud: ("available_businesses", "business_id")
        default: ("available_tenants", "tenant_id")
        }
    }

    /// What the platform calls the company an integration connects to, as a JSON key (`realm_id` for QuickBooks
    /// Online's realm), or `nil` for a platform reached without choosing one.
    public var remoteTenantName: String? {
        switch self {
        case .quickBooksOnline: "realm_id"
        case .xero: "xero_tenant_id"
        case .sageBusinessCloud: "business_id"
        default: nil
        }
    }
}

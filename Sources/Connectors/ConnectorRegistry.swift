public import Accounting

/// The platforms Ledgerwire speaks: their connectors and their webhook intakes. The one list of them: the server,
/// its routes, the engine and the CLI take it, so adding a platform is adding it here.
public struct ConnectorRegistry: Sendable {
    /// The webhook source of billing's own events (Standard Webhooks), beside the platforms'.
    public static let billingSource = "billing"

    /// Every platform Ledgerwire implements.
    public static let standard = ConnectorRegistry(
        connectors: [
            QuickBooksOnlineConnector(), XeroConnector(), SageBusinessCloudConnector(), TallyConnector(),
            QuickBooksDesktopConnector(),
        ],
        webhooks: [QuickBooksOnlineWebhooks(), XeroWebhooks()])

    /// One per platform, in the order given.
    public let connectors: [any Connector]
    /// The platforms' webhook intakes, one per source.
    public let webhooks: [any PlatformWebhooks]

    /// - Parameters:
    ///   - connectors: one per platform; a later one for the same platform is ignored.
    ///   - webhooks: one per source; a later one for the same source is ignored.
    public init(connectors: [any Connector], webhooks: [any PlatformWebhooks] = []) {
        var platforms: Set<Platform> = []
        self.connectors = connectors.filter { platforms.insert($0.platform).inserted }
        var sources: Set<String> = [Self.billingSource]
        self.webhooks = webhooks.filter { sources.insert($0.source).inserted }
    }

    /// This registry with other connectors (a test's scripted platform, a connector with other limits) and the same
    /// webhook intakes.
    public func with(connectors: [any Connector]) -> ConnectorRegistry {
        ConnectorRegistry(connectors: connectors, webhooks: webhooks)
    }

    /// The connector of `platform`, if Ledgerwire has one.
    public subscript(platform: Platform) -> (any Connector)? {
        connectors.first { $0.platform == platform }
    }

    /// The connectors by platform.
    public var byPlatform: [Platform: any Connector] {
        Dictionary(connectors.map { ($0.platform, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The record types each platform's connector keeps in the books (`ConnectorCapabilities.recordTypes`): the
    /// store's fan-out queues a push job for an integration only for a record of one of its platform's types.
    public var recordTypes: [Platform: Set<RecordType>] {
        byPlatform.mapValues(\.capabilities.recordTypes)
    }

    /// The platforms with a connector.
    public var platforms: Set<Platform> { Set(connectors.map(\.platform)) }

    /// Every webhook source: billing's, then the platforms'.
    public var webhookSources: [String] { [Self.billingSource] + webhooks.map(\.source) }

    /// The intake of a platform's webhook source, or `nil` (billing's, or no such source).
    public func webhooks(source: String) -> (any PlatformWebhooks)? {
        webhooks.first { $0.source == source }
    }
}

public import Accounting
public import Connectors
public import Logging
public import Persistence

/// One call (or a few) to an integration's platform: the connector's context, with the integration's credentials
/// and its rate limits, and the one refresh a refused access token earns.
struct PlatformCall {
    var context: ConnectorContext
    /// Whose work the calls are, for the platform's windows that keep shares.
    let share: RateLimitShare
    private let credentials: AttemptCredentials

    /// - Parameter credentialsGeneration: the stored credentials' generation as just read, so the credentials opened
    ///   before serve while unchanged.
    ///   `mailbox`: the job's conversation, for a platform on the mailbox channel.
    ///   `share`: whose work the calls are, for the platform's windows that keep shares (Xero's day).
    init(
        integration: Integration, connector: any Connector, tokens: TokenStore, rateLimiters: RateLimiters,
        clock: any SyncClock, logger: Logger, credentialsGeneration: Int? = nil, mailbox: PlatformMailbox? = nil,
        share: RateLimitShare = .live
    ) async {
        self.share = share
        credentials = AttemptCredentials(store: tokens, integration: integration, generation: credentialsGeneration)
        var transport = tokens.transport
        var limiter: RateLimiter?
        if let policy = connector.capabilities.rateLimit {
            let integrationLimiter = await rateLimiters.limiter(integrationID: integration.id, policy: policy)
            var app: RateLimiter?
            if let appPolicy = connector.capabilities.appRateLimit,
                let clientID = integration.settings["client_id"]?.stringValue
            {
                app = await rateLimiters.limiter(
                    platform: integration.platform.rawValue, app: clientID, policy: appPolicy)
            }
            transport = RateLimitedTransport(base: transport, limiter: integrationLimiter, app: app, share: share)
            limiter = integrationLimiter
        }
        context = ConnectorContext(
            integrationID: integration.id,
            tenantID: integration.tenantID,
            settings: integration.settings,
            credentials: credentials,
            transport: transport,
            rateLimiter: limiter,
            now: { clock.now() },
            logger: logger,
            mailbox: mailbox
        )
        context.feedInterval = .seconds(max(0, integration.sync.intervalSeconds))
    }

    /// Runs `body`; when the platform refuses the access token, refreshes it once (one refresh for every call that
    /// was refused the same token) and runs `body` again. A second refusal is thrown.
    func run<T>(_ body: (ConnectorContext) async throws -> T) async throws -> T {
        do {
            return try await body(context)
        } catch ConnectorError.authentication {
            try await credentials.refreshAfterRejection()
            return try await body(context)
        }
    }
}

/// What reading from the platforms takes: their connectors, the integrations' tokens and rate limits (shared with
/// the sync engine's pushes, so both count against the same limits).
public struct PlatformAccess: Sendable {
    public let connectors: [Platform: any Connector]
    public let tokens: TokenStore
    public let rateLimiters: RateLimiters

    public init(connectors: [any Connector], tokens: TokenStore, rateLimiters: RateLimiters = RateLimiters()) {
        self.connectors = Dictionary(connectors.map { ($0.platform, $0) }, uniquingKeysWith: { first, _ in first })
        self.tokens = tokens
        self.rateLimiters = rateLimiters
    }

    /// The integration's chart of accounts, tax codes and items, read from its platform.
    public func remoteChart(of integration: Integration, logger: Logger) async throws -> RemoteChart {
        guard let connector = connectors[integration.platform] else {
            throw ConnectorError.validation(
                code: "no_connector", message: "no connector for \(integration.platform.rawValue)")
        }
        let call = await PlatformCall(
            integration: integration, connector: connector, tokens: tokens, rateLimiters: rateLimiters,
            clock: SystemSyncClock(), logger: logger)
        return try await call.run { try await connector.remoteChart(context: $0) }
    }

    /// Whether the integration's platform answers for it now (`Connector.checkConnection`), with its stored
    /// credentials where it has any: credentials the platform refuses are an answer (`.disconnected`, with the
    /// platform's words), a network failure is thrown.
    public func checkConnection(of integration: Integration, logger: Logger) async throws -> ConnectionCheck {
        guard let connector = connectors[integration.platform] else {
            throw ConnectorError.validation(
                code: "no_connector", message: "no connector for \(integration.platform.rawValue)")
        }
        let call = await PlatformCall(
            integration: integration, connector: connector, tokens: tokens, rateLimiters: rateLimiters,
            clock: SystemSyncClock(), logger: logger)
        do {
            return try await call.run { try await connector.checkConnection(context: $0) }
        } catch ConnectorError.credentialsRefused(let message) {
            return .disconnected(reason: message)
        } catch ConnectorError.authentication(let message) {
            return .disconnected(reason: "the platform refused the credentials: \(message)")
        }
    }

    /// Records of the integration's books that `text` names (`Connector.search`), for a person linking a record.
    public func search(
        _ recordType: RecordType, for text: String, limit: Int, in integration: Integration, logger: Logger
    ) async throws -> [RemoteRecord] {
        let (connector, call) = try await calling(integration, logger: logger)
        return try await call.run {
            try await connector.search(recordType: recordType, for: text, limit: limit, context: $0)
        }
    }

    /// The books' record `remoteID` as the platform holds it now, `nil` when it is not there.
    public func pull(_ recordType: RecordType, remoteID: String, in integration: Integration, logger: Logger)
        async throws -> RemoteRecord?
    {
        let (connector, call) = try await calling(integration, logger: logger)
        return try await call.run { try await connector.pull(recordType: recordType, remoteID: remoteID, context: $0) }
    }

    /// Runs `body` with the integration's connector and a context for it (its credentials, limits and transport):
    /// for a platform's own reads beyond the `Connector` protocol (Tally's GST summary).
    public func using<T>(
        _ integration: Integration, logger: Logger, _ body: (any Connector, ConnectorContext) async throws -> T
    ) async throws -> T {
        let (connector, call) = try await calling(integration, logger: logger)
        return try await call.run { try await body(connector, $0) }
    }

    private func calling(_ integration: Integration, logger: Logger) async throws -> (any Connector, PlatformCall) {
        guard let connector = connectors[integration.platform] else {
            throw ConnectorError.validation(
                code: "no_connector", message: "no connector for \(integration.platform.rawValue)")
        }
        let call = await PlatformCall(
            integration: integration, connector: connector, tokens: tokens, rateLimiters: rateLimiters,
            clock: SystemSyncClock(), logger: logger)
        return (connector, call)
    }

    /// The platforms whose connectors list changes since a cursor.
    public var changeFeedPlatforms: Set<Platform> {
        Set(connectors.values.filter(\.capabilities.changeFeed).map(\.platform))
    }

    /// The platforms whose change feed is read more often for payments (`ConnectorCapabilities.paymentsInterval`),
    /// with that interval in seconds.
    public var paymentsIntervals: [Platform: Int] {
        var intervals: [Platform: Int] = [:]
        for connector in connectors.values where connector.capabilities.changeFeed {
            if let interval = connector.capabilities.paymentsInterval {
                intervals[connector.platform] = Int(interval.components.seconds)
            }
        }
        return intervals
    }
}

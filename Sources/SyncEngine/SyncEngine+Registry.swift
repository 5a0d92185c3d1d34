public import Connectors
public import Logging
public import Persistence

extension SyncEngine {
    /// An engine for the platforms of `registry` (`ConnectorRegistry.standard` in the server): it claims jobs only of
    /// those.
    public init(
        database: AppDatabase,
        registry: ConnectorRegistry,
        tokens: TokenStore,
        rateLimiters: RateLimiters = RateLimiters(),
        workerID: String,
        retry: RetryStrategy = RetryStrategy(),
        limits: Limits = Limits(),
        clock: any SyncClock = SystemSyncClock(),
        signal: WorkSignal? = nil,
        logger: Logger = Logger(label: "ledgerwire.sync"),
        heartbeatClock: any Clock<Duration> = ContinuousClock(),
        metrics: SyncEngineMetrics = SyncEngineMetrics()
    ) {
        self.init(
            database: database, connectors: registry.connectors, tokens: tokens, rateLimiters: rateLimiters,
            workerID: workerID, retry: retry, limits: limits, clock: clock, signal: signal, logger: logger,
            heartbeatClock: heartbeatClock, metrics: metrics)
    }
}

extension PlatformAccess {
    /// Reading from the platforms of `registry`.
    public init(registry: ConnectorRegistry, tokens: TokenStore, rateLimiters: RateLimiters = RateLimiters()) {
        self.init(connectors: registry.connectors, tokens: tokens, rateLimiters: rateLimiters)
    }
}

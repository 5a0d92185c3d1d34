public import Accounting
public import Connectors
import Foundation
public import Hummingbird
import HummingbirdCore
public import Ingestion
public import Logging
import NIOCore
public import Persistence
public import SyncEngine

/// Everything a running server is made of, built once.
public struct Components: Sendable {
    public let database: AppDatabase
    public let box: SecretBox
    public let metrics: AppMetrics
    public let secrets: WebhookSecretStore
    public let inbox: Inbox
    public let billing: BillingInbox
    /// The platforms' webhooks (`POST /webhooks/{source}`), through the same inbox as billing's.
    public let platformInbox: PlatformInbox
    public let readiness: Readiness
    /// Outbound HTTP: platform calls and event deliveries; requests to `agent://<integration id>/` through the
    /// integration's agent (`AgentRoutingTransport`).
    public let transport: any HTTPTransport
    /// The requests waiting for integrations' agents (`ledgerwire tally-agent`), and their replies.
    public let agentRelay: AgentRelay
    /// Where outbound URLs may point; checked when they are saved (the transport checks again when it sends).
    public let destinationPolicy: DestinationPolicy
    /// The platforms Ledgerwire speaks: their connectors and webhook sources, the one list of them.
    public let registry: ConnectorRegistry
    /// One per platform Ledgerwire syncs with (the registry's).
    public var connectors: [any Connector] { registry.connectors }
    public let tokens: TokenStore
    /// Every integration's rate limits, shared by pushes and change-feed reads.
    public let rateLimiters: RateLimiters
    /// Told after a committed batch of deliveries (or a full sync's page) queued jobs, so the workers claim them at
    /// once.
    public let workSignal: WorkSignal
    /// Told when a sync is requested, so the scheduler starts it at once.
    public let syncRequested = WorkSignal()
    /// One file download at a time per integration (`ExportsController`).
    let downloads = KeyedGates()
    /// Counts the commits the dashboard shows live (`GET /live`).
    public let changes: DashboardChanges
    public let now: @Sendable () -> Timestamp

    /// - Parameter connectors: the connectors to sync with in place of the registry's (a test's scripted platform);
    ///   the registry's webhook sources stay.
    public init(
        configuration: ServerConfiguration,
        database: AppDatabase,
        box: SecretBox,
        transport: (any HTTPTransport)? = nil,
        connectors: [any Connector],
        now: @escaping @Sendable () -> Timestamp = Timestamp.now,
        limiterClock: any Clock<Duration> = ContinuousClock()
    ) {
        self.init(
            configuration: configuration, database: database, box: box, transport: transport,
            registry: ConnectorRegistry.standard.with(connectors: connectors), now: now, limiterClock: limiterClock)
    }

    public init(
        configuration: ServerConfiguration,
        database: AppDatabase,
        box: SecretBox,
        transport: (any HTTPTransport)? = nil,
        registry: ConnectorRegistry = .standard,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now,
        limiterClock: any Clock<Duration> = ContinuousClock()
    ) {
        let metrics = AppMetrics(sources: registry.webhookSources)
        // Records are queued only for the integrations whose connector keeps their type.
        let database = database.pushing(registry.recordTypes)
        self.database = database
        self.box = box
        self.metrics = metrics
        self.rateLimiters = RateLimiters(clock: limiterClock, onWait: { metrics.engine.waitedForRateLimit($0) })
        self.secrets = WebhookSecretStore(database: database, box: box, now: now)
        let workSignal = WorkSignal()
        self.workSignal = workSignal
        self.inbox = Inbox(
            database: database, maximumBatchSize: configuration.commitBatchSize,
            onBatch: { size in metrics.recordBatch(size: size) }, onJobsQueued: { workSignal.signal() })
        self.billing = BillingInbox(
            inbox: inbox,
            secrets: secrets,
            toleranceSeconds: configuration.timestampToleranceSeconds,
            now: now
        )
        self.platformInbox = PlatformInbox(inbox: inbox, secrets: secrets, registry: registry, now: now)
        self.readiness = Readiness()
        self.now = now
        let relay = AgentRelay(maximumBodyBytes: configuration.maximumResponseBytes)
        self.agentRelay = relay
        let transport = AgentRoutingTransport(
            base: transport
                ?? HTTPClientTransport(
                    policy: configuration.destinationPolicy, maximumResponseBytes: configuration.maximumResponseBytes),
            relay: relay)
        self.transport = transport
        self.destinationPolicy = configuration.destinationPolicy
        self.registry = registry
        self.tokens = TokenStore(database: database, box: box, transport: transport, connectors: registry.connectors)
        self.changes = DashboardChanges()
        changes.observe(database)
    }

    /// Opens the master key and the database file (migrating it), as `ledgerwire serve` does, for the platforms of
    /// `registry`.
    public static func open(
        configuration: ServerConfiguration, registry: ConnectorRegistry, logger: Logger
    ) throws -> Components {
        try configuration.validate()
        let box = try configuration.loadMasterKey(creating: true, logger: logger)
        let database = try AppDatabase.open(path: configuration.databasePath, auditKey: box.auditKey)
        return Components(configuration: configuration, database: database, box: box, registry: registry)
    }
}

extension ServerConfiguration {
    /// The master key: `master.key` (`LEDGERWIRE_MASTER_KEY`) when set, or else the key file beside the database.
    /// - Parameter creating: whether a missing key file is created (`serve`, `migrate`); `audit verify` never does.
    public func loadMasterKey(creating: Bool, logger: Logger) throws -> SecretBox {
        if let masterKey { return try SecretBox(base64MasterKey: masterKey) }
        guard creating else { return try SecretBox(base64MasterKey: MasterKeyFile.load(at: masterKeyFilePath)) }
        let (key, created) = try MasterKeyFile.loadOrCreate(at: masterKeyFilePath)
        logger.warning(
            created ? "master_key.created" : "master_key.from_file",
            metadata: ["master_key.path": "\(masterKeyFilePath)"]
        )
        return try SecretBox(base64MasterKey: key)
    }
}

/// The router: webhooks, health, and the admin API behind bearer keys.
public func buildRouter(configuration: ServerConfiguration, components: Components) -> Router<AppRequestContext> {
    // Routes go through a table of each path's methods, so a wrong method is answered 405 with `Allow`.
    let router = RouteTable(Router(context: AppRequestContext.self))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ProblemMiddleware())
    let authentication = AuthenticationMiddleware(database: components.database, adminToken: configuration.adminToken)
    router.addRoutes(
        HealthController(
            metrics: components.metrics, readiness: components.readiness,
            metricsAuthentication: configuration.metricsRequireKey ? authentication : nil
        ).endpoints)
    router.addRoutes(
        BillingWebhookController(
            inbox: components.billing,
            metrics: components.metrics,
            maximumBodyBytes: configuration.maximumBodyBytes
        ).endpoints
    )
    let agents = AgentController(database: components.database, relay: components.agentRelay)
    router.addRoutes(agents.endpoints)
    router.addRoutes(
        WebConnectorController(database: components.database, signal: components.workSignal, now: components.now)
            .endpoints)
    router.addRoutes(
        PlatformWebhookController(
            inbox: components.platformInbox, sources: components.registry.webhooks.map(\.source),
            metrics: components.metrics, maximumBodyBytes: configuration.maximumBodyBytes
        ).endpoints
    )
    let api = router.group("api/v1")
        .add(middleware: authentication)
    api.addRoutes(APIKeysController(database: components.database).endpoints)
    api.addRoutes(UsersController(database: components.database).endpoints)
    api.addRoutes(
        WebhookSourcesController(
            database: components.database, box: components.box, secrets: components.secrets,
            // The contract's sources: a platform's secret may be stored before its webhooks are served.
            sources: WebhookSourcesController.contractSources
        ).endpoints
    )
    api.addRoutes(
        DeliveriesController(
            database: components.database, billing: components.billing, platforms: components.platformInbox
        ).endpoints)
    api.addRoutes(AuditController(database: components.database).endpoints)
    api.addRoutes(SchoolsController(database: components.database).endpoints)
    let integrations = IntegrationsController(
        database: components.database, box: components.box, tokens: components.tokens,
        destinations: components.destinationPolicy,
        platforms: Platform.contract + components.registry.platforms.subtracting(Platform.contract).sorted(),
        connectors: components.registry.byPlatform, transport: components.transport,
        rateLimiters: components.rateLimiters)
    api.addRoutes(integrations.endpoints)
    api.addRoutes(agents.tokenEndpoints)
    api.addRoutes(WebConnectorFileController(database: components.database).endpoints)
    api.addRoutes(JobsController(database: components.database).endpoints)
    api.addRoutes(
        WebhookSubscriptionsController(
            database: components.database, box: components.box, destinations: components.destinationPolicy
        ).endpoints)
    api.addRoutes(
        SyncOperationsController(database: components.database, requested: components.syncRequested).endpoints)
    api.addRoutes(ConflictsController(database: components.database).endpoints)
    let platforms = PlatformAccess(
        registry: components.registry, tokens: components.tokens, rateLimiters: components.rateLimiters)
    api.addRoutes(RemoteAccountsController(database: components.database, platforms: platforms).endpoints)
    api.addRoutes(RecordsController(database: components.database, platforms: platforms).endpoints)
    api.addRoutes(MappingsController(database: components.database, platforms: platforms).endpoints)
    api.addRoutes(
        MailboxController(database: components.database, platforms: platforms, signal: components.workSignal).endpoints)
    api.addRoutes(ConnectCheckController(database: components.database, platforms: platforms).endpoints)
    api.addRoutes(ExportsController(database: components.database, downloads: components.downloads).endpoints)
    api.addRoutes(Sage50ImportsController(database: components.database).endpoints)
    api.addRoutes(GSTSummaryController(database: components.database, platforms: platforms).endpoints)
    let oauth = OAuthController(
        database: components.database, box: components.box,
        connectors: components.registry.byPlatform,
        transport: components.transport, rateLimiters: components.rateLimiters)
    api.addRoutes(oauth.endpoints)
    router.addRoutes(oauth.callbackEndpoints)
    router.addRoutes(AssetsController().endpoints)
    addDashboard(to: router, components: components, integrations: integrations, oauth: oauth, platforms: platforms)
    return router.finish()
}

/// The finance manager's dashboard at `/`: the sign-in page, and behind a session every page and form, with errors
/// as pages. Without its templates (a packaging mistake) every page answers 500 saying so.
private func addDashboard(
    to router: RouteTable, components: Components, integrations: IntegrationsController, oauth: OAuthController,
    platforms: PlatformAccess
) {
    let database = components.database
    let signIn = SignInController(database: database, now: components.now)
    let open = router.group().add(middleware: DashboardErrorMiddleware())
    open.addRoutes(signIn.endpoints)
    let pages = router.group().add(middleware: ServerTimingMiddleware()).add(middleware: DashboardErrorMiddleware())
        .add(
            middleware: WebSessionMiddleware(
                database: database, formTokens: components.box.formTokenKey, now: components.now))
    pages.addRoutes(signIn.sessionEndpoints)
    pages.addRoutes(LiveController(changes: components.changes).endpoints)
    let renderer: DashboardRenderer
    switch DashboardRenderer.bundled {
    case .success(let bundled):
        renderer = bundled
    case .failure(let error):
        pages.get("/") { _, _ -> Response in throw error }
        return
    }
    pages.addRoutes(
        OverviewPage(
            database: database, renderer: renderer, rateLimiters: components.rateLimiters,
            changeFeedPlatforms: Set(components.connectors.filter(\.capabilities.changeFeed).map(\.platform)),
            now: components.now
        ).endpoints)
    pages.addRoutes(ActivityPage(database: database, renderer: renderer, platforms: integrations.platforms).endpoints)
    pages.addRoutes(
        IntegrationPages(
            database: database, renderer: renderer, integrations: integrations, oauth: oauth,
            checks: ConnectCheckController(database: database, platforms: platforms),
            syncRequested: components.syncRequested, downloads: components.downloads
        ).endpoints)
    let accounts = RemoteAccountsController(database: database, platforms: platforms)
    pages.addRoutes(
        MappingsPage(
            database: database, renderer: renderer, api: MappingsController(database: database, platforms: platforms),
            accounts: accounts
        ).endpoints)
    pages.addRoutes(
        ConflictsPage(database: database, renderer: renderer, api: ConflictsController(database: database)).endpoints)
    pages.addRoutes(
        DeliveriesPage(
            database: database, renderer: renderer,
            api: DeliveriesController(
                database: database, billing: components.billing, platforms: components.platformInbox),
            sources: components.registry.webhookSources
        ).endpoints)
    pages.addRoutes(AuditPage(database: database, renderer: renderer).endpoints)
    pages.addRoutes(
        SchoolPage(database: database, renderer: renderer, api: SchoolsController(database: database)).endpoints)
    pages.addRoutes(
        RecordsPage(
            database: database, renderer: renderer, api: RecordsController(database: database, platforms: platforms)
        ).endpoints)
    addSettings(to: pages, components: components, renderer: renderer)
}

/// The settings pages (`/settings/…`), each through its API controller's own code.
private func addSettings(
    to pages: RouterGroup<AppRequestContext>, components: Components, renderer: DashboardRenderer
) {
    let database = components.database
    pages.addRoutes(SettingsPage(renderer: renderer).endpoints)
    pages.addRoutes(
        WebhookSourcesPage(
            database: database, renderer: renderer,
            api: WebhookSourcesController(
                database: database, box: components.box, secrets: components.secrets,
                sources: WebhookSourcesController.contractSources)
        ).endpoints)
    pages.addRoutes(
        SubscriptionsPage(
            database: database, renderer: renderer,
            api: WebhookSubscriptionsController(
                database: database, box: components.box, destinations: components.destinationPolicy)
        ).endpoints)
    pages.addRoutes(
        APIKeysPage(database: database, renderer: renderer, api: APIKeysController(database: database)).endpoints)
    pages.addRoutes(
        UsersPage(database: database, renderer: renderer, api: UsersController(database: database)).endpoints)
}

/// The Hummingbird application. `onListening` is told the bound host and port (useful with port 0).
public func buildApplication(
    configuration: ServerConfiguration,
    components: Components,
    logger: Logger,
    onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
) -> some ApplicationProtocol {
    let readiness = components.readiness
    let connections = ConnectionCount(limit: configuration.maximumConnections)
    let requestReadTimeout = TimeAmount.seconds(Int64(configuration.requestReadTimeoutSeconds))
    var http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [ConnectionGuard(count: connections, requestReadTimeout: requestReadTimeout)],
        idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))
    http1.httpDecoder.maxHeaderListSize = configuration.maximumHeaderBytes
    http1.httpDecoder.maxHeaderFieldSize = configuration.maximumHeaderBytes
    var application = Application(
        router: buildRouter(configuration: configuration, components: components),
        server: .http1(configuration: http1),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "ledgerwire"
        ),
        onServerRunning: { channel in
            readiness.markReady()
            await onListening(configuration.host, channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
    if let checkpointer = components.database.checkpointer {
        application.addServices(CheckpointService(checkpointer: checkpointer))
    }
    guard configuration.runsWorkers else { return application }
    let workerID = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    application.addServices(
        WorkerService(
            engine: SyncEngine(
                database: components.database, registry: components.registry, tokens: components.tokens,
                rateLimiters: components.rateLimiters, workerID: workerID, signal: components.workSignal,
                metrics: components.metrics.engine)),
        SchedulerService(
            runner: SyncOperationRunner(
                database: components.database, workerID: workerID,
                platforms: PlatformAccess(
                    registry: components.registry, tokens: components.tokens, rateLimiters: components.rateLimiters),
                jobsQueued: components.workSignal, requested: components.syncRequested),
            retention: .days(configuration.retentionDays), shortRetention: .days(configuration.shortRetentionDays)),
        EventDeliveryService(
            dispatcher: EventDispatcher(
                database: components.database, box: components.box, transport: components.transport)))
    return application
}

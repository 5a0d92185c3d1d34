import Accounting
public import Configuration
public import Connectors
import Hummingbird
import Ingestion
import Logging
import Persistence

/// How `ledgerwire serve` runs.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed when listening).
    public var port = 8080
    public var databasePath = "data/ledgerwire.sqlite"
    /// The bootstrap admin API key.
    public var adminToken: String?
    /// Base64 of 32 bytes; when absent a key file is created beside the database.
    public var masterKey: String?
    public var maximumBodyBytes = 1 << 20
    public var timestampToleranceSeconds = StandardWebhooks.defaultTolerance
    /// The most deliveries one group commit takes.
    public var commitBatchSize = 512
    /// How long sync history and the audit log are kept before the scheduler prunes them.
    public var retentionDays = 3 * 365
    /// How long fetched platform change notifications and unroutable deliveries are kept.
    public var shortRetentionDays = 30
    /// Whether the server runs its workers (sync, scheduler, event delivery). Tests that drive the workers
    /// themselves turn them off.
    public var runsWorkers = true
    /// The most connections open at once; more are closed as they arrive.
    public var maximumConnections = 4096
    /// How long a request, header and body, may take to arrive once the connection is ready for it.
    public var requestReadTimeoutSeconds = 30
    /// How long an idle keep-alive connection is kept.
    public var idleTimeoutSeconds = 60
    /// The most bytes of request header (all fields together); more is answered 431 and the connection closed.
    public var maximumHeaderBytes = 32 * 1024
    /// Whether `/metrics` needs a bearer API key (any role).
    public var metricsRequireKey = false

    /// The longest retention a setting can ask for: a century (a larger number is taken as this).
    public static let longestRetentionDays = 36_500

    /// The shortest `LEDGERWIRE_ADMIN_TOKEN` the server starts with: 32 characters, about 190 bits when random.
    public static let minimumAdminTokenLength = 32
    /// Where platform calls and webhook deliveries may go: `https` to public addresses unless the keys allow more.
    public var destinationPolicy = DestinationPolicy()
    /// The longest answer read from a platform or a webhook receiver.
    public var maximumResponseBytes = HTTPClientTransport.defaultMaximumResponseBytes

    public init() {}

    /// Reads the server's settings.
    ///
    /// ## Configuration keys:
    /// - `http.host` (string, default `127.0.0.1`)
    /// - `http.port` (int, default `8080`)
    /// - `database.path` (string, default `data/ledgerwire.sqlite`)
    /// - `admin.token` (string, secret; env `LEDGERWIRE_ADMIN_TOKEN`)
    /// - `master.key` (string, secret; env `LEDGERWIRE_MASTER_KEY`): base64 of 32 bytes
    /// - `ingestion.maxBodyBytes` (int, default 1048576)
    /// - `ingestion.timestampToleranceSeconds` (int, default 300)
    /// - `ingestion.commitBatchSize` (int, default 512)
    /// - `retention.days` (int, default 1095): sync history and audit entries older than this are pruned daily
    /// - `retention.notificationDays` (int, default 30): fetched platform change notifications and unroutable
    ///   deliveries older than this are pruned daily
    /// - `http.maxConnections` (int, default 4096): connections over this are closed as they arrive
    /// - `http.requestReadTimeoutSeconds` (int, default 30): a request's header and body must arrive within this
    /// - `http.idleTimeoutSeconds` (int, default 60): idle keep-alive connections are closed after this
    /// - `http.maxHeaderBytes` (int, default 32768): a larger request header is refused
    /// - `metrics.require_key` (bool, default false): `/metrics` answers only with a bearer API key
    /// - `outbound.allow_insecure` (bool, default false): platform and webhook URLs may use plain `http`
    /// - `outbound.allow_private_networks` (bool, default false): they may point at loopback, private, link-local
    ///   and unique-local addresses (tests, an on-premise platform such as Tally on the LAN)
    /// - `outbound.maxResponseBytes` (int, default 10485760): longer answers are cut off and the call fails
    public init(config: ConfigReader) {
        host = config.string(forKey: "http.host", default: host)
        port = config.int(forKey: "http.port", default: port)
        databasePath = config.string(forKey: "database.path", default: databasePath)
        adminToken = config.string(forKey: "admin.token", isSecret: true)
        masterKey = config.string(forKey: "master.key", isSecret: true)
        maximumBodyBytes = config.int(forKey: "ingestion.maxBodyBytes", default: maximumBodyBytes)
        timestampToleranceSeconds = Int64(
            config.int(forKey: "ingestion.timestampToleranceSeconds", default: Int(timestampToleranceSeconds))
        )
        commitBatchSize = config.int(forKey: "ingestion.commitBatchSize", default: commitBatchSize)
        retentionDays = min(
            max(1, config.int(forKey: "retention.days", default: retentionDays)), Self.longestRetentionDays)
        shortRetentionDays = min(
            max(1, config.int(forKey: "retention.notificationDays", default: shortRetentionDays)),
            Self.longestRetentionDays)
        maximumConnections = max(1, config.int(forKey: "http.maxConnections", default: maximumConnections))
        requestReadTimeoutSeconds = min(
            max(1, config.int(forKey: "http.requestReadTimeoutSeconds", default: requestReadTimeoutSeconds)), 3600)
        idleTimeoutSeconds = min(
            max(1, config.int(forKey: "http.idleTimeoutSeconds", default: idleTimeoutSeconds)), 3600)
        maximumHeaderBytes = min(
            max(1024, config.int(forKey: "http.maxHeaderBytes", default: maximumHeaderBytes)), 1 << 20)
        metricsRequireKey = config.bool(forKey: "metrics.require_key", default: metricsRequireKey)
        destinationPolicy = DestinationPolicy(
            allowsInsecure: config.bool(forKey: "outbound.allow_insecure", default: false),
            allowsPrivateNetworks: config.bool(forKey: "outbound.allow_private_networks", default: false))
        maximumResponseBytes = max(
            1024, config.int(forKey: "outbound.maxResponseBytes", default: maximumResponseBytes))
    }

    /// Why these settings cannot run a server, said before anything starts.
    public func validate() throws(ConfigurationError) {
        guard (0...65_535).contains(port) else {
            throw ConfigurationError("http.port is \(port); it must be from 0 to 65535 (0 picks a free port)")
        }
        if let adminToken, adminToken.count < Self.minimumAdminTokenLength {
            throw ConfigurationError(
                "LEDGERWIRE_ADMIN_TOKEN is \(adminToken.count) characters; it must be at least "
                    + "\(Self.minimumAdminTokenLength) (for example: openssl rand -base64 32)")
        }
    }

    /// The master key file used when `master.key` is not set: beside the database, owner-only.
    public var masterKeyFilePath: String { databasePath + ".master-key" }
}

/// Settings a server cannot start with; `description` says what to change.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

import Accounting
import Configuration
import Connectors
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
    /// Whether the server runs its workers (sync, scheduler, event delivery). Tests that drive the workers
    /// themselves turn them off.
    public var runsWorkers = true
    /// Where platform calls and webhook deliveries may go: `https` to public addresses unless the keys allow more.
    public var destinationPolicy = DestinationPolicy()
    /// The longest answer read from a platform or a webhook receiver.
    public var maximumResponseBytes = URLSessionTransport.defaultMaximumResponseBytes

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
        retentionDays = max(1, config.int(forKey: "retention.days", default: retentionDays))
        destinationPolicy = DestinationPolicy(
            allowsInsecure: config.bool(forKey: "outbound.allow_insecure", default: false),
            allowsPrivateNetworks: config.bool(forKey: "outbound.allow_private_networks", default: false))
        maximumResponseBytes = max(
            1024, config.int(forKey: "outbound.maxResponseBytes", default: maximumResponseBytes))
    }

    /// The master key file used when `master.key` is not set: beside the database, owner-only.
    public var masterKeyFilePath: String { databasePath + ".master-key" }
}

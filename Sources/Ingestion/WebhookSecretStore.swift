public import Accounting
public import Persistence
import Synchronization

/// The opened secrets of each webhook source, cached briefly so verification costs no database read.
///
/// The admin API calls `invalidate()` whenever a secret is added or deleted, so in one process a deleted
/// secret stops verifying at once; other nodes notice within `timeToLive`.
public final class WebhookSecretStore: Sendable {
    private struct Entry: Sendable {
        var secrets: [WebhookSecret]
        var loadedAt: Timestamp
    }

    private let database: AppDatabase
    private let box: SecretBox
    private let timeToLive: Int64
    private let now: @Sendable () -> Timestamp
    private let cache = Mutex<[String: Entry]>([:])

    public init(
        database: AppDatabase,
        box: SecretBox,
        timeToLiveSeconds: Int64 = 5,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.database = database
        self.box = box
        self.timeToLive = timeToLiveSeconds * 1_000_000
        self.now = now
    }

    /// The active secrets of `source` (`billing`, `quickbooks`, `xero`).
    public func secrets(for source: String) async throws -> [WebhookSecret] {
        let current = now()
        if let entry = cache.withLock({ $0[source] }),
            current.microsecondsSinceEpoch - entry.loadedAt.microsecondsSinceEpoch < timeToLive
        {
            return entry.secrets
        }
        let secrets = try await database.webhookSecrets(source: source, box: box)
        cache.withLock { $0[source] = Entry(secrets: secrets, loadedAt: current) }
        return secrets
    }

    /// Forgets every cached secret; the next verification reads them again.
    public func invalidate() {
        cache.withLock { $0.removeAll() }
    }
}

import Accounting
import Connectors
public import Logging
public import Persistence
public import ServiceLifecycle

/// Runs sync operations.
///
/// A full sync: claims a requested operation and queues its records page by page (each page committed with its
/// checkpoint, under a lease renewed with every page), then marks operations complete once their jobs have
/// finished. The jobs themselves are run by the workers like any other, dependencies and retries included. An
/// operation whose runner stopped (a crash, a shutdown) is claimed again once its lease expires and continues from
/// its checkpoint: no record is queued twice.
///
/// An incremental sync (with `platforms`): reads the platform's change feed from the integration's cursor, storing
/// each page with the cursor's new position, then handles the changes (echoes, conflicts, billing told). A cursor
/// the platform no longer reaches back to is dropped and the feed read from the beginning. A failed read pauses the
/// operation and is tried again from the stored cursor.
public struct SyncOperationRunner: Sendable {
    private let database: AppDatabase
    private let workerID: String
    private let platforms: PlatformAccess?
    private let clock: any SyncClock
    private let pageSize: Int
    private let lease: Duration
    private let retry: RetryStrategy
    /// Told when a full sync's page queued jobs, so the engine claims them at once instead of at its next poll.
    private let jobsQueued: WorkSignal?
    /// Told when a person or billing asks for a sync, so it starts at once instead of at the next poll.
    private let requested: WorkSignal?
    let logger: Logger

    public init(
        database: AppDatabase, workerID: String, platforms: PlatformAccess? = nil,
        clock: any SyncClock = SystemSyncClock(), pageSize: Int = 500, lease: Duration = .seconds(60),
        retry: RetryStrategy = RetryStrategy(), jobsQueued: WorkSignal? = nil, requested: WorkSignal? = nil,
        logger: Logger = Logger(label: "ledgerwire.sync-operations")
    ) {
        self.database = database
        self.workerID = workerID
        self.platforms = platforms
        self.clock = clock
        self.pageSize = pageSize
        self.lease = lease
        self.retry = retry
        self.jobsQueued = jobsQueued
        self.requested = requested
        self.logger = logger
    }

    /// Works on one due operation — a full sync's pages (up to `maximumPages`, all by default), or an incremental
    /// sync's whole feed — and completes finished full syncs.
    /// - Returns: whether an operation was worked on.
    @discardableResult
    public func runDueOperation(maximumPages: Int = .max) async throws -> Bool {
        let modes: Set<SyncOperation.Mode> = platforms == nil ? [.full] : [.full, .incremental]
        guard
            let claimed = try await database.claimSyncOperation(
                worker: workerID, modes: modes, now: clock.now(), lease: lease)
        else {
            try await database.completeFinishedSyncOperations(at: clock.now())
            return false
        }
        try await perform(claimed, maximumPages: maximumPages)
        return true
    }

    /// Works on due operations for as long as the task runs, up to `concurrency` at once: a slot freed is claimed
    /// again at once (or every `pollInterval` when nothing was due), so one integration's slow change feed holds
    /// only its own operation, never the others'. On graceful shutdown it stops claiming and cuts the operations in
    /// flight short: each continues from its checkpoint or stored cursor once its lease expires.
    public func workOnOperations(pollInterval: Duration, concurrency: Int = 8) async {
        enum Slot { case operation, tick }
        let modes: Set<SyncOperation.Mode> = platforms == nil ? [.full] : [.full, .incremental]
        await withTaskGroup(of: Slot.self) { group in
            var inFlight = 0
            var ticking = false
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                while inFlight < concurrency,
                    let claimed = await logger.loopStep(
                        "sync-operations", "claim",
                        {
                            try await database.claimSyncOperation(
                                worker: workerID, modes: modes, now: clock.now(), lease: lease)
                        }
                    ) ?? nil
                {
                    inFlight += 1
                    group.addTask {
                        _ = await logger.loopStep("sync-operations", "perform") {
                            try await cancelWhenGracefulShutdown { try await self.perform(claimed, maximumPages: .max) }
                        }
                        return .operation
                    }
                }
                if !ticking {
                    ticking = true
                    group.addTask { [requested] in
                        await WorkSignal.poll(pollInterval, orUntil: requested)
                        return .tick
                    }
                }
                switch await group.next() {
                case .operation: inFlight -= 1
                case .tick: ticking = false
                case nil: return
                }
            }
        }
    }

    /// Marks full syncs complete once all their jobs have finished.
    public func completeFinishedOperations() async throws {
        try await database.completeFinishedSyncOperations(at: clock.now())
    }

    private func perform(
        _ claimed: (id: String, integrationID: String, mode: SyncOperation.Mode), maximumPages: Int
    ) async throws {
        switch claimed.mode {
        case .full:
            let books = try await books(of: claimed.integrationID)
            var pages = 0
            while pages < maximumPages, !Task.isCancelled {
                pages += 1
                var (lost, verified): ([String: String], Int) = ([:], 0)
                if let books {
                    let links = try await database.syncPageLinks(
                        operationID: claimed.id, worker: workerID, limit: pageSize)
                    do {
                        lost = try await Self.lostLinks(links, connector: books.connector, call: books.call)
                        verified = links.count - lost.count
                    } catch ConnectorError.validation(let code, let message) {
                        // The platform refused the question itself: asking again cannot help, so the page's links
                        // are trusted, as before there was a check, rather than the sync waiting for ever.
                        logger.warning(
                            "full sync could not check its links; trusted",
                            metadata: [
                                "sync_operation.id": "\(claimed.id)", "error.code": "\(code)",
                                "error.message": "\(message)",
                            ])
                    } catch {
                        // The books could not be asked: the operation waits and continues from its checkpoint.
                        try await pause(claimed.id, after: error)
                        return
                    }
                }
                let more = try await database.queueSyncPage(
                    operationID: claimed.id, worker: workerID, limit: pageSize, now: clock.now(), lease: lease,
                    lost: lost, verified: verified, decide: FullSyncDecider.decide)
                jobsQueued?.signal()
                if !more { break }
            }
            try await database.completeFinishedSyncOperations(at: clock.now())
        case .incremental:
            try await readChangeFeed(operationID: claimed.id, integrationID: claimed.integrationID)
        }
    }

    /// The platform a full sync checks its links in, when the runner can read it (`nil`: links are trusted). An
    /// integration that is not connected cannot be read: its links are trusted, and the jobs queued wait for it.
    private func books(of integrationID: String) async throws -> (connector: any Connector, call: PlatformCall)? {
        guard let platforms, let integration = try await database.integration(id: integrationID),
            integration.status == .connected, let connector = platforms.connectors[integration.platform]
        else { return nil }
        let call = await PlatformCall(
            integration: integration, connector: connector, tokens: platforms.tokens,
            rateLimiters: platforms.rateLimiters, clock: clock, logger: logger, share: .bulk)
        return (connector, call)
    }

    /// The page's linked records looked up in the books, type by type, within the integration's rate limits: those
    /// the books no longer hold (billing's record id → the platform's id).
    private static func lostLinks(
        _ links: [AppDatabase.SyncLink], connector: any Connector, call: PlatformCall
    ) async throws -> [String: String] {
        var lost: [String: String] = [:]
        for (recordType, ofType) in Dictionary(grouping: links, by: \.recordType) {
            let remoteIDs = ofType.map(\.remoteID)
            let found = try await call.run {
                try await connector.existing(recordType: recordType, remoteIDs: remoteIDs, context: $0)
            }
            for link in ofType where !found.contains(link.remoteID) { lost[link.recordID] = link.remoteID }
        }
        return lost
    }

    /// Puts a full sync aside after its books could not be read: half a minute at least, longer when the platform
    /// asked or is out of reach, five minutes when it refused the question itself.
    private func pause(_ operationID: String, after error: any Error) async throws {
        var random = SystemRandomNumberGenerator()
        let connectorError =
            error as? ConnectorError
            ?? .retryable(code: "network", message: String(describing: error), retryAfter: nil)
        let wait: Duration
        switch connectorError {
        case .unreachable: wait = retry.delay(unreachable: 1, using: &random)
        case .retryable(_, _, let retryAfter), .busy(_, _, let retryAfter):
            wait = retry.delay(afterAttempt: 1, retryAfter: retryAfter, using: &random)
        case .authentication, .credentialsRefused: wait = .seconds(60)
        case .validation, .missingMapping, .cursorExpired: wait = .seconds(300)
        }
        logger.warning(
            "full sync could not check its links; paused",
            metadata: ["sync_operation.id": "\(operationID)", "error.code": "\(connectorError.code)"])
        try await database.pauseFullSync(
            operationID: operationID, worker: workerID, error: SyncEngine.jobError(connectorError),
            retryAt: clock.now().adding(max(wait, .seconds(30))))
    }

    /// Handles the changes heard from the books that are waiting (after a webhook, or left by a push in flight).
    /// - Returns: how many were handled.
    @discardableResult
    public func processLedgerChanges() async throws -> Int {
        var handled = 0
        for integrationID in try await database.integrationsWithPendingLedgerChanges() {
            let summary = try await database.processLedgerChanges(integrationID: integrationID, at: clock.now())
            handled += summary.handled
        }
        return handled
    }

    /// Fetches the records platforms' webhooks said changed (each once per batch, however many notifications name
    /// it) and stores them as changes heard from the books; a deleted one is heard as deleted without a fetch. A
    /// failed fetch is tried again later, backing off.
    /// - Returns: how many notifications were worked on.
    @discardableResult
    public func fetchNotifiedChanges(limit: Int = 200) async throws -> Int {
        guard let platforms else { return 0 }
        let due = try await database.dueLedgerNotifications(limit: limit, at: clock.now())
        // Each integration's fetches go on at the same time as the others': a slow platform holds up only its own.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (integrationID, notifications) in Dictionary(grouping: due, by: \.integrationID) {
                group.addTask {
                    try await self.fetch(notifications, integrationID: integrationID, platforms: platforms)
                }
            }
            try await group.waitForAll()
        }
        return due.count
    }

    /// One integration's notified changes. After a failed fetch the integration's other notifications wait too,
    /// untried: the platform is not answering, and each would wait out its own deadline.
    private func fetch(
        _ notifications: [LedgerNotification], integrationID: String, platforms: PlatformAccess
    ) async throws {
        guard let integration = try await database.integration(id: integrationID),
            let connector = platforms.connectors[integration.platform]
        else {
            try await database.markLedgerNotificationsFetched(ids: notifications.map(\.id))
            return
        }
        let call = await PlatformCall(
            integration: integration, connector: connector, tokens: platforms.tokens,
            rateLimiters: platforms.rateLimiters, clock: clock, logger: logger)
        var heard: [RemoteRecord] = []
        var fetched: [String] = []
        var pulled: [String: RemoteRecord?] = [:]
        var failure: String?
        for notification in notifications {
            let gone = RemoteRecord(
                recordType: notification.recordType, remoteID: notification.remoteID, remoteVersion: nil,
                updatedAt: notification.occurredAt, deleted: true, data: ["id": .string(notification.remoteID)])
            if notification.operation == "delete" {
                heard.append(gone)
                fetched.append(notification.id)
                continue
            }
            let key = "\(notification.recordType.rawValue) \(notification.remoteID)"
            do {
                if let failure { throw Deferred(reason: failure) }
                if pulled[key] == nil {
                    pulled[key] = .some(
                        try await call.run {
                            try await connector.pull(
                                recordType: notification.recordType, remoteID: notification.remoteID, context: $0)
                        })
                }
                heard.append((pulled[key] ?? nil) ?? gone)
                fetched.append(notification.id)
            } catch {
                let reason = (error as? Deferred)?.reason ?? String(describing: error)
                // A record's own problem (an unsafe id, a Fault) leaves the others to be fetched.
                if let error = error as? ConnectorError, case .validation = error {} else { failure = reason }
                let backoff = Duration.seconds(min(30 << min(notification.attempts, 6), 1800))
                try await database.deferLedgerNotification(
                    id: notification.id, error: reason, retryAt: clock.now().adding(backoff))
            }
        }
        if !heard.isEmpty {
            try await database.recordLedgerChanges(
                integrationID: integrationID, heard, source: "webhook", at: clock.now())
        }
        try await database.markLedgerNotificationsFetched(ids: fetched)
    }

    /// A notification left for later because an earlier fetch of the same integration failed.
    private struct Deferred: Error {
        let reason: String
    }

    /// Fetches notified changes for as long as the task runs, up to `concurrency` integrations at once: an
    /// integration's batch is claimed as soon as a slot is free (or every `pollInterval` when nothing was due), so
    /// a platform that answers slowly holds up only its own notifications. On graceful shutdown the fetches in
    /// flight are cut short; their notifications are still pending and are fetched again.
    public func workOnNotifications(pollInterval: Duration, concurrency: Int = 8, limit: Int = 200) async {
        guard let platforms else { return }
        await withTaskGroup(of: String?.self) { group in
            var inFlight: Set<String> = []
            var ticking = false
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                if inFlight.count < concurrency,
                    let due = await logger.loopStep(
                        "ledger-notifications", "claim",
                        {
                            try await database.dueLedgerNotifications(
                                limit: limit, at: clock.now(), excluding: inFlight)
                        }
                    )
                {
                    let byIntegration = Dictionary(grouping: due, by: \.integrationID)
                    for (integrationID, notifications) in byIntegration.sorted(by: { $0.key < $1.key })
                    where inFlight.count < concurrency {
                        inFlight.insert(integrationID)
                        group.addTask {
                            _ = await logger.loopStep("ledger-notifications", "fetch") {
                                try await cancelWhenGracefulShutdown {
                                    try await self.fetch(
                                        notifications, integrationID: integrationID, platforms: platforms)
                                }
                            }
                            return integrationID
                        }
                    }
                }
                if !ticking {
                    ticking = true
                    group.addTask {
                        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
                        return nil
                    }
                }
                switch await group.next() {
                case .some(.some(let integrationID)): inFlight.remove(integrationID)
                case .some(.none): ticking = false
                case .none: return
                }
            }
        }
    }

    /// Requests the incremental syncs that are due (each integration's `interval_seconds` after its last one).
    /// - Returns: how many were requested.
    @discardableResult
    public func scheduleIncrementalSyncs() async throws -> Int {
        guard let platforms else { return 0 }
        return try await database.scheduleIncrementalSyncs(
            platforms: platforms.changeFeedPlatforms, paymentsIntervals: platforms.paymentsIntervals, at: clock.now())
    }

    /// Deletes sync history and audit entries older than `retention`, and fetched change notifications and
    /// unroutable deliveries older than `shortRetention` (see `AppDatabase.pruneHistory`).
    @discardableResult
    public func pruneHistory(olderThan retention: Duration, shortRetention: Duration = .days(30)) async throws
        -> PruneSummary
    {
        let now = clock.now()
        let summary = try await database.pruneHistory(
            before: now.adding(.zero - retention), shortLivedBefore: now.adding(.zero - shortRetention), now: now)
        if summary.total > 0 {
            logger.info(
                "history pruned",
                metadata: [
                    "jobs": "\(summary.jobs)", "audit_entries": "\(summary.auditEntries)",
                    "deliveries": "\(summary.deliveries)", "events": "\(summary.events)",
                    "notifications": "\(summary.notifications)", "sessions": "\(summary.sessions)",
                ])
        }
        return summary
    }

    private func readChangeFeed(operationID: String, integrationID: String) async throws {
        guard let platforms, let integration = try await database.integration(id: integrationID) else { return }
        guard let connector = platforms.connectors[integration.platform], connector.capabilities.changeFeed else {
            try await database.finishIncrementalSync(
                operationID: operationID, worker: workerID,
                error: JobError(
                    code: "no_change_feed", message: "\(integration.platform.rawValue) has no change feed to read"),
                retryAt: nil, at: clock.now())
            return
        }
        var call = await PlatformCall(
            integration: integration, connector: connector, tokens: platforms.tokens,
            rateLimiters: platforms.rateLimiters, clock: clock, logger: logger,
            share: .polling)
        // A sync a person asked for reads the whole feed, whatever was read lately.
        if let operation = try await database.syncOperation(id: operationID, tenantID: nil),
            operation.requestedBy != "scheduler"
        {
            call.context.feedInterval = .zero
        }
        var cursor = try await database.changeCursor(integrationID: integrationID)
        do {
            while !Task.isCancelled {
                let page: ChangePage
                do {
                    page = try await call.run { try await connector.changes(since: cursor, context: $0) }
                } catch ConnectorError.cursorExpired(let message) {
                    guard cursor != nil else { throw ConnectorError.cursorExpired(message: message) }
                    logger.notice(
                        "change feed cursor expired; reading from the beginning",
                        metadata: ["integration.id": "\(integrationID)", "reason": "\(message)"])
                    cursor = nil
                    try await database.recordLedgerChanges(
                        integrationID: integrationID, [], source: "change_feed", cursor: .some(nil), at: clock.now())
                    continue
                }
                let next = page.nextCursor ?? cursor
                try await database.recordLedgerChanges(
                    integrationID: integrationID, page.changes, source: "change_feed",
                    cursor: .some(next), operation: (operationID, clock.now().adding(lease)), at: clock.now())
                cursor = next
                while try await database.processLedgerChanges(integrationID: integrationID, at: clock.now())
                    .handled > 0
                {}
                if !page.hasMore { break }
            }
            try await database.finishIncrementalSync(
                operationID: operationID, worker: workerID, error: nil, retryAt: nil, at: clock.now())
        } catch let error as ConnectorError {
            let retryAt: Timestamp?
            switch error {
            case .unreachable:
                // The platform is out of reach: half a minute to a minute, then the feed is read again.
                var random = SystemRandomNumberGenerator()
                retryAt = clock.now().adding(max(retry.delay(unreachable: 2, using: &random), .seconds(30)))
            case .retryable(_, _, let retryAfter), .busy(_, _, let retryAfter):
                // A poll is not urgent: at least half a minute, so a struggling platform is not pressed.
                var random = SystemRandomNumberGenerator()
                let delay = retry.delay(afterAttempt: 1, retryAfter: retryAfter, using: &random)
                retryAt = clock.now().adding(max(delay, .seconds(30)))
            case .authentication, .credentialsRefused:
                // Disconnected integrations are not claimed; it continues once connected again.
                retryAt = clock.now().adding(.seconds(60))
            case .validation, .missingMapping, .cursorExpired:
                retryAt = nil
            }
            try await database.finishIncrementalSync(
                operationID: operationID, worker: workerID, error: SyncEngine.jobError(error), retryAt: retryAt,
                at: clock.now())
        } catch {
            var random = SystemRandomNumberGenerator()
            try await database.finishIncrementalSync(
                operationID: operationID, worker: workerID,
                error: JobError(code: "network", message: String(describing: error)),
                retryAt: clock.now().adding(
                    max(retry.delay(afterAttempt: 1, retryAfter: nil, using: &random), .seconds(30))),
                at: clock.now())
        }
    }
}

/// The scheduler, for as long as the server runs: requests each integration's incremental sync on its interval
/// (the safety net for missed webhooks), runs due sync operations, fetches what webhooks said changed, handles the
/// changes heard from the books, and once a day prunes history older than the retention period. What reads a
/// platform (sync operations, notified changes) runs in bounded slots of its own, beside the housekeeping, so one
/// slow platform stalls neither the other integrations nor the scheduler.
public struct SchedulerService: Service {
    let runner: SyncOperationRunner
    let pollInterval: Duration
    let retention: Duration
    let shortRetention: Duration
    let pruneInterval: Duration

    /// - Parameter shortRetention: how long fetched change notifications and unroutable deliveries are kept.
    public init(
        runner: SyncOperationRunner, pollInterval: Duration = .seconds(1), retention: Duration = .days(3 * 365),
        shortRetention: Duration = .days(30), pruneInterval: Duration = .days(1)
    ) {
        self.runner = runner
        self.pollInterval = pollInterval
        self.retention = retention
        self.shortRetention = shortRetention
        self.pruneInterval = pruneInterval
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            // Sync operations read platforms: they run in slots of their own, so a slow one stalls nothing else.
            group.addTask { await runner.workOnOperations(pollInterval: pollInterval) }
            group.addTask { await runner.workOnNotifications(pollInterval: pollInterval) }
            group.addTask { await housekeeping() }
        }
    }

    private func housekeeping() async {
        var nextPrune = ContinuousClock.now
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if ContinuousClock.now >= nextPrune {
                nextPrune = ContinuousClock.now + pruneInterval
                _ = await runner.logger.loopStep("housekeeping", "prune") {
                    try await runner.pruneHistory(olderThan: retention, shortRetention: shortRetention)
                }
            }
            _ = await runner.logger.loopStep("housekeeping", "schedule-incremental-syncs") {
                try await runner.scheduleIncrementalSyncs()
            }
            _ = await runner.logger.loopStep("housekeeping", "complete-operations") {
                try await runner.completeFinishedOperations()
            }
            let handled =
                await runner.logger.loopStep("housekeeping", "ledger-changes") {
                    try await runner.processLedgerChanges()
                } ?? 0
            if handled == 0 {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
            }
        }
    }
}

extension Duration {
    /// `count` days of 24 hours.
    public static func days(_ count: Int) -> Duration { .seconds(count * 86_400) }
}

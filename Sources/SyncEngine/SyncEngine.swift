public import Accounting
public import Connectors
import Ingestion
public import Logging
public import Persistence
import ServiceLifecycle

/// Runs jobs: claim with a lease → check mappings → push through the platform's connector → record the outcome.
///
/// A platform on the mailbox channel answers later: the push's message is journalled and the job waits as
/// `awaiting_platform` (no lease, no attempt) until the platform's reply wakes it; its next run replays the
/// conversation from the journal and completes from the reply.
///
/// Failures are classified by `ConnectorError`: retryable (5xx, an exchange broken after sending) waits by
/// `RetryStrategy`, honoring `Retry-After`, until the job's last attempt makes it dead; a busy platform (429, 503) or
/// one out of reach (nothing sent) defers the job without using an attempt; validation fails at once with the
/// platform's message;
/// a missing mapping parks the job until the mapping is saved. The same idempotency key goes with every attempt.
public struct SyncEngine: Sendable {
    public struct Limits: Sendable {
        /// Jobs one engine runs at once.
        public var concurrency: Int
        /// Jobs of one integration running at once, across engines.
        public var perIntegration: Int
        /// How long a claim holds before another worker may take the job over.
        public var lease: Duration
        /// Jobs claimed at once for integrations whose platform takes batches (up to its
        /// `ConnectorCapabilities.batchesInFlight` batches per integration), besides `concurrency`; their pushes go in
        /// as few platform calls as the batches allow.
        ///
        /// Eight of Tally's batches (100): while one batch is with a platform that answers one request at a time, the
        /// next ones are claimed and built, so the platform seldom waits for Ledgerwire's next request. Slots are
        /// refilled once half are free, so four batches are still queued then: enough to cover a batch's end, the
        /// claim and the build (about 45 ms against Tally's emulator, which answers a batch in 16–20 ms). With four,
        /// Tally waited for the next request after every other batch.
        public var batchedJobs: Int
        /// How long jobs in flight may go on after a graceful shutdown begins before they are cut short (and taken
        /// over once their lease expires; their platform writes are idempotent).
        public var shutdownGrace: Duration

        public init(
            concurrency: Int = 16, perIntegration: Int = 4, lease: Duration = .seconds(60), batchedJobs: Int = 800,
            shutdownGrace: Duration = .seconds(5)
        ) {
            self.concurrency = concurrency
            self.perIntegration = perIntegration
            self.lease = lease
            self.batchedJobs = batchedJobs
            self.shutdownGrace = shutdownGrace
        }
    }

    public let database: AppDatabase
    /// The job queue: claims, outcomes and leases go through it, with the engine's `JobStateMachine`.
    private let jobs: any JobStore
    public let workerID: String
    private let connectors: [Platform: any Connector]
    private let tokens: TokenStore
    private let rateLimiters: RateLimiters
    private let retry: RetryStrategy
    private let limits: Limits
    private let clock: any SyncClock
    private let signal: WorkSignal?
    private let lanes = PushLanes()
    private let logger: Logger
    /// What the lease heartbeat waits on between renewals.
    private let heartbeatClock: any Clock<Duration>
    private let metrics: SyncEngineMetrics

    public init(
        database: AppDatabase,
        connectors: [any Connector],
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
        self.database = database
        self.jobs = database
        self.connectors = Dictionary(connectors.map { ($0.platform, $0) }, uniquingKeysWith: { first, _ in first })
        self.tokens = tokens
        self.rateLimiters = rateLimiters
        self.workerID = workerID
        self.retry = retry
        self.limits = limits
        self.clock = clock
        self.signal = signal
        self.logger = logger
        self.heartbeatClock = heartbeatClock
        self.metrics = metrics
    }

    /// Claims the jobs due now (up to the concurrency limit) and runs them to their outcome.
    /// - Returns: how many jobs ran.
    @discardableResult
    public func runDueJobs() async throws -> Int {
        let claimed = try await claim(singles: limits.concurrency, batched: limits.batchedJobs)
        let snapshots = try await snapshots(of: claimed)
        let batches = batches(for: claimed, snapshots: snapshots)
        await withTaskGroup(of: Void.self) { group in
            for job in claimed {
                let integrationID = job.job.integrationID
                group.addTask {
                    await self.run(job, batch: batches[integrationID], snapshot: snapshots[integrationID])
                }
            }
        }
        return claimed.count
    }

    /// When `runDueJobs` will next find a job due, if nothing else happens meanwhile (the engine's clock, see
    /// `AppDatabase.nextJobDue(platforms:)`); `nil` when every open job waits for something other than time.
    public func nextJobDue() async throws -> Timestamp? {
        try await jobs.nextJobDue(platforms: Set(connectors.keys))
    }

    /// Runs jobs for as long as the task runs: a slot is claimed again as soon as a job ends, as soon as `signal`
    /// says work was queued, and every `pollInterval` (the work other processes queued, jobs come due), so a job stuck on a slow platform holds only its own slot, and an
    /// integration at most `Limits.perIntegration` (its batch allowance for a batching platform) of them: the
    /// other integrations' jobs go on.
    ///
    /// On graceful shutdown it stops claiming and gives the jobs in flight `Limits.shutdownGrace` to finish; then
    /// they are cut short, and taken over once their lease expires.
    public func work(pollInterval: Duration) async {
        enum Slot { case job(batched: Bool), tick }
        let grace = limits.shutdownGrace
        await withTaskGroup(of: Slot.self) { group in
            var (singles, batched) = (0, 0)
            // A kind of slot whose last claim found fewer jobs than it had room for is not claimed for again until
            // a job of that kind ends or the tick comes: a batching platform's job ending must not send a claim for
            // the other kind's slots (one per job, each finding nothing, was a third of a Tally full sync's CPU).
            var (singlesFound, batchedFound) = (true, true)
            var ticking = false
            var tick = true
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                let (freeSingles, freeBatched) = (limits.concurrency - singles, limits.batchedJobs - batched)
                let wholeBatched = wholeBatches(freeBatched)
                // Slots are refilled once half of them are free (so a batching platform's pushes still gather into
                // batches), and on every tick whatever is free.
                let claimSingles =
                    freeSingles > 0 && (tick || (singlesFound && freeSingles * 2 >= limits.concurrency))
                let claimBatched =
                    wholeBatched > 0 && (tick || (batchedFound && freeBatched * 2 >= limits.batchedJobs))
                if claimSingles || claimBatched,
                    let claimed = await logger.loopStep(
                        "jobs", "claim",
                        {
                            try await claim(
                                singles: claimSingles ? freeSingles : 0, batched: claimBatched ? wholeBatched : 0)
                        }
                    )
                {
                    // Read once for the round's jobs; a job whose integration could not be read reads it itself.
                    let snapshots =
                        claimed.isEmpty
                        ? [:]
                        : await logger.loopStep("jobs", "snapshots", { try await self.snapshots(of: claimed) }) ?? [:]
                    let batches = batches(for: claimed, snapshots: snapshots)
                    var (newSingles, newBatched) = (0, 0)
                    for job in claimed {
                        let integrationID = job.job.integrationID
                        let isBatched = isBatching(snapshots[integrationID])
                        if isBatched { newBatched += 1 } else { newSingles += 1 }
                        group.addTask {
                            await Self.withShutdownGrace(grace) {
                                await self.run(job, batch: batches[integrationID], snapshot: snapshots[integrationID])
                            }
                            return .job(batched: isBatched)
                        }
                    }
                    (singles, batched) = (singles + newSingles, batched + newBatched)
                    if claimSingles { singlesFound = newSingles >= freeSingles }
                    if claimBatched { batchedFound = newBatched >= wholeBatched }
                }
                if tick,
                    let due = await logger.loopStep(
                        "jobs", "count-due", { try await database.dueJobCount(at: clock.now()) })
                {
                    metrics.jobsDue(due)
                }
                tick = false
                if !ticking {
                    ticking = true
                    group.addTask { [signal] in
                        await WorkSignal.poll(pollInterval, orUntil: signal)
                        return .tick
                    }
                }
                switch await group.next() {
                case .job(let isBatched):
                    // Its end may make another of its kind runnable (the next job of its record, a job it woke).
                    if isBatched {
                        (batched, batchedFound) = (batched - 1, true)
                    } else {
                        (singles, singlesFound) = (singles - 1, true)
                    }
                case .tick: (ticking, tick) = (false, true)
                case nil: return
                }
            }
        }
    }

    /// Free batched slots, in whole batches of the largest batching platform: a chunk cut short by the claim is a batch
    /// call wasted, and once one is, the slots it frees stop coming in whole batches. Everything free when the limit
    /// is below one batch.
    func wholeBatches(_ free: Int) -> Int {
        let unit = connectors.values.map(\.capabilities.maximumBatchSize).max() ?? 1
        guard unit > 1, limits.batchedJobs >= unit else { return max(0, free) }
        return max(0, free) / unit * unit
    }

    /// Whether the integration's platform takes batches: its jobs count against `batchedJobs`.
    private func isBatching(_ snapshot: IntegrationSnapshot?) -> Bool {
        guard let snapshot else { return false }
        return (connectors[snapshot.integration.platform]?.capabilities.maximumBatchSize ?? 1) > 1
    }

    /// The integrations of the claimed jobs, their mappings and credentials generations, in one read for the round.
    private func snapshots(of claimed: [ClaimedJob]) async throws -> [String: IntegrationSnapshot] {
        try await database.integrationSnapshots(ids: Set(claimed.map(\.job.integrationID)))
    }

    /// Runs `operation` until it ends, or until `grace` after a graceful shutdown begins, when it is cancelled.
    static func withShutdownGrace(_ grace: Duration, _ operation: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await operation() }
            group.addTask {
                do {
                    try await gracefulShutdown()
                    try await Task.sleep(for: grace)
                } catch {
                    // Cancelled: the operation ended first.
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func claim(singles: Int, batched: Int) async throws -> [ClaimedJob] {
        var batching: [Platform: Int] = [:]
        for (platform, connector) in connectors where connector.capabilities.maximumBatchSize > 1 {
            batching[platform] = connector.capabilities.maximumBatchSize * connector.capabilities.batchesInFlight
        }
        return try await jobs.claimJobs(
            worker: workerID,
            platforms: Set(connectors.keys),
            now: clock.now(),
            lease: limits.lease,
            limit: singles,
            perIntegration: limits.perIntegration,
            batching: batching,
            batchedLimit: batching.isEmpty ? 0 : batched,
            takeover: JobStateMachine.takeover(of:)
        )
    }

    /// A batch for each integration of a batching platform with more than one job claimed.
    private func batches(for claimed: [ClaimedJob], snapshots: [String: IntegrationSnapshot]) -> [String: PushBatch] {
        var batches: [String: PushBatch] = [:]
        for (integrationID, jobs) in Dictionary(grouping: claimed, by: \.job.integrationID) where jobs.count > 1 {
            guard let integration = snapshots[integrationID]?.integration,
                let size = connectors[integration.platform]?.capabilities.maximumBatchSize, size > 1
            else { continue }
            batches[integrationID] = PushBatch(jobs: jobs.map(\.job.id), size: size)
        }
        return batches
    }

    /// Runs one claimed job and records its outcome (unless its lease was lost meanwhile). While the job runs its
    /// lease is renewed every third of the lease, so a slow platform call is not taken for a dead worker.
    func run(_ claimed: ClaimedJob, batch: PushBatch? = nil, snapshot: IntegrationSnapshot? = nil) async {
        let started = ContinuousClock.now
        let outcome = await withTaskGroup(of: JobOutcome?.self) { group in
            group.addTask {
                let outcome = await self.attempt(claimed, batch: batch, snapshot: snapshot)
                await batch?.finished(jobID: claimed.job.id)
                return outcome
            }
            group.addTask {
                await self.heartbeat(claimed)
                return nil
            }
            var outcome: JobOutcome?
            while outcome == nil, let next = await group.next() { outcome = next }
            group.cancelAll()
            return outcome!
        }
        // Cut short by a shutdown: its lease expires and another attempt takes it over.
        if Task.isCancelled { return }
        let duration = ContinuousClock.now - started
        let decided = AttemptOutcome()
        do {
            let held = try await jobs.finishJob(
                claimed, worker: workerID, outcome: outcome, at: clock.now(), decide: { decided.transition(for: $0) })
            if held, let ended = decided.value,
                let platform = await platform(of: claimed.job.integrationID, snapshot: snapshot)
            {
                metrics.attemptEnded(platform: platform, outcome: ended, duration: duration)
            }
        } catch {
            // The lease will expire and another attempt will follow; the platform write, if any, is idempotent.
            logger.error(
                "job outcome not recorded",
                metadata: ["job.id": "\(claimed.job.id)", "error": "\(String(describing: error))"])
        }
    }

    /// The platform of an integration whose job ran: as the round read it, the only connector's (no other can be
    /// claimed), or the integration's as stored.
    private func platform(of integrationID: String, snapshot: IntegrationSnapshot?) async -> Platform? {
        if let snapshot { return snapshot.integration.platform }
        if connectors.count == 1 { return connectors.keys.first }
        let integration = await logger.loopStep(
            "jobs", "integration", { try await database.integration(id: integrationID) })
        return (integration ?? nil)?.platform
    }

    /// Renews the job's lease until cancelled (or until the lease turns out lost to another worker). It waits on
    /// `heartbeatClock` (real time unless a test moves it), whatever the engine's clock: the lease guards against
    /// real stalls.
    private func heartbeat(_ claimed: ClaimedJob) async {
        let interval = limits.lease / 3
        while !Task.isCancelled {
            do {
                try await heartbeatClock.sleep(for: interval)
                let held = try await jobs.renewJobLease(
                    claimed.job.id, worker: workerID, until: clock.now().adding(limits.lease))
                if !held { return }
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "job lease not renewed",
                    metadata: ["job.id": "\(claimed.job.id)", "error": "\(String(describing: error))"])
            }
        }
    }

    /// - Parameter snapshot: the integration, its mappings and credentials generation as the round read them; read
    ///   here when the round could not.
    private func attempt(_ claimed: ClaimedJob, batch: PushBatch?, snapshot: IntegrationSnapshot?) async -> JobOutcome {
        let job = claimed.job
        var unreachableSince: Timestamp?
        var recheck: Duration?
        do {
            let read: IntegrationSnapshot?
            if let snapshot {
                read = snapshot
            } else {
                read = try await database.integrationSnapshots(ids: [job.integrationID])[job.integrationID]
            }
            guard let snapshot = read else {
                return .failed(
                    JobError(code: "integration_missing", message: "integration \(job.integrationID) is gone"))
            }
            let integration = snapshot.integration
            guard let connector = connectors[integration.platform] else {
                return .failed(
                    JobError(code: "no_connector", message: "no connector for \(integration.platform.rawValue)"))
            }
            unreachableSince = integration.unreachable?.since
            recheck = connector.capabilities.unreachableRecheck
            guard let recordType = RecordType(rawValue: job.recordType) else {
                return .failed(JobError(code: "unknown_record_type", message: "unknown record type \(job.recordType)"))
            }
            // A record that came from the books (or whose content the books already hold) is linked, not written.
            if let copy = try await database.linkToBooksCopy(of: claimed, at: clock.now()) {
                return .succeeded(remoteID: copy.remoteID, remoteVersion: copy.remoteVersion)
            }
            // Decoded once, here: the connector maps typed values. A stored record that does not read as its type
            // (never one billing sent: Ingestion decodes every record the same way) fails its job, saying why.
            let record: CanonicalRecord
            do {
                record = try CanonicalRecord(recordType: recordType, json: claimed.data)
            } catch {
                return .failed(JobError(code: "unreadable_record", message: error.description))
            }
            let mappings = snapshot.mappings
            // Every code not mapped is named at once: one round of mapping resumes the job.
            let missing = mappings.missing(for: record, kinds: connector.capabilities.mappingKinds)
            if !missing.isEmpty { return .needsMapping(Self.jobError(.missingMapping(missing))) }
            let references: [RecordReference: String]
            switch try await database.resolveDependencies(of: claimed, references: record.dependencies, at: clock.now())
            {
            case .ready(let resolved):
                references = resolved
            case .waiting(let reference, let recordID, let reason):
                // Woken as soon as that record is synced (or, one billing has not sent, as soon as billing sends it);
                // the wait is only a safety net.
                return .waiting(
                    until: clock.now().adding(recordID == nil ? .seconds(300) : .seconds(900)),
                    waitingFor: recordID ?? AppDatabase.waitKey(unsent: reference),
                    JobError(code: "waiting_for_dependency", message: reason))
            }
            let request = PushRequest(
                integrationID: integration.id,
                tenantID: integration.tenantID,
                localID: job.localID,
                version: job.version,
                action: claimed.action == .void ? .void : claimed.remoteID == nil ? .create : .update,
                record: record,
                remoteID: claimed.remoteID,
                remoteVersion: claimed.remoteVersion,
                idempotencyKey: job.idempotencyKey,
                attempt: job.attempts,
                mappings: mappings,
                references: references
            )
            // A mailbox platform's conversation so far: this run replays it from the journal.
            var mailbox: PlatformMailbox?
            if connector.capabilities.channel == .mailbox {
                mailbox = PlatformMailbox(
                    journal: try await database.conversation(ofJob: job.id).map {
                        PlatformMailbox.Exchange(message: $0.message, reply: $0.reply)
                    })
            }
            let call = await PlatformCall(
                integration: integration, connector: connector, tokens: tokens, rateLimiters: rateLimiters,
                clock: clock, logger: logger, credentialsGeneration: snapshot.credentialsGeneration, mailbox: mailbox,
                share: job.operationID == nil ? .live : .bulk)
            // A refused access token is refreshed once and the push made again; a second refusal is retried later
            // like any failure.
            let result: PushResult
            switch await batch?.submit(jobID: job.id, request) {
            case nil:
                result = try await pushAlone(request, connector: connector, call: call)
            case .result(let answered):
                result = try answered.get()
            case .lead(let chunk, let requests):
                let results = await push(requests, connector: connector, call: call)
                await batch?.deliver(chunk: chunk, results)
                result = try results[0].get()
            }
            return .succeeded(remoteID: result.remoteID, remoteVersion: result.remoteVersion)
        } catch let awaiting as AwaitingPlatform {
            return .awaitingPlatform(awaiting.message)
        } catch let error as ConnectorError {
            if unreachableSince != nil, error.platformAnswered {
                // It refused, throttled or failed, but it answered: the outage is over for every job of it.
                try? await database.markReachable(integrationID: job.integrationID)
            }
            return outcome(of: error, claimed: claimed, unreachableSince: unreachableSince, recheck: recheck)
        } catch {
            return outcome(
                of: .retryable(code: "network", message: String(describing: error), retryAfter: nil), claimed: claimed,
                unreachableSince: unreachableSince)
        }
    }

    /// A push claimed on its own: for a platform that takes batches, through the integration's `PushLane`, which
    /// sends it at once while the platform's limits have room and gathers it into a batch when they have not.
    private func pushAlone(_ request: PushRequest, connector: any Connector, call: PlatformCall) async throws
        -> PushResult
    {
        guard connector.capabilities.maximumBatchSize > 1, let limiter = call.context.rateLimiter else {
            return try await push([request], connector: connector, call: call)[0].get()
        }
        let lane = await lanes.lane(
            integrationID: request.integrationID, size: connector.capabilities.maximumBatchSize, limiter: limiter)
        switch await lane.submit(request, share: call.share) {
        case .alone:
            return try await push([request], connector: connector, call: call)[0].get()
        case .result(let answered):
            return try answered.get()
        case .lead(let chunk, let requests):
            let results = await push(requests, connector: connector, call: call)
            await lane.deliver(chunk: chunk, results)
            return try results[0].get()
        }
    }

    /// A chunk of pushes in one platform call (a single push when it is one), each with its own result.
    ///
    /// Creates that may already be in the books (a type the platform adopts, or a later attempt of a create whose
    /// outcome is unknown) are first looked for, all in one `find`; a match is adopted by the one rule of `Adoption`.
    /// Where the platform refuses duplicates itself (`looksBeforeCreating` false), a first create goes at once, and
    /// only those it refuses as duplicates are looked for and pushed again.
    private func push(_ requests: [PushRequest], connector: any Connector, call: PlatformCall) async -> [Result<
        PushResult, any Error
    >] {
        var requests = requests
        var results = [Result<PushResult, any Error>?](repeating: nil, count: requests.count)
        let capabilities = connector.capabilities
        do {
            let looked = requests.indices.filter {
                requests[$0].action == .create && requests[$0].remoteID == nil
                    && (requests[$0].attempt > 1
                        || (capabilities.looksBeforeCreating
                            && capabilities.adoptsExisting.contains(requests[$0].recordType)))
            }
            try await lookForMatches(looked, of: &requests, results: &results, connector: connector, call: call)
            let sent = requests.indices.filter { results[$0] == nil }
            try await send(sent, of: requests, results: &results, connector: connector, call: call)
            let duplicates = sent.filter { index in
                guard !requests[index].lookedUp, case .failure(let error as ConnectorError) = results[index],
                    case .validation(ConnectorError.duplicateCode, _) = error
                else { return false }
                return true
            }
            if !duplicates.isEmpty {
                for index in duplicates { results[index] = nil }
                try await lookForMatches(duplicates, of: &requests, results: &results, connector: connector, call: call)
                try await send(
                    duplicates.filter { results[$0] == nil }, of: requests, results: &results, connector: connector,
                    call: call)
            }
        } catch {
            for index in results.indices where results[index] == nil { results[index] = .failure(error) }
        }
        return results.map {
            $0 ?? .failure(ConnectorError.retryable(code: "unanswered", message: "no answer", retryAfter: nil))
        }
    }

    /// Looks for the records in the books the creates at `indices` could be, in one `find`: a match is adopted (its
    /// result set), the others are marked looked for, with the matches they must not collide with.
    private func lookForMatches(
        _ indices: [Int], of requests: inout [PushRequest], results: inout [Result<PushResult, any Error>?],
        connector: any Connector, call: PlatformCall
    ) async throws {
        guard !indices.isEmpty else { return }
        let asked = indices.map { requests[$0] }
        let found = try await call.run { try await connector.find(matching: asked, context: $0) }
        var linked: [RecordType: [String: String]] = [:]
        for (type, pairs) in Dictionary(grouping: zip(indices, found), by: { requests[$0.0].recordType }) {
            linked[type] = try await database.billingRecords(
                linkedTo: Set(pairs.flatMap { $0.1.map(\.remoteID) }), recordType: type,
                integrationID: call.context.integrationID)
        }
        for (index, matches) in zip(indices, found) {
            let request = requests[index]
            requests[index].lookedUp = true
            switch Adoption.decide(
                matches: matches, linked: linked[request.recordType] ?? [:], localID: request.localID)
            {
            case .adopt(let match):
                results[index] = match.adoption.mapError { $0 as any Error }
                // Taken by this create: no other create of the chunk may have it too.
                linked[request.recordType, default: [:]][match.remoteID] = request.localID
            case .create(let notAdoptable):
                requests[index].notAdoptable = notAdoptable
            }
        }
    }

    /// Pushes the requests at `indices`: one alone, several in one batch call.
    private func send(
        _ indices: [Int], of requests: [PushRequest], results: inout [Result<PushResult, any Error>?],
        connector: any Connector, call: PlatformCall
    ) async throws {
        if indices.count == 1 {
            let request = requests[indices[0]]
            do {
                results[indices[0]] = .success(try await call.run { try await connector.push(request, context: $0) })
            } catch {
                results[indices[0]] = .failure(error)
            }
        } else if !indices.isEmpty {
            let answers = try await call.run {
                try await connector.push(batch: indices.map { requests[$0] }, context: $0)
            }
            for (index, answer) in zip(indices, answers) { results[index] = answer.mapError { $0 as any Error } }
        }
    }

    /// - Parameter recheck: how often the platform, while out of reach, is asked again at the most
    ///   (`ConnectorCapabilities.unreachableRecheck`).
    private func outcome(
        of error: ConnectorError, claimed: ClaimedJob, unreachableSince: Timestamp?, recheck: Duration? = nil
    ) -> JobOutcome {
        let now = clock.now()
        switch error {
        case .unreachable
        where unreachableSince.map { now.microsecondsSinceEpoch - $0.microsecondsSinceEpoch } ?? 0
            < Self.maximumOutage.wholeMicroseconds:
            // Nothing was sent: no attempt is used up while the outage lasts less than `maximumOutage`.
            var random = SystemRandomNumberGenerator()
            let backoff = retry.delay(unreachable: claimed.job.deferrals + 1, using: &random)
            let wait = recheck.map { min($0, backoff) } ?? backoff
            logger.warning(
                "platform unreachable; job deferred",
                metadata: [
                    "job.id": "\(claimed.job.id)", "integration.id": "\(claimed.job.integrationID)",
                    "error.code": "\(error.code)",
                ])
            return .unreachable(at: now.adding(wait), Self.jobError(error))
        case .busy(_, _, let retryAfter) where claimed.job.deferrals < Self.maximumDeferrals:
            // Nothing was done: no attempt is used up, and the wait grows with each time it was turned away.
            var random = SystemRandomNumberGenerator()
            let wait = retry.delay(afterAttempt: claimed.job.deferrals + 1, retryAfter: retryAfter, using: &random)
            return .deferred(at: clock.now().adding(wait), Self.jobError(error))
        case .retryable(_, _, let retryAfter), .busy(_, _, let retryAfter):
            var random = SystemRandomNumberGenerator()
            let wait = retry.delay(afterFailedAttempt: claimed.job.attempts, retryAfter: retryAfter, using: &random)
            let at = clock.now().adding(wait)
            return .retry(at: at, Self.jobError(error))
        case .unreachable:
            // Out of reach for longer than `maximumOutage`: each time now counts as a failed attempt.
            var random = SystemRandomNumberGenerator()
            let wait = retry.delay(afterFailedAttempt: claimed.job.attempts, retryAfter: nil, using: &random)
            return .retry(at: clock.now().adding(wait), Self.jobError(error))
        case .authentication:
            var random = SystemRandomNumberGenerator()
            let wait = retry.delay(afterFailedAttempt: claimed.job.attempts, retryAfter: nil, using: &random)
            let at = clock.now().adding(wait)
            return .retry(at: at, Self.jobError(error))
        case .credentialsRefused:
            return .awaitingConnection(Self.jobError(error))
        case .validation, .cursorExpired:
            return .failed(Self.jobError(error))
        case .missingMapping:
            return .needsMapping(Self.jobError(error))
        }
    }

    /// How many times a job may be turned away by a busy platform (throttled, in maintenance) without using up an
    /// attempt: with the default backoff (capped at 5 minutes, full jitter) that is hours of unavailability; after
    /// that each refusal counts as a failed attempt.
    public static let maximumDeferrals = 100

    /// How long an integration's platform may be out of reach (connections refused, its host unknown) before its
    /// jobs use up their attempts again: an outage of hours, or a weekend, kills no job; a platform gone for good (a
    /// mistyped `api_base_url`) dead-letters its jobs after three days, each visible and replayable. Unreachability
    /// is bounded by time, not by `maximumDeferrals`.
    public static let maximumOutage: Duration = .seconds(3 * 86_400)

    static func jobError(_ error: ConnectorError) -> JobError {
        guard case .missingMapping(let missing) = error else {
            return JobError(code: error.code, message: error.message)
        }
        return JobError(code: error.code, message: error.message, missing: missing)
    }
}

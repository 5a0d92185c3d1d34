import Accounting
public import CoreMetrics
import Persistence
import Synchronization

/// What the sync engine reports through swift-metrics (the server's `/metrics` shows them, see docs/runbook.md).
/// Labels are bounded sets: platform and outcome, never tenants, integrations or ids.
///
/// - `ledgerwire_job_attempts_total{platform, outcome}`: jobs run to an end of their attempt, by how it ended
///   (`succeeded`, `retry`, `dead`, `failed`, `deferred`, `needs_mapping`, `waiting`, `awaiting_platform`: the outcome
///   its attempt record keeps; `waiting` when it waited for a dependency and recorded none, `awaiting_platform` when
///   its message went to a mailbox platform);
/// - `ledgerwire_job_attempt_duration_seconds{platform}`: how long a job's attempt took, from its claim to its
///   outcome (the platform call(s) and the engine's checks around them);
/// - `ledgerwire_jobs_due`: pending jobs due now (the queue's depth), sampled on each of the worker's timed claim
///   rounds (every `pollInterval`);
/// - `ledgerwire_rate_limit_wait_seconds`: time requests spent waiting for a platform's rate limit (see
///   `RateLimiters(onWait:)`).
public struct SyncEngineMetrics: Sendable {
    private let factory: any MetricsFactory

    /// - Parameter factory: where the metrics go (the server passes its Prometheus registry's factory; by default
    ///   the process's bootstrapped `MetricsSystem`).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// A job's attempt ended as `outcome` on `platform`, after `duration`.
    func attemptEnded(platform: Platform, outcome: String, duration: Duration) {
        Counter(
            label: "ledgerwire_job_attempts_total",
            dimensions: [("platform", platform.rawValue), ("outcome", outcome)], factory: factory
        ).increment()
        Timer(
            label: "ledgerwire_job_attempt_duration_seconds", dimensions: [("platform", platform.rawValue)],
            factory: factory
        ).recordNanoseconds(duration.nanoseconds)
    }

    /// `count` pending jobs are due.
    func jobsDue(_ count: Int) {
        Gauge(label: "ledgerwire_jobs_due", factory: factory).record(count)
    }

    /// A request waited `duration` for its platform's rate limit.
    public func waitedForRateLimit(_ duration: Duration) {
        Timer(label: "ledgerwire_rate_limit_wait_seconds", factory: factory).recordNanoseconds(duration.nanoseconds)
    }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}

/// The outcome the job state machine gave an attempt, kept for the metrics (the decision is made inside the
/// store's transaction).
final class AttemptOutcome: Sendable {
    private let decided = Mutex<String?>(nil)

    var value: String? { decided.withLock { $0 } }

    /// `JobStateMachine.transition(for:)`, noting the outcome its attempt record keeps (when none: `awaiting_platform`
    /// or `waiting`).
    func transition(for ended: FinishedAttempt) -> JobTransition {
        let transition = JobStateMachine.transition(for: ended)
        let unrecorded = transition.status == .awaitingPlatform ? Job.Status.awaitingPlatform.rawValue : "waiting"
        decided.withLock { $0 = transition.attempt?.outcome ?? unrecorded }
        return transition
    }
}

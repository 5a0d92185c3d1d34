import Accounting

/// When to try a job again, by why it did not go through.
///
/// - A failed attempt (5xx, an exchange that broke or timed out after sending): the waits of `attemptDelays`
///   (30 s, then 2 min), each jittered down by up to a quarter. A job's three attempts are spread over some
///   two and a half minutes: a failed operation is retried within 5 minutes, without its attempts used up in
///   seconds by a passing fault.
/// - A platform that turned the job away (`busy`: 429, 503): exponential backoff with full jitter — the wait after
///   deferral *n* is uniform in `[0, min(cap, base · 2^(n-1))]` (full jitter spreads the retries of many jobs that
///   failed together, so a recovering platform is not hit by all of them at once).
/// - A platform out of reach (`unreachable`): from `unreachableBase` (30 s), doubling to `unreachableCap` (an hour),
///   each between half and all of it: an outage of hours is waited out without pressing it.
///
/// A `Retry-After` from the platform is a floor for each.
public struct RetryStrategy: Sendable {
    public var base: Duration
    public var cap: Duration
    /// The wait after failed attempt *n* is `attemptDelays[n-1]`, the last one repeated, less up to a quarter.
    public var attemptDelays: [Duration]
    public var unreachableBase: Duration
    public var unreachableCap: Duration

    public init(
        base: Duration = .seconds(2), cap: Duration = .seconds(300),
        attemptDelays: [Duration] = [.seconds(30), .seconds(120)], unreachableBase: Duration = .seconds(30),
        unreachableCap: Duration = .seconds(3600)
    ) {
        self.base = base
        self.cap = cap
        self.attemptDelays = attemptDelays.isEmpty ? [.seconds(30)] : attemptDelays
        self.unreachableBase = unreachableBase
        self.unreachableCap = unreachableCap
    }

    /// The wait after deferral `attempt` of a busy platform (or after an attempt of a sync operation's read).
    public func delay(
        afterAttempt attempt: Int,
        retryAfter: Duration?,
        using random: inout some RandomNumberGenerator
    ) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(cap, base * (1 << exponent))
        let jittered = Self.jittered(ceiling, keeping: 0, of: 1, using: &random)
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }

    /// The wait after failed attempt `attempt` (from 1).
    public func delay(
        afterFailedAttempt attempt: Int,
        retryAfter: Duration?,
        using random: inout some RandomNumberGenerator
    ) -> Duration {
        let delay = attemptDelays[min(max(attempt - 1, 0), attemptDelays.count - 1)]
        let jittered = Self.jittered(delay, keeping: 3, of: 4, using: &random)
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }

    /// The wait after the job found the platform out of reach for the `deferral`th time (from 1).
    public func delay(unreachable deferral: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(max(deferral - 1, 0), 30)
        let ceiling = min(unreachableCap, unreachableBase * (1 << exponent))
        return Self.jittered(ceiling, keeping: 1, of: 2, using: &random)
    }

    /// Uniform in `[ceiling · kept / parts, ceiling]`.
    private static func jittered(
        _ ceiling: Duration, keeping kept: Int64, of parts: Int64, using random: inout some RandomNumberGenerator
    ) -> Duration {
        let ceilingMicros = max(ceiling.wholeMicroseconds, 0)
        let floorMicros = ceilingMicros / parts * kept
        return .microseconds(Int64.random(in: floorMicros...ceilingMicros, using: &random))
    }
}

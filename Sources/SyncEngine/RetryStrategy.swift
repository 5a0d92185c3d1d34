import Accounting

/// When to try a failed job again: exponential backoff with full jitter, never sooner than the platform asked.
///
/// The wait after attempt *n* is uniform in `[0, min(cap, base · 2^(n-1))]` (full jitter spreads retries of many
/// jobs that failed together, so a recovering platform is not hit by all of them at once); a `Retry-After` from the
/// platform is a floor.
public struct RetryStrategy: Sendable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(2), cap: Duration = .seconds(300)) {
        self.base = base
        self.cap = cap
    }

    public func delay(
        afterAttempt attempt: Int,
        retryAfter: Duration?,
        using random: inout some RandomNumberGenerator
    ) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(cap, base * (1 << exponent))
        let ceilingMicros = max(ceiling.wholeMicroseconds, 0)
        let jittered = Duration.microseconds(Int64.random(in: 0...ceilingMicros, using: &random))
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }
}

extension Duration {
    /// The whole microseconds in this duration (rounded toward zero): the unit Ledgerwire stores instants in.
    ///
    /// Saturates at `Int64.min`/`Int64.max` (about ±292,000 years) instead of trapping, so a wait or an expiry
    /// computed from a number a platform or a request sent can never crash the process.
    public var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (sum, overflowed) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000_000)
        guard !overflowed else { return seconds < 0 ? .min : .max }
        return sum
    }
}

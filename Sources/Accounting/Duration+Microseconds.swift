extension Duration {
    /// The whole microseconds in this duration (rounded toward zero): the unit Ledgerwire stores instants in.
    public var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}

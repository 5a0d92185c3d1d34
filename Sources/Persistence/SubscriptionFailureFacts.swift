public import Accounting

/// A subscription after an attempt that did not deliver its event: what decides whether it is disabled. Plain data:
/// the rule lives in the engine.
public struct SubscriptionFailureFacts: Sendable, Hashable {
    public var status: WebhookSubscription.Status
    /// The first failed attempt since the last delivered one (this attempt, when the one before it delivered).
    public var failingSince: Timestamp
    public var attemptedAt: Timestamp
    /// The receiver's answer to this attempt, if it answered.
    public var responseStatus: Int?
    /// Why this attempt failed, when the receiver did not answer.
    public var error: String?

    public init(
        status: WebhookSubscription.Status, failingSince: Timestamp, attemptedAt: Timestamp, responseStatus: Int?,
        error: String?
    ) {
        self.status = status
        self.failingSince = failingSince
        self.attemptedAt = attemptedAt
        self.responseStatus = responseStatus
        self.error = error
    }
}

/// Whether a failing subscription stays on.
public enum SubscriptionFailureDecision: Sendable, Hashable {
    case keep
    /// Disabled, with the reason shown to its owner and sent to the other subscriptions.
    case disable(reason: String)
}

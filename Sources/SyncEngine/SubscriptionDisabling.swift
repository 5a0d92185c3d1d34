import Accounting
public import Persistence

/// When a subscription whose receiver keeps failing is disabled: an active one with no event delivered for
/// `disableAfter` (``EventDispatcher/Policy/disableAfter``, five days by default).
public enum SubscriptionDisabling {
    public static func decide(_ facts: SubscriptionFailureFacts, disableAfter: Duration) -> SubscriptionFailureDecision
    {
        guard facts.status == .active,
            facts.attemptedAt.microsecondsSinceEpoch - facts.failingSince.microsecondsSinceEpoch
                >= disableAfter.wholeMicroseconds
        else { return .keep }
        let last = facts.error ?? "HTTP \(facts.responseStatus ?? 0)"
        return .disable(reason: "no event delivered since \(facts.failingSince.rfc3339); last attempt: \(last)")
    }
}

import Accounting
import Persistence
import SyncEngine
import Testing

/// When a subscription whose receiver keeps failing is disabled, decided from the facts alone: no database.
@Suite struct SubscriptionDisablingTests {
    let since = Timestamp(secondsSinceEpoch: 1_800_000_000)
    let fiveDays = Duration.seconds(5 * 86_400)

    func failing(
        for duration: Duration, status: WebhookSubscription.Status = .active, responseStatus: Int? = 503,
        error: String? = nil
    ) -> SubscriptionFailureFacts {
        SubscriptionFailureFacts(
            status: status, failingSince: since, attemptedAt: since.adding(duration), responseStatus: responseStatus,
            error: error)
    }

    @Test func aSubscriptionFailingForLessThanTheLimitStaysOn() {
        #expect(
            SubscriptionDisabling.decide(failing(for: fiveDays - .microseconds(1)), disableAfter: fiveDays) == .keep)
    }

    @Test func aSubscriptionWithNothingDeliveredForTheLimitIsDisabledSayingWhy() {
        #expect(
            SubscriptionDisabling.decide(failing(for: fiveDays), disableAfter: fiveDays)
                == .disable(reason: "no event delivered since \(since.rfc3339); last attempt: HTTP 503"))
        #expect(
            SubscriptionDisabling.decide(
                failing(for: fiveDays, responseStatus: nil, error: "connection refused"), disableAfter: fiveDays)
                == .disable(reason: "no event delivered since \(since.rfc3339); last attempt: connection refused"))
    }

    @Test func aSubscriptionAlreadyDisabledIsNotDisabledAgain() {
        #expect(
            SubscriptionDisabling.decide(failing(for: fiveDays, status: .disabled), disableAfter: fiveDays) == .keep)
    }
}

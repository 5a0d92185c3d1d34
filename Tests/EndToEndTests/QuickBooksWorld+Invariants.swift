import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import TestSupport
import Testing

/// What the invariant tests need of the world besides `QuickBooksWorld` itself: signed deliveries of what the
/// emulator would announce, several tenants and realms, and every event Ledgerwire emitted.
extension QuickBooksWorld {
    /// Delivers every change the emulator made since the last call as Intuit does (one signed body per realm) and
    /// answers what was announced. Each delivery must be answered 200 with notifications routed.
    @discardableResult
    func announce(_ format: QuickBooksWebhookSender.Format = .legacy) async throws
        -> [QuickBooksWebhookSender.Notification]
    {
        let sender = QuickBooksWebhookSender(
            url: URL(string: ledgerwire + "/webhooks/quickbooks")!, verifierToken: Self.verifierToken, format: format,
            retryDelays: [], patience: .seconds(30))
        var announced: [QuickBooksWebhookSender.Notification] = []
        for (realm, notifications) in await sandbox.takeNotifications() {
            let report = await sender.send(QuickBooksWebhookSender.body(realmID: realm, notifications, format: format))
            #expect(report.attempts.last?.status == 200, "the webhook for realm \(realm) was not acknowledged")
            announced += notifications
        }
        return announced
    }

    /// Every outbound event Ledgerwire emitted, of every tenant, oldest first.
    func allEvents() async throws -> [JSONValue] {
        var events: [JSONValue] = []
        var cursor: String?
        repeat {
            let page = try await components.database.events(
                tenantID: nil, page: try PageRequest(limit: 500, cursor: cursor))
            events += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return events
    }

    /// The events that tell billing about a change in the books (`ledger.*`).
    func ledgerEvents() async throws -> [JSONValue] {
        try await allEvents().filter { $0["type"]?.stringValue?.hasPrefix("ledger.") == true }
    }
}

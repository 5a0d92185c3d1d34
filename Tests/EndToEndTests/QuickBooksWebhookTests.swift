import Accounting
import Connectors
import Foundation
import Sandbox
import Testing

@Suite struct QuickBooksWebhookTests {
    typealias World = QuickBooksWorld

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../webhooks/quickbooks").standardized

    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.directory.appendingPathComponent(name)))
    }

    func text(_ name: String) throws -> String {
        String(decoding: try fixture(name), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func theSDKTestVectorVerifiesAndATamperedBodyDoesNot() throws {
        let body = try fixture("sdk-test-vector.json")
        let token = try text("verifier-token.txt")
        #expect(try text("sdk-test-vector.signature") == "JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q=")
        #expect(
            QuickBooksWebhook.isValid(
                signature: try text("sdk-test-vector.signature"), body: body, verifierTokens: [token]))
        var tampered = body
        tampered[tampered.count - 10] ^= 1
        #expect(
            !QuickBooksWebhook.isValid(
                signature: try text("sdk-test-vector.signature"), body: tampered, verifierTokens: [token]))
        #expect(
            !QuickBooksWebhook.isValid(
                signature: try text("sdk-test-vector.signature"), body: body, verifierTokens: ["other"]))
        #expect(!QuickBooksWebhook.isValid(signature: nil, body: body, verifierTokens: [token]))
    }

    @Test(arguments: [
        ("sdk-test-vector", "sdk-test-vector"),
        ("legacy-invoice-payment-void-delete", "invoice-payment-void-delete"),
        ("cloudevents-invoice-payment-void-delete", "invoice-payment-void-delete"),
    ])
    func eachDeliveryReadsAsItsGoldenCommands(delivery: String, expected: String) throws {
        let body = try fixture("\(delivery).json")
        #expect(
            QuickBooksWebhook.isValid(
                signature: try text("\(delivery).signature"), body: body,
                verifierTokens: [try text("verifier-token.txt")]))
        let read = try QuickBooksWebhook.notifications(in: try JSONValue(parsing: body)).map(\.json)
        #expect(JSONValue.array(read) == (try JSONValue(parsing: try fixture("\(expected).expected.json"))))
    }

    /// Through the server: a tampered body is 401; both formats of the same changes are one set of notifications (the
    /// second delivery brings nothing new); an unknown realm is kept unroutable and answered 200.
    @Test func theEndpointVerifiesRoutesAndDeduplicatesAcrossFormats() async throws {
        try await World.run { world in
            _ = try await world.connect()
            let url = world.ledgerwire + "/webhooks/quickbooks"
            let legacy = try fixture("legacy-invoice-payment-void-delete.json")
            var tampered = legacy
            tampered[20] ^= 1
            let refused = try await world.call(
                "POST", url, token: nil,
                headers: ["intuit-signature": try text("legacy-invoice-payment-void-delete.signature")], body: tampered)
            #expect(refused.status == 401)

            let first = try await world.call(
                "POST", url, token: nil,
                headers: ["intuit-signature": try text("legacy-invoice-payment-void-delete.signature")], body: legacy)
            #expect(first.status == 200 && first.json["status"] == "accepted" && first.json["notifications"] == 4)
            let second = try await world.call(
                "POST", url, token: nil,
                headers: ["intuit-signature": try text("cloudevents-invoice-payment-void-delete.signature")],
                body: try fixture("cloudevents-invoice-payment-void-delete.json"))
            #expect(second.status == 200 && second.json["status"] == "duplicate")

            let unknown = try await world.call(
                "POST", url, token: nil, headers: ["intuit-signature": try text("sdk-test-vector.signature")],
                body: try fixture("sdk-test-vector.json"))
            #expect(unknown.status == 200 && unknown.json["status"] == "unroutable")
            let kept = try await world.api("GET", "/deliveries?status=unroutable")
            #expect(kept.json["items"]?.arrayValue?.count == 1)
        }
    }

    /// The emulator's own deliveries, in both formats, out of order and twice: each answered 200 at the first
    /// attempt, and the change they announce is handled once. (Intuit's 3 s budget: QuickBooksWebhookSenderTests.)
    @Test func emulatorDeliveriesInBothFormatsOutOfOrderAndTwiceCountOnce() async throws {
        try await World.run { world in
            try await world.bill("customer.created", World.customer("cus_1", name: "Asha Rao"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.fullSync(integration)
            _ = await world.sandbox.takeNotifications()
            let invoice = try #require(await world.objects("Invoice").first)
            let voided = try await world.bookkeeper(
                "POST", "invoice?operation=void",
                ["Id": invoice["Id"] ?? .null, "SyncToken": invoice["SyncToken"] ?? .null])
            #expect(voided.status == 200)
            let pending = await world.sandbox.takeNotifications()
            for format in QuickBooksWebhookSender.Format.allCases {
                for (realm, notifications) in pending {
                    let body = QuickBooksWebhookSender.body(realmID: realm, notifications.reversed(), format: format)
                    for _ in 0..<2 {
                        let report = await world.sender(format).send(body)
                        #expect(report.delivered && report.attempts.map(\.status) == [200])
                    }
                }
            }
            try await world.hearFromTheBooks()
            let changed = try await world.events("ledger.invoice.changed")
            #expect(changed.count == 1)
            #expect(changed.first?["invoice_id"] == "inv_1" && changed.first?["change"] == "voided")
        }
    }

    /// A notification the emulator never delivered: the next scheduled CDC poll finds the change.
    @Test func aDroppedWebhookIsRepairedByTheNextCDCPoll() async throws {
        try await World.run { world in
            try await world.bill("customer.created", World.customer("cus_1", name: "Asha Rao"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            try await world.fullSync(integration)
            try await world.poll(integration)  // the first read lists the books; Ledgerwire's own writes are echoes
            #expect(try await world.events("ledger.invoice.changed").isEmpty)

            let invoice = try #require(await world.objects("Invoice").first)
            _ = try await world.bookkeeper(
                "POST", "invoice",
                [
                    "Id": invoice["Id"] ?? .null, "SyncToken": invoice["SyncToken"] ?? .null, "sparse": true,
                    "DueDate": "2026-12-01",
                ])
            _ = await world.sandbox.takeNotifications()  // lost
            try await world.poll(integration)
            let changed = try await world.events("ledger.invoice.changed")
            let operations = try await world.api("GET", "/sync-operations?integration_id=\(integration)")
            #expect(changed.count == 1, "\(operations.json)")
            #expect(changed.first?["invoice_id"] == "inv_1" && changed.first?["data"]?["due_date"] == "2026-12-01")
        }
    }
}

import Accounting
import Connectors
import Foundation
import Testing

/// Every delivery in webhooks/xero/ verifies under the key kept beside it and reads as its golden notifications.
@Suite struct XeroWebhookTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../webhooks/xero").standardized

    func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: Self.directory.appendingPathComponent(name)))
    }

    func text(_ name: String) throws -> String {
        String(decoding: try fixture(name), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every `*.json` delivery of the folder (not the goldens).
    static var deliveries: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }
            .map { String($0.dropLast(5)) }.sorted()
    }

    @Test func theFolderHoldsEveryKindOfDelivery() {
        #expect(
            Self.deliveries == [
                "batch-two-organisations", "intent-to-receive", "spec-contact-update", "spec-credit-note-create",
            ])
    }

    @Test(arguments: deliveries)
    func eachDeliveryVerifiesAndReadsAsItsGoldenNotifications(delivery: String) throws {
        let body = try fixture("\(delivery).json")
        let key = try text("webhook-key.txt")
        #expect(XeroWebhook.isValid(signature: try text("\(delivery).signature"), body: body, webhookKeys: [key]))
        #expect(!XeroWebhook.isValid(signature: try text("\(delivery).signature"), body: body, webhookKeys: ["other"]))
        var tampered = body
        tampered[tampered.count / 2] ^= 1
        #expect(!XeroWebhook.isValid(signature: try text("\(delivery).signature"), body: tampered, webhookKeys: [key]))
        let read = try XeroWebhook.notifications(in: try JSONValue(parsing: body)).map(\.json)
        #expect(JSONValue.array(read) == (try JSONValue(parsing: try fixture("\(delivery).expected.json"))))
    }

    @Test func intentToReceiveIsSignedBothWaysAndCarriesNoEvents() throws {
        let body = try fixture("intent-to-receive.json")
        let key = try text("webhook-key.txt")
        #expect(XeroWebhooks().isEmptyDelivery(body: body))
        #expect(!XeroWebhooks().isEmptyDelivery(body: try fixture("spec-contact-update.json")))
        #expect(XeroWebhook.isValid(signature: try text("intent-to-receive.signature"), body: body, webhookKeys: [key]))
        #expect(
            !XeroWebhook.isValid(signature: try text("intent-to-receive.bad-signature"), body: body, webhookKeys: [key])
        )
    }

    /// The same change in two batches (other sequences, other entropy, other neighbours) has the same key; another
    /// change of the same record has another.
    @Test func theIdempotencyKeyIsStableAcrossBatches() throws {
        let batch = try XeroWebhook.notifications(
            in: try JSONValue(parsing: try fixture("batch-two-organisations.json")))
        let alone: JSONValue = [
            "events": [
                [
                    "resourceUrl":
                        "https://api.xero.com/api.xro/2.0/Invoices/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                    "resourceId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "eventDateUtc": "2026-11-20T09:31:15.0070000",
                    "eventType": "UPDATE", "eventCategory": "INVOICE",
                    "tenantId": "aef86862-2015-4b6b-88bc-d89032cecc50",
                    "tenantType": "ORGANISATION",
                ]
            ],
            "firstEventSequence": 9000, "lastEventSequence": 9000, "entropy": "ZZZZZZZZZZZZZZZZZZZZ",
        ]
        let single = try XeroWebhook.notifications(in: alone)
        #expect(single.count == 1 && batch.contains { $0.idempotencyKey == single[0].idempotencyKey })
        let sameRecord = batch.filter { $0.remoteID == single[0].remoteID }
        #expect(Set(sameRecord.map(\.idempotencyKey)).count == 2)
    }

    /// Shape errors name their field; numbers from outside are bounded; nothing traps.
    @Test func shapeErrorsNameTheirField() throws {
        func errors(_ json: String) -> [String] {
            do {
                _ = try XeroWebhook.notifications(in: try JSONValue(parsing: Array(json.utf8)))
                return []
            } catch let error as WebhookShapeError {
                return error.errors.map(\.field)
            } catch {
                return ["not JSON"]
            }
        }
        #expect(errors("[]") == ["body"])
        #expect(errors(#"{"firstEventSequence":1,"lastEventSequence":1,"entropy":"E"}"#) == ["events"])
        #expect(
            errors(#"{"events":[],"firstEventSequence":99999999999999999999,"lastEventSequence":-1,"entropy":7}"#)
                == ["firstEventSequence", "lastEventSequence", "entropy"])
        #expect(
            errors(
                #"{"events":[{"eventCategory":"CREDITNOTE","resourceId":"55d84274-a3da-4829-a7c0-0cab601b95cc","#
                    + #""resourceUrl":"u","tenantId":"aef86862-2015-4b6b-88bc-d89032cecc50","tenantType":"ORGANISATION","#
                    + #""eventType":"CREATE","eventDateUtc":"2025-12-02T00:44:09+05:30"}],"#
                    + #""firstEventSequence":1,"lastEventSequence":1,"entropy":"E"}"#)
                == ["events[0].eventDateUtc", "events[0].data.Type"])
        #expect(
            errors(
                #"{"events":[{"eventCategory":"SUBSCRIPTION"}],"firstEventSequence":1,"lastEventSequence":1,"entropy":"E"}"#
            )
                == [], "a SUBSCRIPTION event is left out, whatever it holds")
    }
}

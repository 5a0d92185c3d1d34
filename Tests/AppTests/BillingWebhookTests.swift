import Accounting
import Foundation
import HTTPTypes
import TestSupport
import Testing

@Suite struct BillingWebhookTests {
    @Test func acceptsAnInvoiceAndShowsItWithExactTotals() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            let answer = try await client.deliver(try Fixtures.billingEvent("in-invoice.issued"), signer: signer)
            #expect(answer.status == .ok)
            #expect(answer.json["status"] == "accepted")

            let invoices = try await client.records("type=invoice&local_id=inv_in_2026_0187")
            #expect(invoices.count == 1)
            let data = try #require(invoices.first?["data"])
            #expect(data["subtotal"] == "49000.00")
            #expect(data["tax_total"] == "8820.00")
            #expect(data["total"] == "57820.00")
            #expect(data["currency"] == "INR")
            guard case .array(let lines) = data["lines"] else { throw TestFailure("no lines") }
            #expect(lines.map { $0["amount"] } == ["45000.00", "4000.00"])
            #expect(lines.map { $0["tax_amount"] } == ["8100.00", "720.00"])
            #expect(invoices.first?["tenant_id"] == "greenfield-bengaluru")
            #expect(try await client.records("type=customer&local_id=cus_in_0042").count == 1)
        }
    }

    /// Every fixture (every event type of the contract, three currencies) is stored as its golden command says.
    @Test func everyEventTypeRoundTrips() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            // Fixtures of one school in the order billing sends them: the void after the invoice it voids.
            for name in try Fixtures.billingEventNames() {
                let answer = try await client.deliver(try Fixtures.billingEvent(name), signer: signer)
                #expect(answer.status == .ok, "\(name): \(answer.json)")
                let expected = try JSONValue(
                    parsing: Array(
                        Data(contentsOf: Fixtures.billingDirectory.appendingPathComponent("\(name).expected.json")))
                )
                guard case .array(let commands) = expected else { throw TestFailure("bad golden file") }
                for command in commands {
                    let type = command["record_type"]!.stringValue!
                    let localID = command["local_id"]!.stringValue!
                    let records = try await client.records("type=\(type)&local_id=\(localID)")
                    #expect(records.count == 1, "\(name): \(type) \(localID)")
                    guard case .object(let stored) = records.first?["data"], case .object(let wanted) = command["data"]
                    else {
                        throw TestFailure("\(name): no data")
                    }
                    for (key, value) in wanted {
                        #expect(stored[key] == value, "\(name): \(type).\(key)")
                    }
                }
            }
            let voided = try await client.records("type=invoice&local_id=inv_uk_1001")
            #expect(voided.first?["voided"] == true)
            #expect(voided.first?["data"]?["total"] == "7609.20")
            #expect(voided.first?["version"] == 2)
        }
    }

    @Test func theSameWebhookIDTwiceMakesOneDeliveryAndOneVersion() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            let body = try Fixtures.billingEvent("jp-invoice.issued")
            let first = try await client.deliver(body, signer: signer, id: "msg_same")
            let second = try await client.deliver(body, signer: signer, id: "msg_same")
            #expect(first.json["status"] == "accepted")
            #expect(second.status == .ok)
            #expect(second.json["status"] == "duplicate")
            #expect(second.json["delivery_id"] == first.json["delivery_id"])
            #expect(try await client.deliveries().count == 1)
            let record = try #require(try await client.records("type=invoice&local_id=inv_jp_0311").first)
            #expect(record["version"] == 1)
        }
    }

    @Test func theSameChangeUnderAnotherWebhookIDIsADuplicate() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            let body = try Fixtures.billingEvent("uk-invoice.updated")
            #expect(try await client.deliver(body, signer: signer, id: "msg_a").json["status"] == "accepted")
            #expect(try await client.deliver(body, signer: signer, id: "msg_b").json["status"] == "duplicate")
            let record = try #require(try await client.records("type=invoice&local_id=inv_uk_1001").first)
            let id = try #require(record["id"]?.stringValue)
            let versions = try await client.call(.get, "/api/v1/records/\(id)/versions").json["items"]
            guard case .array(let items) = versions else { throw TestFailure("no versions") }
            #expect(items.count == 1)
            #expect(try await client.deliveries("status=duplicate").count == 1)
        }
    }

    @Test func anOlderUpdateIsSupersededAndChangesNothing() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            let newer = try Fixtures.billingEventJSON("uk-customer.updated")
            let older =
                newer
                .setting(["data", "updated_at"], to: "2026-08-01T00:00:00Z")
                .setting(["data", "name"], to: "Stale Name")
            #expect(try await client.deliver(newer, signer: signer).json["status"] == "accepted")
            let answer = try await client.deliver(older, signer: signer)
            #expect(answer.status == .ok)
            #expect(answer.json["status"] == "superseded")
            let record = try #require(try await client.records("type=customer&local_id=cus_uk_1187").first)
            #expect(record["data"]?["name"] == "Mr & Mrs J. Whitfield")
            #expect(record["version"] == 1)
        }
    }

    @Test func unverifiedDeliveriesAre401AndStoreNothing() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            let body = try Fixtures.billingEvent("in-customer.created")
            let now = Int64(Date().timeIntervalSince1970)
            var cases: [(String, [String: String], [UInt8])] = []
            cases.append(("tampered body", signer.headers(for: body), body + Array(" ".utf8)))
            cases.append(("wrong secret", Signer().headers(for: body), body))
            cases.append(("six minutes old", signer.headers(for: body, timestamp: now - 360), body))
            for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
                var headers = signer.headers(for: body)
                headers[header] = nil
                cases.append(("missing \(header)", headers, body))
            }
            for (name, headers, body) in cases {
                let answer = try await client.call(.post, "/webhooks/billing", token: nil, headers: headers, body: body)
                #expect(answer.status == .unauthorized, "\(name)")
                #expect(answer.headers[.contentType] == "application/problem+json")
            }
            #expect(try await client.deliveries().isEmpty)
            #expect(try await client.records("").isEmpty)
        }
    }

    @Test func bothActiveSecretsVerifyAndADeletedOneNoLongerDoes() async throws {
        try await TestApp().test { client in
            let (oldID, old) = try await client.addBillingSecret()
            let (_, new) = try await client.addBillingSecret()
            #expect(
                try await client.deliver(try Fixtures.billingEvent("in-customer.created"), signer: old).status == .ok)
            #expect(
                try await client.deliver(try Fixtures.billingEvent("uk-customer.updated"), signer: new).status == .ok)
            #expect(try await client.call(.delete, "/api/v1/webhook-sources/\(oldID)").status == .noContent)
            #expect(
                try await client.deliver(try Fixtures.billingEvent("jp-invoice.issued"), signer: old).status
                    == .unauthorized)
            #expect(try await client.deliver(try Fixtures.billingEvent("jp-invoice.issued"), signer: new).status == .ok)
        }
    }

    @Test func oversizedBodiesAre413AndNonJSONIs400AndKept() async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            let huge = Array(repeating: UInt8(ascii: " "), count: (1 << 20) + 1)
            #expect(try await client.deliver(huge, signer: signer).status == .contentTooLarge)
            let answer = try await client.deliver(Array("not json at all".utf8), signer: signer)
            #expect(answer.status == .badRequest)
            #expect(answer.json["errors"]?.canonicalString.contains("\"field\":\"body\"") == true)
            let rejected = try await client.deliveries("status=rejected")
            #expect(rejected.count == 1)
        }
    }

    /// Each malformed case is a 422 naming the field, kept as `rejected`, and replays to `accepted` once fixed.
    @Test(
        arguments: [
            ("bad sums", ["data", "total"], JSONValue.string("57820.01"), "data.total"),
            ("unknown currency", ["data", "currency"], "ZZZ", "data.currency"),
            ("INR with three decimals", ["data", "lines", 0, "unit_amount"], "45000.001", "data.lines[0].unit_amount"),
            ("missing customer_id", ["data", "customer_id"], nil, "data.customer_id"),
            ("wrong type", ["data", "lines", 1, "quantity"], ["3"], "data.lines[1].quantity"),
            ("wrong type of amount", ["data", "subtotal"], 49000, "data.subtotal"),
        ] as [(String, [JSONValue.PathComponent], JSONValue?, String)])
    func malformedEventsAreKeptAndReplayAfterTheFix(
        name: String,
        path: [JSONValue.PathComponent],
        value: JSONValue?,
        field: String
    ) async throws {
        try await TestApp().test { client in
            let (_, signer) = try await client.addBillingSecret()
            let good = try Fixtures.billingEventJSON("in-invoice.issued")
            let answer = try await client.deliver(good.setting(path, to: value), signer: signer)
            #expect(answer.status == .unprocessableContent, "\(name)")
            #expect(answer.headers[.contentType] == "application/problem+json")
            guard case .array(let errors) = answer.json["errors"] else { throw TestFailure("no errors") }
            #expect(errors.contains { $0["field"] == .string(field) }, "\(name): \(errors)")
            let deliveryID = try #require(answer.json["delivery_id"]?.stringValue)
            #expect(try await client.records("type=invoice").isEmpty)

            let rejected = try await client.deliveries("status=rejected")
            #expect(rejected.map { $0["id"] } == [.string(deliveryID)])

            // Replaying unchanged fails the same way; replaying the corrected event is accepted.
            let unchanged = try await client.call(.post, "/api/v1/deliveries/\(deliveryID)/replay", json: [:])
            #expect(unchanged.json["status"] == "rejected")
            let fixed = try await client.call(.post, "/api/v1/deliveries/\(deliveryID)/replay", json: ["body": good])
            #expect(fixed.status == .ok)
            #expect(fixed.json["status"] == "accepted")
            #expect(try await client.deliveries("status=accepted").map { $0["id"] } == [.string(deliveryID)])
            let invoice = try #require(try await client.records("type=invoice&local_id=inv_in_2026_0187").first)
            #expect(invoice["data"]?["total"] == "57820.00")
        }
    }
}

import Accounting
import Foundation
import HTTPTypes
import Testing

@testable import Sandbox

/// What goes wrong between a client and Sage: answers lost after the write was made, 429s Sage gives whatever the
/// rate, and requests no client should send, each refused in Sage's error shape without changing anything.
@Suite struct SageBusinessCloudFaultsTests {
    @Test func aLostAnswerStillMakesTheInvoiceAndItsIdempotencyIDReplaysIt() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let contact = try await harness.customer("Ada Lovelace")
            let invoice = SageBusinessCloudHarness.artefact(
                contactID: contact, ledger: try await harness.ledger(), lines: [("1", "75", "GB_STANDARD")],
                extra: ["idempotency_id": "0f0e0d0c0b0a09080706050403020100"])
            await harness.sandbox.dropAnswers(1)
            let lost = try? await harness.post("sales_invoices", "sales_invoice", invoice, spec: false)
            #expect(lost?.status != .created || lost?.json == .null)
            let retried = try await harness.post("sales_invoices", "sales_invoice", invoice)
            #expect(retried.status == .created)
            #expect(retried.json["total_amount"] == .number("90.00"))
            let invoices = await harness.sandbox.records(businessID: harness.business, resource: "sales_invoices")
            #expect(invoices.count == 1)
            #expect(retried.json["id"] == invoices.first?["id"])
        }
    }

    @Test func aThrottleSageImposesIsNotCountedAsAViolation() async throws {
        try await SageBusinessCloudHarness.run { harness in
            await harness.sandbox.throttle(next: 2)
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 { statuses.append(try await harness.get("contacts").status) }
            #expect(statuses == [.tooManyRequests, .tooManyRequests, .ok])
            #expect(await harness.sandbox.limitViolations == 0)
        }
    }

    @Test func malformedRequestsAreRefusedInSagesShapeAndChangeNothing() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let contact = try await harness.customer("Ada Lovelace")
            let ledger = try await harness.ledger()
            let notJSON = try await harness.call(
                .post, "/v3.1/sales_invoices", text: "{\"sales_invoice\": ",
                headers: [.contentType: "application/json"],
                spec: false)
            #expect(notJSON.status == .badRequest)
            #expect(notJSON.json.arrayValue?.first?["$severity"] == "error")

            let form = try await harness.call(
                .post, "/v3.1/contacts", text: "contact[name]=Ada",
                headers: [.contentType: "application/x-www-form-urlencoded"],
                spec: false)
            #expect(form.status == .unsupportedMediaType)
            #expect(form.json.arrayValue?.first?["$severity"] == "error")

            let unwrapped = try await harness.call(
                .post, "/v3.1/sales_invoices", json: ["contact_id": .string(contact)], spec: false)
            #expect(unwrapped.status == .unprocessableContent)
            #expect(unwrapped.error?.source == "sales_invoice")

            let line: JSONValue = ["description": "x", "ledger_account_id": .string(ledger), "unit_price": 1]
            let cases: [(JSONValue, String)] = [
                (["contact_id": .string(contact), "date": "2026-13-01", "invoice_lines": [line]], "date"),
                (["contact_id": .string(contact), "date": "2026-11-21", "invoice_lines": []], "invoice_lines"),
                (["contact_id": .string(contact), "date": "2026-11-21", "invoice_lines": ["x"]], "invoice_lines[0]"),
                (
                    [
                        "contact_id": .string(contact), "date": "2026-11-21",
                        "invoice_lines": [
                            ["description": "x", "ledger_account_id": .string(ledger), "unit_price": "1e400"]
                        ],
                    ], "invoice_lines[0].unit_price"
                ),
                (
                    [
                        "contact_id": .string(contact), "date": "2026-11-21",
                        "invoice_lines": [
                            [
                                "description": "x", "ledger_account_id": .string(ledger), "unit_price": 1,
                                "quantity": 99_999_999,
                            ]
                        ],
                    ], "invoice_lines[0].quantity"
                ),
                (
                    [
                        "contact_id": .string(contact), "date": "2026-11-21", "invoice_lines": [line],
                        "currency_id": "EUR", "exchange_rate": 0,
                    ], "exchange_rate"
                ),
                (
                    [
                        "contact_id": .string(contact), "date": "2026-11-21",
                        "invoice_lines": .array(Array(repeating: line, count: 501)),
                    ], "invoice_lines"
                ),
            ]
            for (entity, source) in cases {
                let answer = try await harness.post("sales_invoices", "sales_invoice", entity, spec: false)
                #expect(answer.status == .unprocessableContent, "\(source): \(answer.text)")
                #expect(answer.error?.source == source)
            }
            #expect(await harness.sandbox.records(businessID: harness.business, resource: "sales_invoices").isEmpty)

            let unknown = try await harness.call(.get, "/v3.1/purchase_orders", spec: false)
            #expect(unknown.status == .notFound)
            #expect(unknown.error?.dataCode == "NotFound")
            let forged = try await harness.call(.get, "/v3.1/contacts", token: .some("forged"))
            #expect(forged.status == .unauthorized)
            #expect(forged.error?.dataCode == "AuthorizationFailure")
            let missing = try await harness.call(.get, "/v3.1/contacts", token: .some(nil))
            #expect(missing.status == .unauthorized)
        }
    }

    @Test func hostileBodiesOnEveryWriteAreRefusedWithoutACrash() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let writes = [
                ("contacts", "contact"), ("sales_invoices", "sales_invoice"),
                ("sales_credit_notes", "sales_credit_note"),
                ("contact_payments", "contact_payment"), ("contact_allocations", "contact_allocation"),
                ("products", "product"), ("services", "service"),
            ]
            let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
            let entities: [JSONValue] = [
                "text", 12, [], [:],
                [
                    "name": 7, "contact_type_ids": "CUSTOMER", "contact_id": [], "date": 20_261_121,
                    "invoice_lines": [["unit_price": "NaN", "quantity": "-1e30"]], "credit_note_lines": [nil],
                    "transaction_type_id": ["CUSTOMER_RECEIPT"], "total_amount": "1e9999",
                    "allocated_artefacts": [["artefact_id": nil, "amount": "Infinity"]], "description": [],
                    "currency_id": "XXX", "exchange_rate": "-1", "credit_days": .number("1e3"),
                ],
            ]
            for (resource, singular) in writes {
                for entity in entities {
                    let answer = try await harness.post(resource, singular, entity, spec: false)
                    #expect([400, 422].contains(answer.status.code), "\(resource) \(entity): \(answer.text)")
                    #expect(answer.json.arrayValue?.first?["$severity"] == "error")
                }
                let nested = try await harness.call(
                    .post, "/v3.1/\(resource)", text: "{\"\(singular)\": \(deep)}",
                    headers: [.contentType: "application/json"], spec: false)
                #expect(nested.status == .badRequest)
                let put = try await harness.call(
                    .put, "/v3.1/\(resource)/%00%2F..", json: [singular: [:]], spec: false)
                #expect(put.status == .notFound)
            }
            #expect(await harness.sandbox.records(businessID: harness.business, resource: "contacts").isEmpty)
            #expect(await harness.sandbox.records(businessID: harness.business, resource: "services").count == 1)
        }
    }

    @Test func aForeignCurrencyInvoiceKeepsItsRateAndBaseCurrencyTotals() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let contact = try await harness.customer("Jean Valjean")
            let answer = try await harness.post(
                "sales_invoices", "sales_invoice",
                SageBusinessCloudHarness.artefact(
                    contactID: contact, ledger: try await harness.ledger(), lines: [("1", "115.00", "GB_ZERO")],
                    extra: ["currency_id": "EUR", "exchange_rate": .number("1.15")]))
            #expect(answer.status == .created)
            #expect(answer.json["currency"]?["id"] == "EUR")
            #expect(answer.json["total_amount"] == .number("115.00"))
            #expect(answer.json["base_currency_total_amount"] == .number("100.00"))
            #expect(answer.json["exchange_rate"] == .number("1.150000"))
        }
    }
}

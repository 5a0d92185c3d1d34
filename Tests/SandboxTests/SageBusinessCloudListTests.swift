import Accounting
import Foundation
import HTTPTypes
import TestSupport
import Testing

@testable import Sandbox

/// Lists as Sage answers them (the envelope, summaries unless `attributes` asks, pages, change tracking), the
/// per-business limit, and the spec check itself.
@Suite struct SageBusinessCloudListTests {
    @Test func listsAnswerSummariesInPagesWithLinksOnwardAndBack() async throws {
        try await SageBusinessCloudHarness.run { harness in
            var ids: [String] = []
            for index in 1...5 { ids.append(try await harness.customer("Pupil \(index)")) }
            let first = try await harness.get("contacts?items_per_page=2")
            #expect(first.json["$total"] == 5)
            #expect(first.json["$page"] == 1)
            #expect(first.json["$items_per_page"] == 2)
            #expect(first.json["$back"] == .null)
            #expect(first.ids == Array(ids.prefix(2)))
            let item = try #require(first.json["$items"]?.arrayValue?.first?.objectValue)
            #expect(Set(item.keys) == ["id", "displayed_as", "$path"])
            #expect(item["$path"] == .string("/contacts/\(ids[0])"))
            let next = try #require(first.json["$next"]?.stringValue)
            #expect(next == "/contacts?page=2&items_per_page=2")
            #expect(try await harness.get(String(next.dropFirst())).ids == Array(ids[2..<4]))
            let last = try await harness.get("contacts?items_per_page=2&page=3")
            #expect(last.ids == [ids[4]])
            #expect(last.json["$next"] == .null)
            #expect(last.json["$back"]?.stringValue?.contains("page=2") == true)

            let all = try await harness.get("contacts?attributes=all&items_per_page=1")
            #expect(all.json["$items"]?.arrayValue?.first?["contact_types"] != nil)
            let some = try await harness.get("contacts?attributes=name,balance&items_per_page=1")
            let chosen = try #require(some.json["$items"]?.arrayValue?.first?.objectValue)
            #expect(Set(chosen.keys) == ["id", "displayed_as", "$path", "name", "balance"])

            // The spec bounds `items_per_page` to 1…200; the request breaks it on purpose.
            let tooMany = try await harness.call(.get, "/v3.1/contacts?items_per_page=201", spec: false)
            #expect(tooMany.status == .unprocessableContent)
            #expect(tooMany.error?.source == "items_per_page")
        }
    }

    @Test func updatedOrCreatedSinceAndDeletedSinceTrackChanges() async throws {
        try await SageBusinessCloudHarness.run { start in
            let (invoice, _) = try await start.invoice()
            let gone = try await start.customer("Leaver")
            await start.sandbox.advance(by: 3600)
            let harness = await start.renewed()
            let mark = SageBusiness.instant(await harness.sandbox.now)
            await harness.sandbox.advance(by: 10)
            #expect(try await harness.get("sales_invoices?updated_or_created_since=\(mark)").ids.isEmpty)
            await harness.sandbox.enterReceipt(businessID: harness.business, invoiceID: invoice, amount: 20)
            let changed = try await harness.get("sales_invoices?updated_or_created_since=\(mark)&attributes=all")
            #expect(changed.ids == [invoice])
            #expect(changed.json["$items"]?.arrayValue?.first?["outstanding_amount"] == .number("100.00"))

            #expect(try await harness.call(.delete, "/v3.1/contacts/\(gone)").status == .noContent)
            let deleted = try await harness.get("contacts?deleted_since=\(mark)")
            #expect(deleted.ids == [gone])
            #expect(deleted.json["$items"]?.arrayValue?.first?["deleted_at"] != nil)
            #expect(try await harness.get("contacts").ids.count == 1)
            let after = SageBusiness.instant(await harness.sandbox.now.addingTimeInterval(1))
            #expect(try await harness.get("contacts?deleted_since=\(after)").ids.isEmpty)

            let bad = try await harness.call(
                .get, "/v3.1/sales_invoices?updated_or_created_since=yesterday", spec: false)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.error?.source == "updated_or_created_since")
        }
    }

    @Test func eachBusinessHasItsOwnLimitAndEveryRequestOverItIsCounted() async throws {
        var limits = SageBusinessCloudSandbox.Limits()
        limits.requestsPerWindow = 3
        try await SageBusinessCloudHarness.run(SageBusinessCloudSandbox(limits: limits)) { harness in
            let other = try #require(await harness.sandbox.addBusiness(name: "Cognify Dublin", country: "IE"))
            for _ in 0..<3 { #expect(try await harness.get("contacts").status == .ok) }
            let refused = try await harness.get("contacts")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.error?.dataCode == "TooManyRequests")
            #expect(refused.headers[.retryAfter] != nil)
            #expect(try await harness.get("contacts", business: .some(other)).status == .ok)
            #expect(await harness.sandbox.limitViolations == 1)
            #expect(await harness.sandbox.requestCounts[harness.business] == 3)
            await harness.sandbox.advance(by: 61)
            #expect(try await harness.get("contacts").status == .ok)
            #expect(await harness.sandbox.limitViolations == 1)
        }
    }

    @Test func theChartHoldsLedgerAccountsBankAccountsAndCatalogueItems() async throws {
        try await SageBusinessCloudHarness.run { harness in
            let ledgers = try await harness.get("ledger_accounts?attributes=nominal_code&items_per_page=200")
            let codes = (ledgers.json["$items"]?.arrayValue ?? []).compactMap { $0["nominal_code"]?.intValue }
            #expect(codes.contains(4000))
            #expect(codes.contains(1200))
            #expect(try await harness.get("bank_accounts").ids.count == 1)
            #expect(try await harness.get("products").ids.count == 1)
            let service = try await harness.post(
                "services", "service",
                [
                    "description": "After-school club",
                    "sales_ledger_account_id": .string(try await harness.ledger(4900)),
                ])
            #expect(service.status == .created)
            #expect(try await harness.get("services").ids.count == 2)
            #expect(try await harness.get("currencies?attributes=all").ids == ["EUR", "GBP", "USD"])
            let settings = try await harness.get("financial_settings")
            #expect(settings.json["base_currency"]?["id"] == "GBP")
            #expect(settings.json["multi_currency_enabled"] == true)
        }
    }

    @Test func theSpecCheckCatchesAMisspeltFieldInASageRequest() throws {
        let document = OpenAPIDocument.sageBusinessCloud
        let good = Data(
            #"{"sales_invoice":{"contact_id":"c","date":"2026-11-21","idempotency_id":"k","invoice_lines":[{"description":"d","ledger_account_id":"l","unit_price":1}]}}"#
                .utf8)
        #expect(document.violations(request: "POST", path: "/v3.1/sales_invoices", body: good).isEmpty)
        let misspelt = Data(
            #"{"sales_invoice":{"contact_id":"c","date":"2026-11-21","invoice_lines":[{"description":"d","ledger_acount_id":"l","unit_price":1}]}}"#
                .utf8)
        let found = document.violations(request: "POST", path: "/v3.1/sales_invoices", body: misspelt)
        #expect(found.contains { $0.contains("ledger_acount_id") })
        #expect(found.contains { $0.contains("ledger_account_id: required, missing") })
        let query = document.violations(request: "GET", path: "/v3.1/contacts?modified_since=2026-01-01", body: nil)
        #expect(query.contains { $0.contains("modified_since") })
    }
}

import Accounting
import App
import Foundation
import HTTPTypes
import Persistence
import TestSupport
import Testing

/// The records pages in-process: search by number, customer or id within the person's school; a record's versions
/// with what each changed, its standing in each integration's books and its audit trail; the manual override's
/// forms, for finance managers only; and times in the school's time zone.
@Suite struct RecordsPageTests {
    typealias Browser = DashboardTests.Browser

    /// Billing's invoice fixture for `tenant`, with the given ids, number and customer name (its customer comes
    /// with it).
    static func invoice(
        tenant: String, id: String, number: String, customer: String, name: String, dueDate: String = "2026-11-17",
        updated: String = "2026-11-03T05:00:00Z"
    ) throws -> JSONValue {
        try Fixtures.billingEventJSON("in-invoice.issued")
            .setting(["tenant_id"], to: .string(tenant))
            .setting(["data", "id"], to: .string(id))
            .setting(["data", "number"], to: .string(number))
            .setting(["data", "customer_id"], to: .string(customer))
            .setting(["data", "customer", "id"], to: .string(customer))
            .setting(["data", "customer", "name"], to: .string(name))
            .setting(["data", "due_date"], to: .string(dueDate))
            .setting(["data", "updated_at"], to: .string(updated))
    }

    /// Two schools' invoices: school-1's GF-0001 (Priya Raghavan) and GF-0002 (Arjun Mehta), school-2's own GF-0001.
    func billing(_ app: TestApp, _ client: Client) async throws {
        let (_, signer) = try await client.addBillingSecret()
        for event in [
            try Self.invoice(
                tenant: "school-1", id: "inv_1", number: "GF-0001", customer: "cus_1", name: "Priya Raghavan"),
            try Self.invoice(
                tenant: "school-1", id: "inv_2", number: "GF-0002", customer: "cus_2", name: "Arjun Mehta"),
            try Self.invoice(
                tenant: "school-2", id: "inv_9", number: "GF-0001", customer: "cus_9", name: "Priya Other"),
        ] {
            let answer = try await client.deliver(event, signer: signer)
            #expect(answer.status == .ok, "\(answer.json)")
        }
    }

    @Test func aSearchFindsRecordsByNumberCustomerOrIdWithinThePersonsSchool() async throws {
        try await DashboardTests().withDashboard { app, raw in
            try await billing(app, Client(client: raw))
            var browser = Browser(client: raw)
            _ = try await browser.signIn("fm@school.test")

            let byNumber = try await browser.get("/records?q=GF-0001")
            #expect(byNumber.status == .ok)
            #expect(byNumber.text.contains("Invoices inv_1") && byNumber.text.contains("₹57,820.00"))
            #expect(!byNumber.text.contains("inv_9"), "another school's invoice of the same number")
            #expect(!byNumber.text.contains("inv_2"))

            let byCustomer = try await browser.get("/records?q=priya")
            #expect(byCustomer.text.contains("Invoices inv_1") && byCustomer.text.contains("Customers cus_1"))
            #expect(!byCustomer.text.contains("inv_2") && !byCustomer.text.contains("cus_9"))

            let byID = try await browser.get("/records?q=inv_2&type=invoice")
            #expect(byID.text.contains("Invoices inv_2") && !byID.text.contains("Invoices inv_1"))

            let none = try await browser.get("/records?q=%3Cscript%3Enothing")
            #expect(none.text.contains("No record matches “&lt;script&gt;nothing”"))
        }
    }

    @Test func aRecordShowsWhatEachVersionChangedItsBooksAndItsTrailInTheSchoolsTimeZone() async throws {
        try await DashboardTests().withDashboard { app, raw in
            let client = Client(client: raw)
            try await billing(app, client)
            let (_, signer) = try await client.addBillingSecret()
            let later = try Self.invoice(
                tenant: "school-1", id: "inv_1", number: "GF-0001", customer: "cus_1", name: "Priya Raghavan",
                dueDate: "2026-11-30", updated: "2026-11-04T05:00:00Z"
            ).setting(["type"], to: "invoice.updated")
            #expect(try await client.deliver(later, signer: signer).status == .ok)
            let database = app.components.database
            let integration = try await database.createIntegration(
                tenantID: "school-1", platform: .quickBooksOnline, name: "Springfield books", settings: [:],
                sync: .init(), box: app.components.box, actor: "test")
            try await database.setSchoolTimeZone(tenantID: "school-1", to: "Asia/Kolkata", actor: "test", at: .now())
            let record = try #require(try await client.records("local_id=inv_1").first?["id"]?.stringValue)

            var browser = Browser(client: raw)
            _ = try await browser.signIn("fm@school.test")
            let page = try await browser.get("/records/\(record)")
            #expect(page.status == .ok)
            #expect(page.text.contains("<h1>Invoice GF-0001"))
            // Version 2 changed the due date (and nothing else a person would care about).
            #expect(page.text.contains("<th scope=\"row\">due_date</th><td class=\"before\">2026-11-17</td>"))
            #expect(page.text.contains("<td class=\"after\">2026-11-30</td>"))
            #expect(page.text.contains("The first version Ledgerwire stored."))
            #expect(page.text.contains("Springfield books") && page.text.contains("not yet in the books"))
            #expect(page.text.contains("id=\"exclude-\(integration.id)\""))
            #expect(page.text.contains("record.updated"), "the audit trail")
            #expect(page.text.contains("Asia/Kolkata") && !page.text.contains(" UTC</td>"))

            // Another school's record is not there for this person.
            let theirs = try #require(try await client.records("local_id=inv_9").first?["id"]?.stringValue)
            #expect(try await browser.get("/records/\(theirs)").status == .notFound)
        }
    }

    @Test func aFinanceManagerExcludesAndIncludesARecordAndAViewerCannot() async throws {
        try await DashboardTests().withDashboard { app, raw in
            let client = Client(client: raw)
            try await billing(app, client)
            let database = app.components.database
            let integration = try await database.createIntegration(
                tenantID: "school-1", platform: .quickBooksOnline, name: "Springfield books", settings: [:],
                sync: .init(), box: app.components.box, actor: "test")
            let record = try #require(try await client.records("local_id=inv_2").first?["id"]?.stringValue)

            var viewer = Browser(client: raw)
            _ = try await viewer.signIn("viewer@school.test")
            let seen = try await viewer.get("/records/\(record)")
            #expect(seen.status == .ok && !seen.text.contains("Exclude from the sync"))
            let csrf = try #require(Browser.field("_csrf", in: seen.text))
            let refused = try await viewer.post(
                "/records/\(record)/links/\(integration.id)/exclude", form: [("_csrf", csrf)])
            #expect(refused.status == .forbidden)

            var manager = Browser(client: raw)
            _ = try await manager.signIn("fm@school.test")
            let page = try await manager.get("/records/\(record)")
            let token = try #require(Browser.field("_csrf", in: page.text))
            let excluded = try await manager.post(
                "/records/\(record)/links/\(integration.id)/exclude", form: [("_csrf", token)])
            #expect(excluded.status == .seeOther)
            let after = try await manager.get(try #require(excluded.headers[.location]))
            #expect(after.text.contains("Excluded from the sync"))
            #expect(after.text.contains("excluded from the sync") && after.text.contains("Include in the sync again"))
            #expect(after.text.contains("record.excluded"))
            let entries = try await database.auditEntries(recordID: record, page: try PageRequest(limit: 100)).items
            #expect(entries.contains { $0.action == "record.excluded" && $0.actor.hasPrefix("user:") })

            let again = try await manager.post(
                "/records/\(record)/links/\(integration.id)/exclude", form: [("_csrf", token)])
            #expect(again.status == .conflict && again.text.contains("already excluded"))
            let included = try await manager.post(
                "/records/\(record)/links/\(integration.id)/include", form: [("_csrf", token)])
            #expect(included.status == .seeOther)
            let pending = try await database.jobs(status: .pending, page: try PageRequest(limit: 50)).items
            #expect(pending.contains { $0.localID == "inv_2" && $0.integrationID == integration.id })
        }
    }

    @Test func aSchoolsTimeZoneIsSetByItsFinanceManagerAndCheckedForSense() async throws {
        try await DashboardTests().withDashboard { app, raw in
            var manager = Browser(client: raw)
            _ = try await manager.signIn("fm@school.test")
            let page = try await manager.get("/settings/school")
            #expect(page.text.contains("<option value=\"Asia/Kolkata\">"))
            let token = try #require(Browser.field("_csrf", in: page.text))
            let wrong = try await manager.post(
                "/settings/school", form: [("_csrf", token), ("time_zone", "Mars/Olympus")])
            #expect(wrong.status == .unprocessableContent && wrong.text.contains("IANA time zone"))
            let saved = try await manager.post(
                "/settings/school", form: [("_csrf", token), ("time_zone", "Europe/London")])
            #expect(saved.status == .seeOther)
            #expect(try await app.components.database.schoolTimeZone(tenantID: "school-1") == "Europe/London")
            let shown = try await manager.get("/settings/school?saved=1")
            #expect(shown.text.contains("<option value=\"Europe/London\" selected>"))
            #expect(shown.text.contains("Europe/London</span>"))

            var viewer = Browser(client: raw)
            _ = try await viewer.signIn("viewer@school.test")
            let theirs = try await viewer.get("/settings/school")
            #expect(!theirs.text.contains("id=\"save-school\""))
            let csrf = try #require(Browser.field("_csrf", in: theirs.text))
            let refused = try await viewer.post(
                "/settings/school", form: [("_csrf", csrf), ("time_zone", "Asia/Tokyo")])
            #expect(refused.status == .forbidden)

            // Through the API, a school's key reaches only its own school.
            let api = Client(client: raw)
            let other = try await api.call(.put, "/api/v1/schools/school-1", json: ["time_zone": "Asia/Kolkata"])
            #expect(other.status == .ok && other.json["time_zone"] == "Asia/Kolkata")
        }
    }
}

import Accounting
import App
import Foundation
import HTTPTypes
import Persistence
import TestSupport
import Testing

/// A Sage 50 integration's standing in the dashboard, in-process: no connector claims its jobs, so instead of
/// `pending` for ever its pages say which step of the file exchange each record waits for — the next export, or
/// the import that confirms a download — and a record is "in the books" only once Sage 50's audit trail confirmed
/// it, under Sage's transaction number (a customer under its A/C).
@Suite struct Sage50PagesTests {
    typealias Browser = DashboardTests.Browser

    /// The school's Sage 50 and QuickBooks integrations, then billing's two invoices and their customers.
    func school(_ app: TestApp, _ client: Client) async throws -> (sage50: Integration, quickBooks: Integration) {
        let database = app.components.database
        let sage50 = try await database.createIntegration(
            tenantID: "school-1", platform: .sage50, name: "Sage 50 accounts", settings: [:], sync: .init(),
            box: app.components.box, actor: "test")
        let quickBooks = try await database.createIntegration(
            tenantID: "school-1", platform: .quickBooksOnline, name: "Springfield books", settings: [:],
            sync: .init(), box: app.components.box, actor: "test")
        try await RecordsPageTests().billing(app, client)
        return (sage50, quickBooks)
    }

    func recordID(_ client: Client, _ localID: String) async throws -> String {
        try #require(try await client.records("local_id=\(localID)").first?["id"]?.stringValue)
    }

    /// The text of the element with `id` up to its closing `</tr>` (a table row).
    static func row(_ id: String, in html: String) -> String {
        guard let start = html.range(of: "id=\"\(id)\"") else { return "" }
        let rest = html[start.lowerBound...]
        return String(rest[..<(rest.range(of: "</tr>")?.upperBound ?? rest.endIndex)])
    }

    @Test func aDownloadedRecordIsExportedUntilSagesAuditTrailConfirmsIt() async throws {
        try await DashboardTests().withDashboard { app, raw in
            let client = Client(client: raw)
            let database = app.components.database
            let (sage50, quickBooks) = try await school(app, client)
            let jobs = try await database.jobs(integrationID: sage50.id, page: try PageRequest(limit: 50)).items
            #expect(jobs.count == 4 && jobs.allSatisfy { $0.status == .pending }, "\(jobs.map(\.status))")
            let invoice = try await recordID(client, "inv_1")
            let customer = try await recordID(client, "cus_1")

            var browser = Browser(client: raw)
            _ = try await browser.signIn("fm@school.test")

            // Nothing downloaded yet: every record waits for the export, and the overview says so, not `pending`.
            let before = Self.row("integration-\(sage50.id)", in: try await browser.get("/").text)
            #expect(before.contains(">waiting for the export</span>"), "\(before)")
            #expect(before.contains("4 records waiting for the next Sage 50 export"), "\(before)")
            #expect(before.contains("the next download leaves out 2 records until put right"), "\(before)")
            #expect(before.contains("class=\"status failed\""), "rupees cannot go into Sage 50: \(before)")
            #expect(!before.contains(">pending<"), "\(before)")
            let customerJob = try #require(jobs.first { $0.localID == "cus_1" })
            let waitingJob = Self.row("job-\(customerJob.id)", in: try await browser.get("/activity").text)
            #expect(waitingJob.contains(">waiting for the export</span>"), "\(waitingJob)")
            #expect(waitingJob.contains("Waiting for the next Sage 50 export: download the files"), "\(waitingJob)")
            let fresh = try await browser.get("/records/\(invoice)")
            #expect(Self.row("books-\(sage50.id)", in: fresh.text).contains("waiting for the next Sage 50 export"))
            #expect(Self.row("books-\(quickBooks.id)", in: fresh.text).contains("not yet in the books"))

            // "Download customers": both customers are in the file under their A/Cs, and exported — not in the books.
            let page = try await browser.get("/integrations/\(sage50.id)")
            let csrf = try #require(Browser.field("_csrf", in: page.text))
            let file = try await browser.post(
                "/integrations/\(sage50.id)/files", form: [("_csrf", csrf), ("format", "sage50-customers-csv")])
            #expect(file.status == .ok && file.text.contains("PRIYARAG"), "\(file.text)")
            // Billing's invoices are in rupees, which Sage 50's file refuses: the store's own mark stands in for a
            // download of the transactions.
            let version = try #require(try await database.record(id: invoice, tenantID: "school-1")?.version)
            try await database.markExported(
                [.init(recordID: invoice, version: version, remoteID: nil)], integrationID: sage50.id)

            let exported = try await browser.get("/records/\(invoice)")
            let books = Self.row("books-\(sage50.id)", in: exported.text)
            #expect(books.contains("exported to Sage 50, awaiting the import"), "\(books)")
            #expect(!books.contains("in the books as"), "\(books)")
            #expect(!books.contains("Find it in the books"), "Sage 50 has no API to search")
            let account = Self.row("books-\(sage50.id)", in: try await browser.get("/records/\(customer)").text)
            #expect(account.contains("exported to Sage 50 as A/C PRIYARAG, awaiting the import"), "\(account)")
            let list = try await browser.get("/records?q=priya")
            #expect(list.text.contains("\(sage50.id): exported to Sage 50, awaiting the import"), "\(list.text)")
            #expect(list.text.contains("\(sage50.id): exported to Sage 50 as A/C PRIYARAG, awaiting the import"))

            let waiting = Self.row("integration-\(sage50.id)", in: try await browser.get("/").text)
            #expect(
                waiting.contains(
                    "1 record waiting for the next Sage 50 export; 3 records exported to Sage 50, awaiting the import"),
                "\(waiting)")
            let status = try await browser.get("/integrations/\(sage50.id)")
            #expect(status.text.contains("id=\"status\">waiting for the export</span>"))
            #expect(status.text.contains("1 record waiting for the next Sage 50 export; 3 records exported"))
            // inv_2 waits, but no download can write it (rupees): a failure to put right, named with its reason.
            #expect(status.text.contains("class=\"status failed\" id=\"status\""))
            #expect(status.text.contains("the next download leaves out 1 record until put right"))
            let leftOut = try #require(
                status.text.components(separatedBy: "id=\"sage50-left-out\"").dropFirst().first?
                    .components(separatedBy: "</div>").first)
            #expect(
                leftOut.contains(
                    "<strong>inv_2</strong>: in INR; the Sage 50 import takes amounts in the company&#39;s pounds"),
                "\(leftOut)")
            #expect(!leftOut.contains("inv_1"), "downloaded already: not left out")
            let activity = try await browser.get("/activity?integration=\(sage50.id)")
            let invoiceJob = try #require(jobs.first { $0.localID == "inv_1" })
            let otherJob = try #require(jobs.first { $0.localID == "inv_2" })
            #expect(
                Self.row("job-\(invoiceJob.id)", in: activity.text).contains(
                    ">awaiting the import</span>"))
            #expect(
                Self.row("job-\(invoiceJob.id)", in: activity.text).contains(
                    "Exported to Sage 50, awaiting the import: upload Sage 50&#39;s audit trail"))
            // inv_2 is not waiting: no download can write it, and its job says so in the failure colour.
            let stuck = Self.row("job-\(otherJob.id)", in: activity.text)
            #expect(stuck.contains("class=\"status failed\">left out</span>"), "\(stuck)")
            #expect(
                stuck.contains(
                    "Left out of the next Sage 50 download: in INR; the Sage 50 import takes amounts in the company&#39;s"
                ), "\(stuck)")
            // QuickBooks' jobs of the same records are plain `pending`: the words are Sage 50's alone.
            let quickBooksJobs = try await database.jobs(integrationID: quickBooks.id, page: try PageRequest(limit: 50))
            let theirs = try #require(quickBooksJobs.items.first)
            let quickBooksActivity = try await browser.get("/activity?integration=\(quickBooks.id)")
            #expect(Self.row("job-\(theirs.id)", in: quickBooksActivity.text).contains(">pending</span>"))

            // Sage 50's audit trail confirms the invoice as transaction 57 and the customer's A/C.
            let confirmed = try await database.confirmImported(
                [
                    .init(recordID: invoice, remoteID: "57", remoteVersion: nil),
                    .init(recordID: customer, remoteID: "PRIYARAG", remoteVersion: nil),
                ], integrationID: sage50.id, tenantID: "school-1", summary: ["kind": "audit_trail"], actor: "test")
            #expect(confirmed == 2)
            let synced = Self.row("books-\(sage50.id)", in: try await browser.get("/records/\(invoice)").text)
            #expect(synced.contains("in the books as transaction 57"), "\(synced)")
            #expect(!synced.contains("awaiting"), "\(synced)")
            let customerSynced = Self.row("books-\(sage50.id)", in: try await browser.get("/records/\(customer)").text)
            #expect(customerSynced.contains("in the books as A/C PRIYARAG"), "\(customerSynced)")
            let after = Self.row("integration-\(sage50.id)", in: try await browser.get("/").text)
            #expect(
                after.contains(
                    "1 record waiting for the next Sage 50 export; 1 record exported to Sage 50, awaiting the import"),
                "\(after)")
            let done = Self.row("job-\(invoiceJob.id)", in: try await browser.get("/activity").text)
            #expect(done.contains(">succeeded</span>"), "\(done)")
        }
    }

    /// A Sage 50 integration with nothing waiting says Sage 50 holds everything; switched off, it says disabled.
    @Test func anIntegrationWithNothingWaitingIsUpToDateAndOneSwitchedOffIsDisabled() async throws {
        try await DashboardTests().withDashboard { app, raw in
            let database = app.components.database
            let sage50 = try await database.createIntegration(
                tenantID: "school-1", platform: .sage50, name: "Sage 50 accounts", settings: [:], sync: .init(),
                box: app.components.box, actor: "test")
            var browser = Browser(client: raw)
            _ = try await browser.signIn("fm@school.test")
            let row = Self.row("integration-\(sage50.id)", in: try await browser.get("/").text)
            #expect(row.contains("class=\"status connected\">up to date</span>"), "\(row)")
            #expect(row.contains("Sage 50 holds every record: nothing waits for a file"), "\(row)")

            let page = try await browser.get("/integrations/\(sage50.id)")
            let csrf = try #require(Browser.field("_csrf", in: page.text))
            let off = try await browser.post(
                "/integrations/\(sage50.id)",
                form: [("_csrf", csrf), ("status", "disabled"), ("interval_minutes", "60")])
            #expect(off.status == .seeOther)
            let disabled = try await browser.get("/integrations/\(sage50.id)")
            #expect(disabled.text.contains("id=\"status\">disabled</span>"), "\(disabled.text)")
            #expect(Self.row("integration-\(sage50.id)", in: try await browser.get("/").text).contains(">disabled<"))
        }
    }
}

import Accounting
import App
import Foundation
import Persistence
import Sandbox
import TestSupport
import Testing

/// The weekly Sage 50 routine from the dashboard in headless Chromium: a finance manager downloads the customers and
/// the transactions (each press marks what it holds exported, and a second press holds nothing new), uploads a file
/// Sage 50 did not write and reads the row and column it was refused at, then uploads the simulated company's audit
/// trail and reads what it confirmed; an invoice's record page says it is exported, awaiting the import, and then in
/// the books as Sage's transaction. The pages are photographed (`sage50-files`, `sage50-record-exported`,
/// `sage50-refused`, `sage50-read`, `sage50-record-in-the-books`).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct Sage50BrowserTests {
    static let password = "correct horse battery staple"

    @Test func aFinanceManagerDownloadsTheWeeksFilesAndUploadsSagesAuditTrail() async throws {
        try await Sage50World.run { world in
            _ = try await world.components.database.addUser(
                email: "ruth@hillside.test", name: "Ruth Ellis", role: .financeManager, tenantID: Sage50World.tenant,
                password: Self.password, actor: "test")
            try await world.billTheTerm()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sage50-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }

            try await Browser.run(timeout: .seconds(10)) { browser in
                try await browser.open(world.ledgerwire + "/sign-in")
                try await browser.fill("#email", with: "ruth@hillside.test")
                try await browser.fill("#password", with: Self.password)
                try await browser.clickAndWaitForNextPage("#sign-in")
                let page = world.ledgerwire + "/integrations/\(world.integration)"
                try await browser.open(page)
                #expect(try await browser.text("#sage50-files h2") == "Files for Sage 50")
                try await browser.screenshot("sage50-files")

                // Each button answers a file: the page stays, and what the file holds is now exported.
                try await browser.click("#download-customers")
                try await Self.waitUntil { try await world.links().filter { $0.value.status == "exported" }.count == 2 }
                try await browser.click("#download-transactions")
                try await Self.waitUntil { try await world.links().filter { $0.value.status == "exported" }.count == 7 }
                #expect(try await browser.exists("#sage50-files"), "the page stayed: the answers were files")
                #expect(try await world.export("sage50-audit-csv").rows.isEmpty, "nothing is downloaded twice")

                // Downloaded is not yet in the books: the records page and the overview say the import is awaited.
                let invoice = try #require(
                    try await world.components.database.linkStates(integrationID: world.integration).values
                        .first { $0.localID == "inv_1" }?.recordID)
                let books = "#books-\(world.integration) td:nth-child(2)"
                try await browser.open(world.ledgerwire + "/records/\(invoice)")
                #expect(try await browser.text(books) == "exported to Sage 50, awaiting the import")
                try await browser.screenshot("sage50-record-exported")
                try await browser.open(world.ledgerwire + "/")
                let row = "#integration-\(world.integration) td:nth-child(2)"
                #expect(try await browser.text("\(row) .status") == "awaiting the import")
                #expect(
                    try await browser.text("\(row) .reason") == "7 records exported to Sage 50, awaiting the import")
                try await browser.open(page)

                // The same files (everything since the term began), imported into the school's Sage 50.
                var company = Sage50World.company()
                let customers = try await world.export("sage50-customers-csv", "&since=2026-01-01T00:00:00Z")
                let transactions = try await world.export("sage50-audit-csv", "&since=2026-01-01T00:00:00Z")
                #expect(company.importCustomers(customers.text).problems.isEmpty)
                #expect(company.importTransactions(transactions.text).problems.isEmpty)

                // A file Sage 50 did not write: refused at its row and column, nothing read.
                let foreign = folder.appendingPathComponent("bank.csv")
                try Data(
                    "No,Type,Account,Nominal,Date,Ref,Ex.Ref,Net,Tax\r\n1,SI,X,4000,31/02/2026,A,B,1.00,0.00\r\n".utf8
                )
                .write(to: foreign)
                try await browser.on("#upload-file") { try await $0.type(foreign.path) }
                try await browser.clickAndWaitForNextPage("#upload")
                #expect(
                    try await browser.text(".notice")
                        == "Sage 50's file was refused at row 2, column Date: nothing was imported. Upload Sage 50's"
                        + " audit trail export or its customer list as Sage 50 wrote it.")
                #expect(try await world.jobs(.succeeded).isEmpty)
                try await browser.screenshot("sage50-refused")

                // Sage's own audit trail: every record confirmed.
                let trail = folder.appendingPathComponent("audit-trail.csv")
                try Data(company.auditTrailCSV().utf8).write(to: trail)
                try await browser.on("#upload-file") { try await $0.type(trail.path) }
                try await browser.clickAndWaitForNextPage("#upload")
                #expect(
                    try await browser.text(".notice")
                        == "Sage 50's audit trail was read: 7 records confirmed, 0 changes made in Sage told to billing,"
                        + " 0 rows Ledgerwire does not know.")
                #expect(try await world.links().values.allSatisfy { $0.status == "synced" })
                #expect(try await world.jobs(.succeeded).count == 7)
                try await browser.screenshot("sage50-read")

                // Confirmed by Sage's audit trail: in the books under Sage 50's transaction number.
                let transaction = try #require(try await world.links()["inv_1"]?.remoteID)
                try await browser.open(world.ledgerwire + "/records/\(invoice)")
                #expect(try await browser.text(books) == "in the books as transaction \(transaction)")
                try await browser.screenshot("sage50-record-in-the-books")
                try await browser.open(world.ledgerwire + "/")
                #expect(try await browser.text("\(row) .status") == "up to date")
            }
        }
    }

    static func waitUntil(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<100 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the condition did not hold within 5 s")
    }
}

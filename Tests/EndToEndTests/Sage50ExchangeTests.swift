import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import Testing

/// The Sage 50 file exchange end to end: the exports a finance manager downloads pass Sage 50's importer (the
/// checker), go into a simulated company, and that company's own audit trail export uploaded back confirms every
/// record once; what is typed in Sage reaches billing; a file Ledgerwire cannot read changes nothing.
@Suite struct Sage50ExchangeTests {
    /// Both files downloaded, checked and imported into `company`, as a finance manager's weekly routine.
    static func exportAndImport(_ world: Sage50World, into company: inout Sage50Company) async throws
        -> (customers: Sage50World.File, transactions: Sage50World.File)
    {
        let customers = try await world.export("sage50-customers-csv")
        #expect(customers.status == 200, "\(customers.text)")
        #expect(customers.headers["content-type"]?.hasPrefix("text/csv") == true, "\(customers.headers)")
        let transactions = try await world.export("sage50-audit-csv")
        #expect(transactions.status == 200, "\(transactions.text)")
        #expect(transactions.headers["ledgerwire-left-out"] == nil, "\(transactions.headers)")

        let checker = Sage50Checker(company: company)
        let customerFile = checker.checkCustomers(customers.text)
        #expect(customerFile.problems.isEmpty, "\(customerFile.problems)")
        let transactionFile = checker.checkTransactions(transactions.text, customers: customerFile)
        #expect(transactionFile.problems.isEmpty, "\(transactionFile.problems)")

        let importedCustomers = company.importCustomers(customers.text)
        #expect(importedCustomers.problems.isEmpty, "\(importedCustomers)")
        let importedTransactions = company.importTransactions(transactions.text)
        #expect(importedTransactions.problems.isEmpty, "\(importedTransactions)")
        return (customers, transactions)
    }

    @Test func theExportsPassSageAndItsAuditTrailConfirmsEveryRecordExactlyOnce() async throws {
        try await Sage50World.run { world in
            try await world.billTheTerm()
            #expect(try await world.jobs(.pending).count == 7, "the push jobs wait for the file exchange")

            var company = Sage50World.company()
            let (customers, transactions) = try await Self.exportAndImport(world, into: &company)
            // Two families of one name: two A/Cs, the second made unique.
            #expect(customers.rows.map { $0.prefix(9) } == ["SMITHFAM,", "SMITHFA1,"], "\(customers.rows)")
            // Two lines per invoice, one for the credit note, the payment and the refund.
            #expect(transactions.rows.count == 7, "\(transactions.rows)")
            #expect(transactions.rows.contains { $0.hasPrefix("SI,SMITHFAM,4000,0,03/09/2026,INV-1,") })
            #expect(transactions.rows.contains { $0.hasPrefix("SA,SMITHFAM,1200,0,20/11/2026,BACS 1044,") })
            #expect(transactions.text.contains(",1000.05,T1,200.01,"), "net and VAT per line to the penny")
            #expect(company.balance(of: "SMITHFAM") == Sage50Money(pence: 1500_06 - 500_00))

            // Exported, not synced: nothing is confirmed until Sage's own export says so.
            let exported = try await world.links()
            #expect(exported.count == 7)
            #expect(exported.values.allSatisfy { $0.status == "exported" }, "\(exported)")
            #expect(try await world.jobs(.succeeded).isEmpty)
            #expect(exported["cus_a"]?.remoteID == "SMITHFAM" && exported["cus_b"]?.remoteID == "SMITHFA1")

            // Exporting again before the read-back repeats nothing.
            #expect(try await world.export("sage50-customers-csv").rows.isEmpty)
            #expect(try await world.export("sage50-audit-csv").rows.isEmpty)

            let readCustomers = try await world.upload(company.customerListCSV())
            #expect(readCustomers.status == 200, "\(readCustomers.json)")
            #expect(readCustomers.json["confirmed"] == 2, "\(readCustomers.json)")
            let read = try await world.upload(company.auditTrailCSV())
            #expect(read.status == 200, "\(read.json)")
            #expect(read.json["confirmed"] == 5, "\(read.json)")
            #expect(read.json["unknown"] == [], "\(read.json)")

            let links = try await world.links()
            #expect(links.values.allSatisfy { $0.status == "synced" }, "\(links)")
            let invoiceNumber = try #require(
                company.transactions.first { $0.reference == "INV-1" && $0.type == .salesInvoice }?.number)
            #expect(links["inv_1"]?.remoteID == String(invoiceNumber), "Sage's transaction number is the remote id")
            #expect(links["cus_b"]?.remoteID == "SMITHFA1", "a customer keeps its A/C")
            #expect(try await world.jobs(.succeeded).count == 7)
            #expect(try await world.jobs(.pending).isEmpty)

            // The same files again confirm nothing more.
            let again = try await world.upload(company.auditTrailCSV())
            #expect(again.json["confirmed"] == 0, "\(again.json)")
            #expect(try await world.events("ledger.invoice.changed").isEmpty, "Ledgerwire's own rows are echoes")

            // New billing: the next export holds only it, and keeps the family's A/C.
            try await world.bill(
                "invoice.issued",
                Sage50World.invoice(
                    "inv_3", number: "INV-3", customer: "cus_a", tuition: "100.00", vat: "20.00", total: "420.00"))
            #expect(try await world.export("sage50-customers-csv").rows.isEmpty)
            let next = try await world.export("sage50-audit-csv")
            #expect(next.rows.count == 2, "\(next.rows)")
            #expect(next.rows.allSatisfy { $0.hasPrefix("SI,SMITHFAM,") && $0.contains(",INV-3,") }, "\(next.rows)")
            #expect(Sage50Checker(company: company).checkTransactions(next.text).problems.isEmpty)

            let audit = try await world.api("GET", "/audit?integration_id=\(world.integration)&limit=500")
            let actions = (audit.json["items"]?.arrayValue ?? []).compactMap { $0["action"]?.stringValue }
            #expect(actions.filter { $0 == "integration.exported" }.count == 6, "\(actions)")
            #expect(actions.filter { $0 == "integration.imported" }.count == 3, "\(actions)")
        }
    }

    @Test func aReceiptTypedInSageReachesBilling() async throws {
        try await Sage50World.run { world in
            try await world.billTheTerm()
            var company = Sage50World.company()
            _ = try await Self.exportAndImport(world, into: &company)
            let confirmed = try await world.upload(company.auditTrailCSV())
            #expect(confirmed.json["confirmed"] == 7, "the customers too, since Sage took rows on their A/Cs")
            #expect(try await world.jobs(.succeeded).count == 7)
            let invoice = try #require(
                company.transactions.first { $0.reference == "INV-2" && $0.type == .salesInvoice }?.number)
            try company.enterCustomerReceipt(
                account: "SMITHFA1", date: Sage50Date(day: 25, month: 11, year: 2026)!, reference: "CHQ 000311",
                amount: Sage50Money(pence: 1000_00), allocations: [(invoice, Sage50Money(pence: 1000_00))])

            let read = try await world.upload(company.auditTrailCSV())
            #expect(read.status == 200, "\(read.json)")
            #expect(read.json["unknown"] == [], "\(read.json)")
            try await world.hearFromTheBooks()
            let payments = try await world.events("ledger.payment.recorded")
            #expect(payments.count == 1, "\(payments)")
            #expect(payments.first?["amount"] == "1000.00", "\(payments)")
            #expect(payments.first?["customer_id"] == "cus_b", "\(payments)")
        }
    }

    @Test func aMalformedOrForeignUploadIsRefusedNamingRowAndColumnAndChangesNothing() async throws {
        try await Sage50World.run { world in
            try await world.billTheTerm()
            var company = Sage50World.company()
            _ = try await Self.exportAndImport(world, into: &company)
            var lines = company.auditTrailCSV().components(separatedBy: "\r\n")
            // Row 3 (the header is row 1): an amount as a spreadsheet might rewrite it.
            var fields = lines[2].components(separatedBy: ",")
            fields[9] = "\"300,00\""
            lines[2] = fields.joined(separator: ",")
            let malformed = try await world.upload(lines.joined(separator: "\r\n"))
            #expect(malformed.status == 422, "\(malformed.json)")
            #expect(malformed.headers["content-type"] == "application/problem+json")
            #expect(malformed.json["row"] == 3 && malformed.json["column"] == "Net", "\(malformed.json)")

            let foreign = try await world.upload("Date,Description,Amount\r\n01/09/2026,Fees,100.00\r\n")
            #expect(foreign.status == 422, "\(foreign.json)")
            #expect(foreign.json["row"] == 1 && foreign.json["column"] == "Date", "\(foreign.json)")

            let links = try await world.links()
            #expect(links.values.allSatisfy { $0.status == "exported" }, "nothing confirmed: \(links)")
            #expect(try await world.jobs(.succeeded).isEmpty)
            let audit = try await world.api("GET", "/audit?integration_id=\(world.integration)&limit=500")
            let actions = (audit.json["items"]?.arrayValue ?? []).compactMap { $0["action"]?.stringValue }
            #expect(!actions.contains("integration.imported"), "\(actions)")
        }
    }
}

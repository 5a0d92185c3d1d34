import Accounting
import App
import Connectors
import Foundation
import Persistence
import Sandbox
import TestSupport
import Testing

/// The Sage 50 exporter and read-back on their own (A/C references, the CSV Sage reads, what an upload may hold), and
/// the exchange's less common paths end to end: an invoice changed in Sage, a multipart upload, references from
/// billing's ids, an export since an instant.
@Suite struct Sage50ExportTests {
    static func customer(_ id: String, _ name: String) -> Customer {
        Customer(id: .init(id), name: name, updatedAt: Timestamp(secondsSinceEpoch: 0))
    }

    @Test func accountReferencesAreEightLettersAndDigitsAndUnique() {
        let style = Sage50AccountReferenceStyle.name
        #expect(style.reference(for: Self.customer("c1", "O'Brien-Smith family"), taken: []) == "OBRIENSM")
        #expect(style.reference(for: Self.customer("c1", "O'Brien-Smith family"), taken: ["OBRIENSM"]) == "OBRIENS1")
        let taken = Set(["OBRIENSM"] + (1...9).map { "OBRIENS\($0)" })
        #expect(style.reference(for: Self.customer("c1", "O'Brien-Smith"), taken: taken) == "OBRIEN10")
        #expect(style.reference(for: Self.customer("c1", "Müller"), taken: []) == "MLLER", "A–Z and 0–9 only")
        #expect(style.reference(for: Self.customer("c1", "李"), taken: []) == "CUSTOMER")
        #expect(
            Sage50AccountReferenceStyle.id.reference(for: Self.customer("cus_000123", "Any"), taken: [])
                == "CUS000123".suffix(8).description)
    }

    @Test func anUnknownReferenceStyleIsRefused() {
        #expect(throws: ConnectorError.self) {
            try Sage50AccountReferenceStyle(settings: ["account_ref_style": "initials"])
        }
        #expect((try? Sage50AccountReferenceStyle(settings: [:])) == .name)
    }

    @Test func fieldsAreQuotedAsSageReadsThem() {
        #expect(
            Sage50CSVText.line(["a", "b,c", "say \"hi\"", " edge", "two\r\nlines"])
                == "a,\"b,c\",\"say \"\"hi\"\"\",\" edge\",two lines\r\n")
    }

    @Test func anUploadIsReadStrictlyAndBounded() throws {
        let header = "No,Type,Account,Nominal,Dept,Details,Date,Ref,Ex.Ref,Net,Tax,T/C\r\n"
        let good =
            header + "1,SI,SMITHFAM,4000,0,\"Tuition, autumn\",03/09/2026,INV-1,LWI0123456789,100.00,20.00,T1\r\n"
        guard case .auditTrail(let lines) = try Sage50Upload.read(good) else {
            Issue.record("not read as an audit trail")
            return
        }
        #expect(lines.count == 1 && lines[0].details == "Tuition, autumn" && lines[0].net == 100_00)

        func refusal(_ text: String) -> Sage50ReadError? {
            do {
                _ = try Sage50Upload.read(text)
                return nil
            } catch {
                return error
            }
        }
        #expect(
            refusal(header + "1,SI,SMITHFAM,4000,0,x,2026-09-03,INV-1,,100.00,20.00,T1\r\n")
                == Sage50ReadError(row: 2, column: "Date", "\"2026-09-03\" is not a date DD/MM/YYYY."))
        #expect(
            refusal(header + "\r\n1,XX,SMITHFAM,4000,0,x,03/09/2026,INV-1,,100.00,20.00,T1\r\n")?.row == 3,
            "blank lines count")
        #expect(
            refusal(
                header
                    + "1,SI,SMITHFAM,4000,0,x,03/09/2026,INV-1,,100.00,20.00,T1\r\n1,SI,A,4000,0,x,03/09/2026,I,,1.00,0.00,T1\r\n"
            )?.column == "No", "a number repeated")
        #expect(refusal(header + "1,SI,A,4000,0,x,03/09/2026,I,,1000000000.00,0.00,T1\r\n")?.column == "Net")
        #expect(refusal("No,Type,Account\r\n")?.column == "Nominal")
        #expect(refusal(header + "1,SI,A,4000,0,\"open,03/09/2026,I,,1.00,0.00,T1\r\n")?.row == 2)
        let wide = "No" + String(repeating: ",x", count: 200) + "\r\n"
        #expect(refusal(wide)?.message.contains("more than 100 fields") == true)
        #expect(refusal("")?.row == 1)
    }

    @Test func anInvoiceChangedInSageReachesBillingAsAChange() async throws {
        try await Sage50World.run { world in
            try await world.billTheTerm()
            var company = Sage50World.company()
            _ = try await Sage50ExchangeTests.exportAndImport(world, into: &company)
            #expect(try await world.upload(company.auditTrailCSV()).json["confirmed"] == 7)
            let line = try #require(
                company.transactions.first { $0.reference == "INV-1" && $0.type == .salesInvoice }?.number)
            try company.editAmount(of: line, net: Sage50Money(pence: 900_00), tax: Sage50Money(pence: 180_00))

            let read = try await world.upload(company.auditTrailCSV())
            #expect(read.status == 200, "\(read.json)")
            #expect(read.json["confirmed"] == 0, "\(read.json)")
            #expect(read.json["unknown"] == [], "the deleted copy Sage keeps is Ledgerwire's own row: \(read.json)")
            try await world.hearFromTheBooks()
            let changes = try await world.events("ledger.invoice.changed")
            #expect(changes.count == 1, "\(changes)")
            #expect(changes.first?["invoice_id"] == "inv_1", "\(changes)")
        }
    }

    @Test func aMultipartUploadAndReferencesFromBillingsIds() async throws {
        try await Sage50World.run(settings: ["account_ref_style": "id"]) { world in
            try await world.billTheTerm()
            var company = Sage50World.company()
            let (customers, _) = try await Sage50ExchangeTests.exportAndImport(world, into: &company)
            #expect(customers.rows.map { String($0.prefix(5)) } == ["CUSA,", "CUSB,"], "\(customers.rows)")

            let boundary = "----ledgerwire-test"
            let body =
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nweekly\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"audit.csv\"\r\n"
                + "Content-Type: text/csv\r\n\r\n\(company.auditTrailCSV())\r\n--\(boundary)--\r\n"
            let read = try await world.upload(body, contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(read.status == 200, "\(read.json)")
            #expect(read.json["confirmed"] == 7, "\(read.json)")

            let none = try await world.upload(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--\(boundary)--\r\n",
                contentType: "multipart/form-data; boundary=\(boundary)")
            #expect(none.status == 422, "\(none.json)")
            let json = try await world.upload("{}", contentType: "application/json")
            #expect(json.status == 415, "\(json.json)")
        }
    }

    @Test func anExportSinceAnInstantHoldsWhatChangedSinceEvenIfExported() async throws {
        try await Sage50World.run { world in
            try await world.billTheTerm()
            let early = try await world.export("sage50-audit-csv")
            #expect(early.rows.isEmpty, "no customer has an A/C before the customer file: \(early.rows)")
            #expect(early.headers["ledgerwire-left-out"]?.contains("has no Sage 50 A/C yet") == true)
            _ = try await world.export("sage50-customers-csv")
            #expect(try await world.export("sage50-audit-csv").rows.count == 7)
            #expect(try await world.export("sage50-audit-csv").rows.isEmpty)
            let again = try await world.export("sage50-audit-csv", "&since=2000-01-01T00:00:00Z")
            #expect(again.rows.count == 7, "\(again.rows)")
            let bad = try await world.export("sage50-audit-csv", "&since=yesterday")
            #expect(bad.status == 422)
            let tally = try await world.export("tally-xml")
            #expect(tally.status == 422, "a Tally file is not for a Sage 50 integration")
        }
    }

    /// A download is written a page of 500 records at a time: over three pages, every invoice is in it once, at its
    /// newest version, in the order billing's work arrived, and the audit says how many records it held.
    @Test func aDownloadOfSeveralPagesHoldsEachRecordOnceInTheOrderItArrived() async throws {
        try await Sage50World.run { world in
            let families = ["cus_a": "Rao Family", "cus_b": "Khan Family", "cus_c": "Jones Family"]
            for (id, name) in families.sorted(by: { $0.key < $1.key }) {
                try await world.bill("customer.created", Sage50World.customer(id, name: name))
            }
            let count = 1_020
            for index in 1...count {
                try await world.bill(
                    "invoice.issued",
                    Sage50World.invoice(
                        "inv_\(index)", number: "INV-\(index)", customer: ["cus_a", "cus_b", "cus_c"][index % 3],
                        tuition: "100.00", vat: "20.00", total: "420.00"))
            }
            // The first invoice changes after the rest: its newest version, and only it, comes last.
            try await world.bill(
                "invoice.updated",
                Sage50World.invoice(
                    "inv_1", number: "INV-1", customer: "cus_b", tuition: "200.00", vat: "40.00", total: "540.00"
                ).setting([.key("updated_at")], to: "2026-09-05T09:00:00Z"))
            #expect(try await world.export("sage50-customers-csv").rows.count == 3)
            let file = try await world.export("sage50-audit-csv")
            #expect(file.status == 200 && file.headers["ledgerwire-left-out"] == nil, "\(file.headers)")
            let numbers = file.rows.enumerated().filter { $0.offset % 2 == 0 }.map {
                $0.element.split(separator: ",", omittingEmptySubsequences: false)[5]
            }
            #expect(file.rows.count == 2 * count)
            #expect(numbers == (2...count).map { "INV-\($0)"[...] } + ["INV-1"])
            #expect(file.rows.suffix(2).allSatisfy { $0.hasPrefix("SI,KHANFAMI,") }, "\(file.rows.suffix(2))")
            #expect(file.rows[file.rows.count - 2].contains(",200.00,"), "\(file.rows.suffix(2))")
            let links = try await world.links()
            #expect((1...count).allSatisfy { links["inv_\($0)"]?.status == "exported" })
            #expect(try await world.export("sage50-audit-csv").rows.isEmpty, "every record is held once")

            let audit = try await world.api("GET", "/audit?integration_id=\(world.integration)&limit=10")
            let exports = (audit.json["items"]?.arrayValue ?? []).filter {
                $0["action"]?.stringValue == "integration.exported"
            }
            let held = exports.compactMap { $0["new_value"]?["records"]?.intValue }
            #expect(held.sorted() == [0, 3, count], "\(exports)")
        }
    }

    /// Two downloads of the transactions at once (a double click): the second waits for the first and holds only
    /// what the first did not, so between them every invoice is in one file, once; Sage 50 books none twice.
    @Test func twoDownloadsAtOnceHoldEachRecordOnce() async throws {
        try await Sage50World.run { world in
            try await world.bill("customer.created", Sage50World.customer("cus_a", name: "Rao Family"))
            let count = 1_010
            for index in 1...count {
                try await world.bill(
                    "invoice.issued",
                    Sage50World.invoice(
                        "inv_\(index)", number: "INV-\(index)", customer: "cus_a", tuition: "100.00", vat: "20.00",
                        total: "420.00"))
            }
            _ = try await world.export("sage50-customers-csv")
            async let first = world.export("sage50-audit-csv")
            async let second = world.export("sage50-audit-csv")
            let files = try await [first, second]
            #expect(files.allSatisfy { $0.status == 200 })
            let references = files.flatMap(\.rows).map {
                String($0.split(separator: ",", omittingEmptySubsequences: false)[5])
            }
            #expect(references.count == 2 * count, "\(files.map(\.rows.count)) rows")
            let perInvoice = Dictionary(grouping: references, by: { $0 }).mapValues(\.count)
            #expect(perInvoice.count == count && perInvoice.values.allSatisfy { $0 == 2 })
            #expect(files.contains { $0.rows.isEmpty }, "one download held everything: \(files.map(\.rows.count))")
        }
    }

    @Test func aDocumentInAnotherCurrencyIsLeftOutAndNamed() async throws {
        try await Sage50World.run { world in
            try await world.bill("customer.created", Sage50World.customer("cus_a", name: "Rao Family"))
            var invoice = Sage50World.invoice(
                "inv_9", number: "INV-9", customer: "cus_a", tuition: "100.00", vat: "20.00", total: "420.00")
            invoice = invoice.setting([.key("currency")], to: "EUR")
            try await world.bill("invoice.issued", invoice)
            _ = try await world.export("sage50-customers-csv")
            let file = try await world.export("sage50-audit-csv")
            #expect(file.rows.isEmpty, "\(file.rows)")
            #expect(file.headers["ledgerwire-left-out"]?.hasPrefix("inv_9: in EUR") == true, "\(file.headers)")
            #expect(try await world.links()["inv_9"] == nil, "a record left out is not marked exported")
        }
    }

    @Test func aDocumentChangedAfterItsExportIsNotWrittenTwice() async throws {
        try await Sage50World.run { world in
            try await world.billTheTerm()
            var company = Sage50World.company()
            _ = try await Sage50ExchangeTests.exportAndImport(world, into: &company)
            try await world.bill(
                "invoice.updated",
                Sage50World.invoice(
                    "inv_1", number: "INV-1", customer: "cus_a", tuition: "1100.00", vat: "220.00", total: "1620.00"
                ).setting([.key("updated_at")], to: "2026-09-05T09:00:00Z"))
            let file = try await world.export("sage50-audit-csv")
            #expect(file.rows.isEmpty, "\(file.rows)")
            #expect(file.headers["ledgerwire-left-out"]?.hasPrefix("inv_1: changed since its export") == true)
            // Sage's audit trail confirms the version it holds.
            #expect(try await world.upload(company.auditTrailCSV()).json["confirmed"] == 7)
            #expect(try await world.links()["inv_1"]?.status == "synced")
        }
    }

    @Test func aVoidOfAnInvoiceInSageSaysWhichTransactionToDelete() async throws {
        try await Sage50World.run { world in
            try await world.billTheTerm()
            var company = Sage50World.company()
            _ = try await Sage50ExchangeTests.exportAndImport(world, into: &company)
            _ = try await world.upload(company.auditTrailCSV())
            let remoteID = try #require(try await world.links()["inv_2"]?.remoteID)
            try await world.bill("invoice.voided", XeroWorld.voided("inv_2", number: "INV-2"))
            let file = try await world.export("sage50-audit-csv")
            #expect(file.rows.isEmpty, "\(file.rows)")
            #expect(
                file.headers["ledgerwire-left-out"]
                    == "inv_2: voided in billing: delete transaction \(remoteID) in Sage 50",
                "\(file.headers)")
        }
    }

    @Test func anInvoiceDeletedInSageIsHeardAsDeleted() async throws {
        try await Sage50World.run { world in
            try await world.billTheTerm()
            var company = Sage50World.company()
            _ = try await Sage50ExchangeTests.exportAndImport(world, into: &company)
            _ = try await world.upload(company.auditTrailCSV())
            for transaction in company.transactions where transaction.reference == "INV-1" {
                try company.delete(transaction.number)
            }
            let read = try await world.upload(company.auditTrailCSV())
            #expect(read.status == 200 && read.json["unknown"] == [], "\(read.json)")
            #expect(read.json["changes"] == 1, "\(read.json)")
            try await world.hearFromTheBooks()
            let changes = try await world.events("ledger.invoice.changed")
            #expect(changes.count == 1 && changes.first?["invoice_id"] == "inv_1", "\(changes)")
            #expect(try await world.links()["inv_1"]?.status == "deleted")
        }
    }
}

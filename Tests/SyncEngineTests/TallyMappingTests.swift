import Accounting
import Connectors
import Foundation
import Testing

/// The Tally connector's pieces that need no Tally: its XML, GST split and states.
@Suite struct TallyMappingTests {
    let inr = Currency(code: "INR")!

    func money(_ text: String) -> Money { try! Money(parsing: text, currency: inr) }

    func line(_ amount: String, tax: String, code: String = "GST18", account: String = "4000-TUITION") -> DocumentLine {
        DocumentLine(
            id: DocumentLine.ID("l-\(amount)"), description: "Fees \(amount)",
            quantity: ScaledDecimal(units: 1, scale: 0),
            unitAmount: money(amount), amount: money(amount), revenueAccount: account, taxCode: code,
            taxAmount: money(tax))
    }

    func invoice(_ lines: [DocumentLine]) -> Invoice {
        let subtotal = lines.reduce(0) { $0 + $1.amount.minorUnits }
        let tax = lines.reduce(0) { $0 + ($1.taxAmount?.minorUnits ?? 0) }
        return Invoice(
            id: Invoice.ID("inv-1"), number: "INV-1001", customerID: Customer.ID("cus-1"), currency: inr,
            issueDate: LocalDate(parsing: "2026-04-01")!, lines: lines,
            subtotal: Money(minorUnits: subtotal, currency: inr), taxTotal: Money(minorUnits: tax, currency: inr),
            total: Money(minorUnits: subtotal + tax, currency: inr), updatedAt: Timestamp(microsecondsSinceEpoch: 0))
    }

    var mappings: CodeMappings {
        var mappings = CodeMappings(accounts: ["4000-TUITION": "Tuition Fees"], depositAccounts: ["BANK": "HDFC Bank"])
        mappings.taxCodes = [
            "GST18": TallyTaxLedgers(cgst: "Output CGST 9%", sgst: "Output SGST 9%", igst: "Output IGST 18%").json
                .canonicalString,
            "EXEMPT": "{}",
        ]
        return mappings
    }

    func settings(state: String = "Karnataka") throws -> TallySettings {
        try TallySettings(["company": "Vidya School", "state": .string(state)])
    }

    func request(_ record: CanonicalRecord) -> PushRequest {
        PushRequest(
            integrationID: "int-1", tenantID: "default", localID: "inv-1", version: 1, action: .create,
            record: record, remoteID: nil, idempotencyKey: "k", mappings: mappings,
            references: [RecordReference(.customer, "cus-1"): "lw-cus-1"])
    }

    @Test func intraStateInvoiceSplitsTaxIntoEqualHalvesAndSendsAnOddPaisaToRoundOff() throws {
        // 18% of 1000.05 is 180.01 (rounded by billing): 90.00 + 90.00 and one paisa over.
        let voucher = try TallyMapping.salesVoucher(
            invoice([line("1000.05", tax: "180.01")]), guid: "lw-inv-1",
            party: .init(guid: "lw-cus-1", name: "Asha Rao", state: "KA"), settings: settings(), mappings: mappings)
        let entries = Dictionary(uniqueKeysWithValues: voucher.entries.map { ($0.ledger, $0.amount.decimalString) })
        #expect(
            entries == [
                "Asha Rao": "-1180.06", "Tuition Fees": "1000.05", "Output CGST 9%": "90.00",
                "Output SGST 9%": "90.00", "Round Off": "0.01",
            ])
        #expect(voucher.entries.reduce(0) { $0 + $1.amount.minorUnits } == 0)
        let party = try #require(voucher.entries.first)
        #expect(party.isParty && party.isDebit)
        #expect(party.bills == [.init(type: "New Ref", name: "INV-1001", amount: money("-1180.06"))])
        #expect(voucher.date == "20260401")
        #expect(voucher.placeOfSupply == "Karnataka")
    }

    @Test func interStateInvoicePostsIntegratedTax() throws {
        let voucher = try TallyMapping.salesVoucher(
            invoice([line("1000.00", tax: "180.00"), line("500.00", tax: "0.00", code: "EXEMPT")]), guid: "g",
            party: .init(guid: "lw-cus-1", name: "Ravi Kumar", state: "27"), settings: settings(), mappings: mappings)
        #expect(
            voucher.entries.map { "\($0.ledger)=\($0.amount.decimalString)" } == [
                "Ravi Kumar=-1680.00", "Tuition Fees=1000.00", "Tuition Fees=500.00", "Output IGST 18%=180.00",
            ])
        #expect(voucher.placeOfSupply == "Maharashtra")
    }

    @Test func aTaxCodeWithTaxButNoLedgerForTheSupplyIsRefusedNotDropped() throws {
        var mappings = mappings
        mappings.taxCodes["GST18"] = TallyTaxLedgers(igst: "Output IGST 18%").json.canonicalString
        #expect(throws: ConnectorError.self) {
            try TallyMapping.salesVoucher(
                invoice([line("1000.00", tax: "180.00")]), guid: "g",
                party: .init(guid: "c", name: "Asha", state: "Karnataka"), settings: settings(), mappings: mappings)
        }
    }

    @Test func aStateIsTheSameByNameIsoCodeOrGSTCode() {
        for text in ["Karnataka", "KA", "IN-KA", "29", "karnataka "] {
            #expect(IndianState.same(text, "Karnataka"), "\(text)")
        }
        #expect(!IndianState.same("Kerala", "Karnataka"))
        #expect(IndianState("Orissa")?.gstCode == "21")
    }

    @Test func whatLedgerwireWritesReadsBackWithTheSameFingerprint() throws {
        let voucher = try TallyMapping.salesVoucher(
            invoice([line("1000.00", tax: "180.00")]), guid: "lw-inv-1",
            party: .init(guid: "c", name: "आशा राव & Sons", state: "KA"), settings: settings(), mappings: mappings)
        let written = TallyXML.document(
            TallyElement("COLLECTION", children: [voucher.element(action: "Create")]), encoding: .utf16)
        let read = try TallyXML.parse(written, encoding: .utf16)
        let exported = try #require(read.child("VOUCHER"))
        let back = try #require(TallyVoucherRecord(exported: exported))
        #expect(back.party == "आशा राव & Sons")
        #expect(back.fingerprint == voucher.fingerprint)
        var altered = back
        altered.entries[1].amount = money("999.00")
        #expect(altered.fingerprint != voucher.fingerprint)
    }

    @Test func tallyControlReferencesAreDroppedAndDocumentTypesRefused() throws {
        let root = try TallyXML.parse(#"<GROUP NAME="Sundry Debtors"><PARENT>&#4; Primary</PARENT></GROUP>"#)
        #expect(root.value("PARENT") == "Primary")
        #expect(throws: TallyXML.ParseError.self) {
            try TallyXML.parse(#"<!DOCTYPE x [<!ENTITY a "aaaa">]><X>&a;</X>"#)
        }
        let deep = String(repeating: "<A>", count: 100) + String(repeating: "</A>", count: 100)
        #expect(throws: TallyXML.ParseError.self) { try TallyXML.parse(deep) }
    }

    @Test func utf16BodiesRoundTripEveryScript() throws {
        let name = "श्री विद्या निकेतन — 学校 ✓"
        let data = TallyEncoding.utf16.encode("<NAME>\(name)</NAME>")
        #expect(TallyEncoding.of(data, contentType: nil) == .utf16)
        #expect(try TallyXML.parse(data, encoding: .utf16).text == name)
        #expect(TallyEncoding.of(Data("<A/>".utf8), contentType: "text/xml;charset=utf-8") == .utf8)
        #expect(TallyEncoding.of(Data("<A/>".utf8), contentType: "text/xml; charset=UTF-16") == .utf16)
    }
}

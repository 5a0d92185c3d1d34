import Connectors
import Foundation
import Testing

@testable import Sandbox

/// Reads: the company list, collections filtered by formulae, the Trial Balance, Day Book and List of Accounts
/// reports, and the company a request names.
@Suite struct TallyExportTests {
    typealias H = TallyHarness

    static let companyList =
        "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST><TYPE>Collection</TYPE>"
        + "<ID>Ledgerwire Companies</ID></HEADER><BODY><DESC><STATICVARIABLES><SVEXPORTFORMAT>$$SysName:XML"
        + "</SVEXPORTFORMAT></STATICVARIABLES><TDL><TDLMESSAGE><COLLECTION NAME=\"Ledgerwire Companies\">"
        + "<TYPE>Company</TYPE><FETCH>Name,GUID,AltMstId,AltVchId,StateName</FETCH></COLLECTION></TDLMESSAGE>"
        + "</TDL></DESC></BODY></ENVELOPE>"

    @Test func theCompanyListNamesLoadedCompaniesOnlyWithTheirCounters() async throws {
        try await H.run { tally in
            await tally.sandbox.addCompany("Closed School", loaded: false)
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1")])
            let answer = try await tally.post(Self.companyList)
            #expect(answer.status == "1")
            let companies = answer.objects
            #expect(companies.map { $0[attribute: "NAME"] } == [H.company])
            let company = try #require(await tally.sandbox.company(H.company))
            #expect(companies.first?.value("GUID") == company.guid)
            #expect(companies.first?.value("ALTVCHID") == "\(company.altVoucherID)")
            #expect(companies.first?.value("ALTMSTID") == "\(company.altMasterID)")
            #expect(companies.first?.value("STATENAME") == "Karnataka")
            #expect(company.altVoucherID > company.altMasterID)
        }
    }

    @Test func collectionsComeInAlterIDOrderFilteredByEveryFormula() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing((1...5).map { H.sale("lw-inv-\($0)", number: "INV-\($0)") })
            let ids = await tally.sandbox.vouchers(company: H.company).map(\.alterID)
            let answer = try await tally.collection(
                "Voucher", formulae: ["$AlterID > \(ids[1])", "$AlterID <= \(ids[3])"])
            #expect(answer.objects.map { $0.value("VOUCHERNUMBER") } == ["INV-3", "INV-4"])
            let either = try await tally.collection(
                "Voucher", formulae: ["$VoucherNumber = \"INV-1\" OR $$IsEqual:$GUID:\"lw-inv-5\" AND $AlterID > 0"])
            #expect(either.objects.map { $0.value("VOUCHERNUMBER") } == ["INV-1", "INV-5"])
            let none = try await tally.collection(
                "Voucher", formulae: ["$VoucherNumber = \"INV-1\" AND $VoucherNumber = \"INV-2\""])
            #expect(none.objects.isEmpty && none.status == "1")
        }
    }

    @Test func formulaeOutsideTheGrammarAreAnsweredWithAnError() async throws {
        try await H.run { tally in
            for formula in ["$Colour = \"red\"", "$AlterID > ", "$$Sum:$Amount > 3", "$Name > \"A\"", "$Name = \"A"] {
                let answer = try await tally.collection("Ledger", formulae: [formula])
                #expect(answer.status == "0", "\(formula)")
                #expect(answer.lineErrors.count == 1, "\(formula)")
            }
            let quoted = try TallyFormula("$Name = \"Say \"\"hi\"\"\"")
            #expect(quoted.alternatives == [[.init(field: "Name", op: .equal, value: .text("Say \"hi\""))]])
        }
    }

    @Test func aRequestNamingACompanyThatIsNotLoadedIsRefused() async throws {
        try await H.run { tally in
            let missing = try await tally.collection("Ledger", company: "Other School")
            #expect(missing.status == "0")
            #expect(missing.lineErrors == ["Could not set 'SVCurrentCompany' to 'Other School'"])
            await tally.sandbox.unload(H.company)
            let unloaded = try await tally.importing([H.ledger("Asha Rao", parent: "Sundry Debtors")], legacy: true)
            #expect(unloaded.root.name == "RESPONSE" && unloaded.counters["ERRORS"] == 1)
            #expect(unloaded.lineErrors == ["Could not set 'SVCurrentCompany' to '\(H.company)'"])
            #expect(try await tally.post(Self.companyList).objects.isEmpty)
            let named = Self.companyList.replacingOccurrences(
                of: "<STATICVARIABLES>", with: "<STATICVARIABLES><SVCURRENTCOMPANY>\(H.company)</SVCURRENTCOMPANY>")
            #expect(try await tally.post(named).status == "0", "naming a closed company is refused, even for the list")
            await tally.sandbox.load(H.company)
            let loaded = try await tally.collection("Ledger")
            #expect(loaded.status == "1" && loaded.objects.count == 2)
        }
    }

    @Test func trialBalanceListsBalancesInTallysDisplayShape() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1")])
            let answer = try await tally.post(H.report("Trial Balance", variables: ["EXPLODEFLAG": "Yes"]))
            #expect(answer.root.name == "ENVELOPE")
            let names = answer.root.children("DSPACCNAME").map { $0.value("DSPDISPNAME") ?? "" }
            let infos = answer.root.children("DSPACCINFO")
            #expect(names == ["Current Assets", "Asha Rao", "Sales Accounts", "Tuition Fees"])
            #expect(infos[0].child("DSPCLDRAMT")?.value("DSPCLDRAMTA") == "-1180.00")
            #expect(infos[2].child("DSPCLCRAMT")?.value("DSPCLCRAMTA") == "1180.00")
            #expect(infos[2].child("DSPCLDRAMT")?.value("DSPCLDRAMTA") == "")
            let condensed = try await tally.post(H.report("Trial Balance"))
            #expect(condensed.root.children("DSPACCNAME").count == 2)
        }
    }

    @Test func dayBookListsVouchersOfTheDatesAskedForAsAnImportFile() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            let dated = { (id: String, date: String) in
                H.voucher(
                    remoteID: id, date: date, number: id,
                    entries: [H.entry("Asha Rao", "-1.00"), H.entry("Tuition Fees", "1.00")])
            }
            try await tally.importing([
                dated("a", "20260401"), dated("b", "20260415"), dated("c", "20260501"),
            ])
            let answer = try await tally.post(
                H.report("Day Book", variables: ["SVFROMDATE": "1-Apr-2026", "SVTODATE": "20260430"]))
            let messages = answer.root.descendant("REQUESTDATA")?.children("TALLYMESSAGE") ?? []
            #expect(messages.compactMap { $0.child("VOUCHER")?[attribute: "REMOTEID"] } == ["a", "b"])
            #expect(answer.root.descendant("REPORTNAME")?.text == "Vouchers")
            let bad = try await tally.post(H.report("Day Book", variables: ["SVFROMDATE": "32-Apr-2026"]))
            #expect(bad.status == "0" && bad.lineErrors.count == 1)
        }
    }

    @Test func listOfAccountsExportsMastersThatImportIntoAFreshCompany() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([
                "<GROUP NAME=\"Term Fees\" ACTION=\"Create\"><PARENT>Sales Accounts</PARENT></GROUP>",
                H.ledger("Lab Fees", parent: "Term Fees"),
            ])
            let answer = try await tally.post(H.report("List of Accounts"))
            #expect(answer.root.descendant("REPORTNAME")?.text == "All Masters")
            let objects = (answer.root.descendant("REQUESTDATA")?.children("TALLYMESSAGE") ?? []).flatMap(\.children)
            #expect(objects.contains { $0.name == "GROUP" && $0[attribute: "NAME"] == "Term Fees" })
            #expect(objects.contains { $0.name == "LEDGER" && $0[attribute: "NAME"] == "Lab Fees" })
            // Into a fresh company: the user's masters are created, Tally's own already exist there.
            await tally.sandbox.addCompany("Fresh School")
            let custom = objects.filter { $0[attribute: "RESERVEDNAME"] == "" && $0[attribute: "NAME"] != "Cash" }
            let again = try await tally.importing(custom.map(\.xml), legacy: true, company: "Fresh School")
            #expect(again.counters["CREATED"] == 5 && again.counters["ERRORS"] == 0, "\(again.lineErrors)")
        }
    }

    @Test func dayBookVouchersImportIntoAFreshCompanyAsTheSameVouchers() async throws {
        try await H.run { tally in
            try await tally.seedLedgers()
            try await tally.importing([H.sale("lw-inv-1", number: "INV-1"), H.sale("lw-inv-2", number: "INV-2")])
            try await tally.sandbox.enterReceipt(
                company: H.company, party: "Asha Rao", bill: "INV-1", amount: TallyAmount(paise: 18_000),
                account: "HDFC Bank", date: 20_261_122)
            let masters = try await tally.post(H.report("List of Accounts"))
            let book = try await tally.post(H.report("Day Book"))
            await tally.sandbox.addCompany("Fresh School")
            let objects = { (answer: TallyHarness.Answer) in
                (answer.root.descendant("REQUESTDATA")?.children("TALLYMESSAGE") ?? []).flatMap(\.children)
            }
            let custom = objects(masters).filter {
                $0[attribute: "RESERVEDNAME"] == "" && $0[attribute: "NAME"] != "Cash"
            }
            try await tally.importing(custom.map(\.xml), company: "Fresh School")
            let again = try await tally.importing(objects(book).map(\.xml), company: "Fresh School")
            #expect(again.counters["CREATED"] == 3 && again.counters["ERRORS"] == 0, "\(again.lineErrors)")
            let strip = { (vouchers: [TallyVoucher]) in
                vouchers.map { [$0.guid, $0.type, $0.number, "\($0.date)", "\($0.entries)"] }
            }
            #expect(
                strip(await tally.sandbox.vouchers(company: "Fresh School"))
                    == strip(await tally.sandbox.vouchers(company: H.company)))
            #expect(
                await tally.sandbox.outstandingBills(company: "Fresh School", party: "Asha Rao")
                    == [
                        TallyBill(name: "INV-1", pending: TallyAmount(paise: -100_000)),
                        TallyBill(name: "INV-2", pending: TallyAmount(paise: -118_000)),
                    ])
        }
    }

    @Test func functionsAndUnknownReportsAreAnsweredWithAnError() async throws {
        try await H.run { tally in
            let function = try await tally.post(
                "<ENVELOPE><HEADER><VERSION>1</VERSION><TALLYREQUEST>Export</TALLYREQUEST><TYPE>Function</TYPE>"
                    + "<ID>$$SystemPeriodFrom</ID></HEADER></ENVELOPE>")
            #expect(function.status == "0" && function.lineErrors.count == 1)
            let report = try await tally.post(H.report("Balance Sheet"))
            #expect(report.status == "0" && report.lineErrors == ["Could not find Report 'Balance Sheet'"])
            let legacy = try await tally.post(
                "<ENVELOPE><HEADER><TALLYREQUEST>Export Data</TALLYREQUEST></HEADER><BODY><EXPORTDATA><REQUESTDESC>"
                    + "<REPORTNAME>Trial Balance</REPORTNAME><STATICVARIABLES><SVCURRENTCOMPANY>\(H.company)"
                    + "</SVCURRENTCOMPANY></STATICVARIABLES></REQUESTDESC></EXPORTDATA></BODY></ENVELOPE>")
            #expect(legacy.root.name == "ENVELOPE" && legacy.lineErrors.isEmpty)
        }
    }
}

import Testing

@testable import Sandbox

/// The audit trail transactions import file, rule by rule: each broken file names the row and column.
@Suite struct Sage50TransactionCheckTests {
    typealias F = Sage50Files

    func check(_ text: String, company: Sage50Company = F.companyWithCustomers()) -> Sage50TransactionFile {
        Sage50Checker(company: company).checkTransactions(text)
    }

    /// The problems as `row column` strings.
    func places(_ file: Sage50TransactionFile) -> [String] {
        file.problems.map { "\($0.row) \($0.column ?? "-")" }
    }

    @Test func takesInvoicesCreditsPaymentsOnAccountAndBalancedJournals() {
        let journal =
            F.line("JD", "", "1200", reference: "TFR-1", details: "Transfer", net: "250.00", code: "T9", tax: "0.00")
            + F.line("JC", "", "1210", reference: "TFR-1", details: "Transfer", net: "250.00", code: "T9", tax: "0.00")
        let file = check(F.transactions + journal)
        #expect(file.problems.isEmpty)
        #expect(file.hasHeaderRow)
        #expect(file.lines.map(\.type.rawValue) == ["SI", "SI", "SC", "SA", "JD", "JC"])
        #expect(file.lines.first?.net == F.money("1500.00"))
        #expect(file.lines.first?.extraReference == "lw:inv_1")
        #expect(file.lines.first?.row == 2)
    }

    @Test func takesAFileWithoutAHeaderAndNumbersRowsFromOne() {
        let file = check(F.line("SI", "PARK01", "4000", reference: "A", net: "10.00", tax: "2.00"))
        #expect(!file.hasHeaderRow)
        #expect(file.problems.isEmpty)
        #expect(file.lines.first?.row == 1)
    }

    @Test func refusesSalesReceiptsAsSageDoesAndSaysToImportAPaymentOnAccount() {
        let file = check(
            F.transactionHeader + F.line("SR", "PARK01", "1200", reference: "R", net: "5.00", code: "T9", tax: "0.00"))
        #expect(places(file) == ["2 Type"])
        #expect(file.problems.first?.message.contains("cannot import SR") == true)
        #expect(file.problems.first?.message.contains("payment on account (SA)") == true)
    }

    @Test func refusesUnknownAndLowerCaseTypes() {
        let file = check(
            F.line("XX", "PARK01", "4000", reference: "A", net: "10.00", tax: "2.00")
                + F.line("si", "PARK01", "4000", reference: "B", net: "10.00", tax: "2.00"))
        #expect(places(file) == ["1 Type", "2 Type"])
    }

    @Test func findsCustomersInTheCompanyOrInTheCustomerFileImportedFirst() {
        let text = F.line("SI", "NEWFAM01", "4000", reference: "A", net: "10.00", tax: "2.00")
        let alone = check(text)
        #expect(places(alone) == ["1 Account Reference"])
        #expect(alone.problems.first?.message.hasPrefix("Account not found: NEWFAM01") == true)
        let checker = Sage50Checker(company: F.companyWithCustomers())
        let customers = checker.checkCustomers(F.customer("NEWFAM01", "The New Family"))
        #expect(checker.checkTransactions(text, customers: customers).problems.isEmpty)
    }

    @Test func refusesPurchaseTypesForACompanyWithoutSuppliersAndBankTypesWithoutABank() {
        let file = check(
            F.line("PI", "STATION1", "5000", reference: "A", net: "10.00", tax: "2.00")
                + F.line("BR", "4000", "4900", reference: "B", net: "10.00", code: "T9", tax: "0.00")
                + F.line("BR", "1200", "4900", reference: "C", net: "10.00", code: "T9", tax: "0.00"))
        #expect(places(file) == ["1 Account Reference", "2 Account Reference"])
    }

    @Test func refusesNominalCodesOutsideTheChartAndReceiptsNotToABank() {
        let file = check(
            F.line("SI", "PARK01", "4100", reference: "A", net: "10.00", tax: "2.00")
                + F.line("SA", "PARK01", "4000", reference: "B", net: "10.00", code: "T9", tax: "0.00")
                + F.line("SI", "PARK01", "", reference: "C", net: "10.00", tax: "2.00"))
        #expect(places(file) == ["1 Nominal A/C Ref", "2 Nominal A/C Ref", "3 Nominal A/C Ref"])
        #expect(file.problems[1].message.contains("4000 is not a bank account") == true)
    }

    @Test func takesOnlyDDMMYYYYWithinTheLockAndWarnsOutsideTheYear() {
        var company = F.companyWithCustomers()
        company.lockDate = F.date("30/09/2026")
        let dates = ["2026-10-15", "5/10/2026", "31/02/2027", "151026", "30/09/2026", "01/09/2027", "", "01/10/2026"]
        let text = dates.map { F.line("SI", "PARK01", "4000", date: $0, reference: "A", net: "10.00", tax: "2.00") }
            .joined()
        let file = check(text, company: company)
        #expect(places(file) == ["1 Date", "2 Date", "3 Date", "4 Date", "5 Date", "6 Date"])
        #expect(file.problems.first?.message.contains("DD/MM/YYYY") == true)
        #expect(file.problems[4].message.contains("lock date") == true)
        #expect(file.problems[5].severity == .warning)
        #expect(file.lines.first { $0.row == 7 }?.date == company.programDate)
    }

    @Test func refusesReferenceDetailsExtraReferenceAndUserNameOverTheirLengths() {
        let file = check(
            F.line(
                "SI", "PARK01", "4000", reference: String(repeating: "R", count: 31),
                details: String(repeating: "D", count: 61), net: "10.00", tax: "2.00",
                extra: String(repeating: "E", count: 31), user: String(repeating: "U", count: 33))
                + F.line(
                    "SI", "PARK01", "4000", reference: String(repeating: "R", count: 30),
                    details: String(repeating: "D", count: 60), net: "10.00", tax: "2.00",
                    extra: String(repeating: "E", count: 30), user: String(repeating: "U", count: 32)))
        #expect(places(file) == ["1 Reference", "1 Details", "1 Extra Reference", "1 User Name"])
    }

    @Test func refusesAmountsSageCannotRead() {
        let amounts = ["-10.00", "10.005", "1,000.00", "£10.00", "0.00", "123456789.00", "", "10.5"]
        let text = amounts.map { F.line("SA", "PARK01", "1200", reference: "P", net: $0, code: "T9", tax: "0.00") }
            .joined()
        let file = check(text)
        #expect(places(file) == (1...7).map { "\($0) Net Amount" })
        #expect(file.problems.first?.message.contains("negative") == true)
        #expect(file.lines.map(\.net) == [F.money("10.50")])
    }

    @Test func refusesTaxCodesOutsideT0ToT99AndTakesABlankAsT0() {
        let file = check(
            F.line("SI", "PARK01", "4000", reference: "A", net: "10.00", code: "T100", tax: "0.00")
                + F.line("SI", "PARK01", "4000", reference: "B", net: "10.00", code: "S", tax: "0.00")
                + F.line("SI", "PARK01", "4000", reference: "C", net: "10.00", code: "", tax: ""))
        #expect(places(file) == ["1 Tax Code", "2 Tax Code"])
        #expect(file.lines.first?.taxCode == 0)
        #expect(file.lines.first?.tax == .zero)
    }

    @Test func warnsWhenTheVATIsNotTheCodesRateWithinAPenny() {
        let file = check(
            F.line("SI", "PARK01", "4000", reference: "A", net: "100.00", tax: "19.00")
                + F.line("SI", "PARK01", "4000", reference: "B", net: "100.00", code: "T5", tax: "5.01")
                + F.line("SI", "PARK01", "4000", reference: "C", net: "0.05", tax: "0.00")
                + F.line("SI", "PARK01", "4000", reference: "D", net: "100.00", code: "T2", tax: "20.00")
                + F.line("SA", "PARK01", "1200", reference: "E", net: "100.00", code: "T9", tax: "20.00"))
        #expect(places(file) == ["1 Tax Amount", "4 Tax Amount", "5 Tax Amount"])
        #expect(file.problems.allSatisfy { $0.severity == .warning })
        #expect(file.isImportable)
        #expect(file.problems.first?.message.hasPrefix("19.00 is not T1's 20 % of 100.00 (20.00)") == true)
    }

    @Test func refusesJournalsThatDoNotBalance() {
        let file = check(
            F.line("JD", "", "1200", reference: "TFR-1", net: "250.00", code: "T9", tax: "0.00")
                + F.line("JC", "", "1210", reference: "TFR-1", net: "200.00", code: "T9", tax: "0.00")
                + F.line("JD", "", "1200", reference: "TFR-2", net: "10.00", code: "T9", tax: "0.00")
                + F.line("JC", "", "1210", reference: "TFR-2", net: "10.00", code: "T9", tax: "0.00"))
        #expect(
            file.problems.map(\.description) == [
                "Row 1, Net Amount: The journal dated 15/10/2026 with reference \"TFR-1\" does not balance: debits "
                    + "250.00, credits 200.00."
            ])
    }

    @Test func refusesAForeignExchangeRateAndUnknownProjects() {
        let fifteen = Sage50CSV.line(Sage50Layout.transaction.map(\.name))
        let row = Sage50CSV.line([
            "SI", "PARK01", "4000", "0", "15/10/2026", "A", "Fees", "10.00", "T1", "2.00", "1.25", "", "", "PRJ1", "",
        ])
        let file = check(fifteen + row)
        #expect(places(file) == ["2 Project Refn", "2 Exchange Rate"])
    }

    @Test func refusesRowsOfTheWrongWidthAndAWrongHeader() {
        var header = Sage50Layout.transaction.prefix(13).map(\.name)
        header.swapAt(4, 5)
        let file = check(Sage50CSV.line(header) + "SI,PARK01,4000\r\n")
        #expect(places(file) == ["1 Date", "1 Reference", "2 -"])
    }

    @Test func reportsEveryProblemInRowOrder() {
        let file = check(
            F.transactionHeader + F.line("SI", "NOBODY", "4000", reference: "A", net: "10.00", tax: "2.00")
                + F.line("SI", "PARK01", "4000", reference: "B", net: "10.00", tax: "2.00")
                + F.line("SI", "PARK01", "4000", date: "32/10/2026", reference: "C", net: "ten", tax: "2.00"))
        #expect(places(file) == ["2 Account Reference", "4 Date", "4 Net Amount"])
    }
}

import Foundation
import Testing

@testable import Sandbox

/// The customer records import file, rule by rule: each broken file names the row and column Sage 50 would.
@Suite struct Sage50CustomerCheckTests {
    typealias F = Sage50Files

    func check(_ text: String, company: Sage50Company = F.company()) -> Sage50CustomerFile {
        Sage50Checker(company: company).checkCustomers(text)
    }

    @Test func takesAFileWithOrWithoutAHeaderRowWithQuotedCommasAndQuotes() {
        for (text, header) in [(F.customers, false), (F.customerHeader + F.customers, true)] {
            let file = check(text)
            #expect(file.problems.isEmpty)
            #expect(file.hasHeaderRow == header)
            #expect(file.records.map(\.reference) == ["PARK01", "OKAFOR02"])
            #expect(file.records.last?.name == "Okafor, Mr & Mrs \"Ade\"")
            #expect(file.records.first?.email == "accounts@park01.example")
        }
    }

    @Test func refusesARowWithoutAnAccountReference() {
        let file = check(F.customerHeader + F.customer("", "No Reference"))
        #expect(!file.isImportable)
        #expect(file.problems.map(\.description) == ["Row 2, A/C: The A/C (account reference) is required."])
    }

    @Test func warnsOfReferencesSageWouldUpperCaseStripOrCut() {
        let file = check(F.customer("park 01", "Mrs J Park") + F.customer("ABCDEFGHIJ", "Long Reference"))
        #expect(file.isImportable)
        #expect(file.records.map(\.reference) == ["PARK01", "ABCDEFGH"])
        #expect(file.problems.map(\.row) == [1, 2])
        #expect(file.problems.allSatisfy { $0.column == "A/C" && $0.severity == .warning })
        #expect(file.problems.first?.message.contains("would be stored by Sage 50 as \"PARK01\"") == true)
    }

    @Test func refusesPunctuationInAReference() {
        let file = check(F.customer("PARK-01", "Mrs J Park"))
        #expect(!file.isImportable)
        #expect(file.problems.first?.column == "A/C")
        #expect(file.problems.first?.message.contains("letters A to Z and the digits 0 to 9") == true)
    }

    @Test func refusesAReferenceTwiceInAFileEvenAfterSageChangesIt() {
        let file = check(F.customerHeader + F.customer("PARK01", "Mrs J Park") + F.customer("park01", "Mr Park"))
        #expect(!file.isImportable)
        let errors = file.problems.filter { $0.severity == .error }
        #expect(
            errors.map(\.description) == [
                "Row 3, A/C: A/C PARK01 is also on row 2; each customer may appear once in a file."
            ])
    }

    @Test func warnsWhenAReferenceBelongsToAnotherCustomerButNotOnAnUpdate() {
        let company = F.companyWithCustomers()
        let clash = check(F.customer("PARK01", "Greenwood Family"), company: company)
        #expect(clash.isImportable)
        #expect(clash.problems.count == 1)
        #expect(clash.problems.first?.severity == .warning)
        #expect(clash.problems.first?.message.contains("already belongs to \"Mrs J Park\"") == true)
        let update = check(F.customer("PARK01", "Mrs J Park", ["Telephone": "0113 496 0000"]), company: company)
        #expect(update.problems.isEmpty)
    }

    @Test func refusesNamesAndAddressLinesLongerThanSixty() {
        let long = String(repeating: "x", count: 61)
        let file = check(
            F.customerHeader + F.customer("PARK01", long) + F.customer("LEE01", "Mr Lee", ["Address Line 3": long])
                + F.customer("KHAN01", String(repeating: "y", count: 60)))
        #expect(file.problems.map { "\($0.row) \($0.column ?? "")" } == ["2 Name", "3 Address Line 3"])
        #expect(file.problems.first?.message.contains("is 61 characters; Sage 50 takes at most 60") == true)
    }

    @Test func refusesLongEmailVATNumberAndTelephone() {
        let file = check(
            F.customer(
                "PARK01", "Mrs J Park",
                [
                    "E-mail": String(repeating: "a", count: 250) + "@x.com",
                    "VAT Number": "GB" + String(repeating: "1", count: 29),
                    "Telephone": String(repeating: "0", count: 31),
                ]))
        #expect(Set(file.problems.compactMap(\.column)) == ["E-mail", "VAT Number", "Telephone"])
        #expect(file.problems.allSatisfy { $0.row == 1 && $0.severity == .error })
    }

    @Test func refusesAHeaderThatDiffersFromTheLayout() {
        var header = Sage50Layout.customer.map(\.name)
        header[1] = "Account Name"
        let file = check(Sage50CSV.line(header) + F.customer("PARK01", "Mrs J Park"))
        #expect(
            file.problems.map(\.description) == [
                "Row 1, Name: Column 2 is headed \"Account Name\"; Sage 50's layout has \"Name\" here."
            ])
    }

    @Test func refusesARowWithTheWrongNumberOfFields() {
        let file = check(F.customerHeader + "PARK01,Mrs J Park,1 High Street\r\n")
        #expect(file.problems.count == 1)
        #expect(file.problems.first?.row == 2)
        #expect(file.problems.first?.column == nil)
        #expect(file.problems.first?.message.contains("has 3 fields; the customer record layout has 31") == true)
    }

    @Test func refusesAnUnclosedQuoteAndAStrayQuote() {
        let unclosed = F.customer("PARK01", "Mrs J Park").replacingOccurrences(of: "Mrs J Park", with: "\"Mrs J Park")
        let stray = F.customer("LEE01", "Mr Lee").replacingOccurrences(of: "Mr Lee", with: "Mr \"Lee\"")
        let file = check(F.customerHeader + unclosed + stray)
        #expect(file.problems.map(\.row) == [2, 3])
        #expect(file.problems.first?.message.contains("not closed on this line") == true)
        #expect(file.problems.last?.message.contains("not enclosed in quotes") == true)
    }

    @Test func refusesAnUnknownDefaultNominalCodeTaxCodeAndBadNumbers() {
        let file = check(
            F.customer(
                "PARK01", "Mrs J Park",
                [
                    "Default Nominal Code": "4100", "Default Tax Code": "S", "Credit Limit": "1,000.00",
                    "Department": "1000",
                ]))
        #expect(
            file.problems.compactMap(\.column) == [
                "Department", "Credit Limit", "Default Nominal Code", "Default Tax Code",
            ])
    }

    @Test func refusesAnEmptyFile() {
        #expect(check(F.customerHeader).problems.map(\.description) == ["Row 1: The file holds no customer records."])
    }
}

/// What the file itself may hold: characters Sage 50 can store, rows of bounded width, blank lines.
@Suite struct Sage50FileShapeTests {
    typealias F = Sage50Files

    @Test func warnsOfCharactersOutsideWindows1252ButTakesPoundsAndAccents() {
        let checker = Sage50Checker(company: F.company())
        let file = checker.checkCustomers(
            F.customer("NOWAK01", "Łukasz Nowak")
                + F.customer("ZOE01", "Zoë Brontë", ["Trading Terms Text": "£ 30 days"]))
        #expect(file.isImportable)
        #expect(file.problems.map { "\($0.row) \($0.column ?? "")" } == ["1 Name"])
        #expect(file.problems.first?.message.hasPrefix("\"Ł\" is not in the Windows-1252 character set") == true)
        let transactions = checker.checkTransactions(
            F.line("SI", "PARK01", "4000", reference: "A", details: "Trip 🚌", net: "10.00", tax: "2.00"),
            customers: checker.checkCustomers(F.customer("PARK01", "Mrs J Park")))
        #expect(transactions.problems.map(\.column) == ["Details"])
    }

    @Test func refusesARowOfMoreThanAHundredFieldsAndCountsBlankLinesInRowNumbers() {
        let checker = Sage50Checker(company: F.company())
        let wide = String(repeating: "x,", count: 150) + "x\r\n"
        let file = checker.checkCustomers(F.customerHeader + "\r\n" + wide + "   \r\n" + F.customer("", "No Reference"))
        #expect(file.problems.map(\.row) == [3, 5])
        #expect(file.problems.first?.message == "The row has more than 100 fields.")
    }

    @Test func readsLFAndCRLFLineEndsAlike() {
        let checker = Sage50Checker(company: F.company())
        let unix = F.customers.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(
            checker.checkCustomers(unix).records.map(\.fields)
                == checker.checkCustomers(F.customers).records.map(\.fields))
        #expect(checker.checkCustomers(unix).problems.isEmpty)
    }
}

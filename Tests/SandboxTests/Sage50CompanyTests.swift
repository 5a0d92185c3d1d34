import Testing

@testable import Sandbox

/// The simulated company: imports all or nothing, numbers transactions, takes what a finance manager types, and
/// writes the audit trail and customer list exports Ledgerwire reads back.
@Suite struct Sage50CompanyTests {
    typealias F = Sage50Files

    /// A company holding the two customers and the four transactions of `Sage50Files`.
    func imported() -> Sage50Company {
        var company = F.companyWithCustomers()
        _ = company.importTransactions(F.transactions)
        return company
    }

    /// The export's line for transaction `number`, by column name.
    func exportedLine(_ company: Sage50Company, _ number: Int) -> [String: String] {
        let rows = F.exported(company.auditTrailCSV())
        guard let header = rows.first, let row = rows.first(where: { $0.first == "\(number)" }) else { return [:] }
        return Dictionary(uniqueKeysWithValues: zip(header, row))
    }

    @Test func importNumbersTransactionsInSequenceAcrossImports() {
        var company = F.companyWithCustomers()
        #expect(company.importTransactions(F.transactions).numbers == [1, 2, 3, 4])
        let more = F.line("SI", "OKAFOR02", "4001", reference: "LW-INV-1003", net: "80.00", tax: "16.00")
        #expect(company.importTransactions(more).numbers == [5])
        #expect(company.transactions.map(\.number) == [1, 2, 3, 4, 5])
        #expect(company.transaction(5)?.reference == "LW-INV-1003")
    }

    @Test func theAuditTrailExportCarriesTheImportedReferencesAndAmounts() {
        let company = imported()
        let rows = F.exported(company.auditTrailCSV())
        #expect(rows.first == Sage50Layout.auditTrailExport)
        #expect(rows.count == 5)
        let invoice = exportedLine(company, 1)
        #expect(invoice["Type"] == "SI")
        #expect(invoice["Account"] == "PARK01")
        #expect(invoice["Nominal"] == "4000")
        #expect(invoice["Date"] == "15/10/2026")
        #expect(invoice["Ref"] == "LW-INV-1001")
        #expect(invoice["Ex.Ref"] == "lw:inv_1")
        #expect(invoice["Net"] == "1500.00")
        #expect(invoice["Tax"] == "300.00")
        #expect(invoice["T/C"] == "T1")
        #expect(invoice["Paid"] == "N")
        #expect(invoice["Deleted"] == "N")
        let payment = exportedLine(company, 4)
        #expect(payment["Type"] == "SA")
        #expect(payment["Bank"] == "1200")
        #expect(payment["Allocations"] == "")
        #expect(company.auditTrailCSV(from: 4).split(separator: "\r\n").count == 2)
    }

    @Test func aFileWithOneBadRowImportsNothing() {
        var company = F.companyWithCustomers()
        let bad = F.transactions + F.line("SI", "NOBODY", "4000", reference: "X", net: "1.00", tax: "0.20")
        let result = company.importTransactions(bad)
        #expect(result.numbers.isEmpty)
        #expect(
            result.problems.map(\.description).first?.hasPrefix("Row 6, Account Reference: Account not found") == true)
        #expect(company.transactions.isEmpty)
        let customers = company.importCustomers(F.customer("LEE01", "Mr Lee") + F.customer("", "Nobody"))
        #expect(customers.problems.map(\.row) == [2])
        #expect(company.customers["LEE01"] == nil)
    }

    @Test func anImportedPaymentOnAccountStaysUnallocatedUntilAllocatedInSage() throws {
        var company = imported()
        #expect(company.transaction(1)?.outstanding == F.money("1800.00"))
        #expect(company.balance(of: "PARK01") == F.money("1180.00"))
        try company.allocate(payment: 4, to: 1, amount: F.money("500.00"))
        #expect(company.transaction(4)?.type == .salesReceipt)
        #expect(company.transaction(1)?.outstanding == F.money("1300.00"))
        let invoice = exportedLine(company, 1)
        #expect(invoice["Amount Paid"] == "500.00")
        #expect(invoice["Allocations"] == "4=500.00")
        #expect(exportedLine(company, 4)["Type"] == "SR")
        #expect(throws: Sage50ActionError.wrongType(4, .salesReceipt)) {
            try company.allocate(payment: 4, to: 2, amount: F.money("1.00"))
        }
    }

    @Test func aReceiptTypedInSageAppearsInTheExportAllocatedToItsInvoice() throws {
        var company = imported()
        let numbers = try company.enterCustomerReceipt(
            account: "OKAFOR02", date: F.date("20/11/2026"), reference: "BACS 2011", amount: F.money("1300.00"),
            allocations: [(invoice: 2, amount: F.money("1250.50"))])
        #expect(numbers == [5, 6])
        let receipt = exportedLine(company, 5)
        #expect(receipt["Type"] == "SR")
        #expect(receipt["Account"] == "OKAFOR02")
        #expect(receipt["Ref"] == "BACS 2011")
        #expect(receipt["Date"] == "20/11/2026")
        #expect(receipt["Net"] == "1250.50")
        #expect(receipt["Bank"] == "1200")
        #expect(receipt["Paid"] == "Y")
        #expect(receipt["Allocations"] == "2=1250.50")
        let onAccount = exportedLine(company, 6)
        #expect(onAccount["Type"] == "SA")
        #expect(onAccount["Net"] == "49.50")
        let invoice = exportedLine(company, 2)
        #expect(invoice["Paid"] == "Y")
        #expect(invoice["Allocations"] == "5=1250.50")
        #expect(company.balance(of: "OKAFOR02") == Sage50Money(pence: -49_50))
    }

    @Test func aCreditNoteAllocatedToItsInvoiceStaysACredit() throws {
        var company = imported()
        try company.allocate(payment: 3, to: 1, amount: F.money("120.00"))
        #expect(company.transaction(3)?.type == .salesCredit)
        #expect(company.transaction(3)?.outstanding == .zero)
        #expect(exportedLine(company, 1)["Allocations"] == "3=120.00")
        #expect(exportedLine(company, 3)["Paid"] == "Y")
        #expect(throws: Sage50ActionError.wrongType(1, .salesInvoice)) {
            try company.allocate(payment: 1, to: 2, amount: F.money("1.00"))
        }
    }

    @Test func aReceiptOnOrBeforeTheLockDateIsRefused() {
        var company = imported()
        company.lockDate = F.date("31/10/2026")
        #expect(throws: Sage50ActionError.locked(F.date("31/10/2026"))) {
            try company.enterCustomerReceipt(
                account: "PARK01", date: F.date("31/10/2026"), reference: "R", amount: F.money("10.00"),
                allocations: [])
        }
        let late = Result {
            try company.enterCustomerReceipt(
                account: "PARK01", date: F.date("01/11/2026"), reference: "R", amount: F.money("10.00"), allocations: []
            )
        }
        #expect((try? late.get()) == [5])
        #expect(company.transaction(5)?.type == .salesPaymentOnAccount)
    }

    @Test func aReceiptIsRefusedForMoreThanIsOutstandingOrAnotherCustomersInvoice() {
        var company = imported()
        #expect(throws: Sage50ActionError.self) {
            try company.enterCustomerReceipt(
                account: "OKAFOR02", date: F.date("20/11/2026"), reference: "R", amount: F.money("2000.00"),
                allocations: [(invoice: 2, amount: F.money("1250.51"))])
        }
        #expect(throws: Sage50ActionError.otherAccount(1)) {
            try company.enterCustomerReceipt(
                account: "OKAFOR02", date: F.date("20/11/2026"), reference: "R", amount: F.money("10.00"),
                allocations: [(invoice: 1, amount: F.money("10.00"))])
        }
        #expect(company.transactions.count == 4)
    }

    @Test func editingAnInvoicesAmountKeepsItsNumberAndPostsADeletedCopy() throws {
        var company = imported()
        let copy = try company.editAmount(of: 1, net: F.money("1400.00"), tax: F.money("280.00"))
        #expect(copy == 5)
        let edited = exportedLine(company, 1)
        #expect(edited["Net"] == "1400.00")
        #expect(edited["Tax"] == "280.00")
        #expect(edited["Ref"] == "LW-INV-1001")
        #expect(edited["Deleted"] == "N")
        let original = exportedLine(company, 5)
        #expect(original["Details"] == "Deleted - see tran 1")
        #expect(original["Net"] == "1500.00")
        #expect(original["Deleted"] == "Y")
        try company.allocate(payment: 4, to: 1, amount: F.money("100.00"))
        #expect(throws: Sage50ActionError.allocated(1)) {
            try company.editAmount(of: 1, net: F.money("1.00"), tax: .zero)
        }
    }

    @Test func deletingATransactionKeepsItInTheExportMarkedDeleted() throws {
        var company = imported()
        try company.delete(3)
        #expect(exportedLine(company, 3)["Deleted"] == "Y")
        #expect(company.balance(of: "PARK01") == F.money("1300.00"))
        #expect(throws: Sage50ActionError.unknownTransaction(3)) { try company.delete(3) }
    }

    @Test func theCustomerListExportReadsBackAsAnImportFileAndBlankFieldsDoNotOverwrite() {
        var company = F.companyWithCustomers()
        let update = company.importCustomers(
            F.customer("PARK01", "Mrs J Park", ["E-mail": "", "Telephone": "0113 496 0000"]))
        #expect(update.problems.isEmpty)
        #expect(company.customers["PARK01"]?.email == "accounts@park01.example")
        #expect(company.customers["PARK01"]?.fields[8] == "0113 496 0000")
        let exported = company.customerListCSV()
        let file = Sage50Checker(company: company).checkCustomers(exported)
        #expect(file.problems.isEmpty)
        #expect(file.hasHeaderRow)
        #expect(file.records.map(\.reference) == ["OKAFOR02", "PARK01"])
        #expect(file.records.map(\.fields) == ["OKAFOR02", "PARK01"].compactMap { company.customers[$0]?.fields })
    }
}

/// A term's worth of files end to end: customer file, then transactions, then the export read back.
@Suite struct Sage50RoundTripTests {
    typealias F = Sage50Files

    @Test func aTermOfTenThousandInvoicesImportsInOrderAndExportsEveryReference() throws {
        var company = F.company()
        let customers = (1...200).map { F.customer("FAM\($0)", "Family \($0), Year \($0 % 7 + 1)") }.joined()
        #expect(company.importCustomers(F.customerHeader + customers).problems.isEmpty)
        let invoices = (1...10_000).map {
            F.line(
                "SI", "FAM\($0 % 200 + 1)", "4000", reference: "LW-INV-\($0)", details: "Lunches, week \($0 % 12 + 1)",
                net: "\($0 % 90 + 10).50", code: "T0", tax: "0.00", extra: "lw:\($0)")
        }
        let result = company.importTransactions(F.transactionHeader + invoices.joined())
        #expect(result.problems.isEmpty)
        #expect(result.numbers == Array(1...10_000))
        let rows = F.exported(company.auditTrailCSV())
        #expect(rows.count == 10_001)
        let refs = rows.dropFirst().map { ($0[0], $0[7], $0[8], $0[5]) }
        let first = try #require(refs.first)
        let last = try #require(refs.last)
        #expect(first == ("1", "LW-INV-1", "lw:1", "Lunches, week 2"))
        #expect(last == ("10000", "LW-INV-10000", "lw:10000", "Lunches, week 5"))
        #expect(Set(rows.dropFirst().map { $0[8] }).count == 10_000)
    }
}

import Accounting
import Connectors
import Foundation
import Sandbox
import Testing

/// The fake QuickBooks Desktop company refuses what QuickBooks refuses, with QuickBooks' status codes (platforms.md
/// §3.4, §9.3), and the requests the connector writes pass it.
@Suite struct QuickBooksDesktopCompanyTests {
    static func document(_ requests: String, version: String = "13.0", onError: String = "continueOnError") -> String {
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><?qbxml version=\"\(version)\"?><QBXML>"
            + "<QBXMLMsgsRq onError=\"\(onError)\">\(requests)</QBXMLMsgsRq></QBXML>"
    }

    static func answers(_ company: QuickBooksDesktopCompany, _ requests: String) throws -> [QBXMLResponse] {
        try QBXML.responses(in: try company.run(document(requests)))
    }

    @Test func aDocumentOutOfTheSchemasOrderOrVersionIsRefusedWhole() throws {
        let company = QuickBooksDesktopCompany()
        // Email before Name: QuickBooks parses the stream against its schema and runs nothing.
        let outOfOrder =
            "<CustomerAddRq><CustomerAdd><Email>a@b.c</Email><Name>Asha</Name></CustomerAdd></CustomerAddRq>"
        #expect(throws: QuickBooksDesktopCompany.Refusal.self) { try company.run(Self.document(outOfOrder)) }
        let unknown =
            "<CustomerAddRq><CustomerAdd><Name>Asha</Name><Nickname>A</Nickname></CustomerAdd></CustomerAddRq>"
        #expect(throws: QuickBooksDesktopCompany.Refusal.self) { try company.run(Self.document(unknown)) }
        let good = "<CustomerAddRq><CustomerAdd><Name>Asha</Name></CustomerAdd></CustomerAddRq>"
        do {
            _ = try company.run(Self.document(good, version: "16.0"))
            Issue.record("a version above the company's 13.0 was run")
        } catch {
            #expect(error.hresult == "0x80042500")
        }
        do {
            _ = try company.run(Self.document(good, onError: "carryOn"))
            Issue.record("an onError QuickBooks does not know was run")
        } catch {
            #expect(error.hresult == "0x80040400")
        }
        #expect(company.customers.isEmpty, "nothing of a refused document ran")
    }

    @Test func statusCodesAreQuickBooksOwn() throws {
        let company = QuickBooksDesktopCompany()
        let item = company.addItem("Tuition")
        var answers = try Self.answers(
            company,
            "<CustomerAddRq requestID=\"1\"><CustomerAdd><Name>Asha Rao</Name></CustomerAdd></CustomerAddRq>"
                + "<CustomerAddRq requestID=\"2\"><CustomerAdd><Name>asha rao</Name></CustomerAdd></CustomerAddRq>"
                + "<CustomerAddRq requestID=\"3\"><CustomerAdd><Name>\(String(repeating: "x", count: 42))</Name>"
                + "</CustomerAdd></CustomerAddRq>"
                + "<CustomerQueryRq requestID=\"4\"><FullName>Nobody</FullName></CustomerQueryRq>")
        #expect(answers.map(\.statusCode) == [0, 3100, 3070, 1])
        #expect(answers.map(\.requestID) == ["1", "2", "3", "4"])
        #expect(answers[1].message == "The name \"asha rao\" of the list element is already in use.")
        #expect(answers[3].severity == "Info" && !answers[3].failed)
        let customer = try #require(answers[0].returned.first?.value("ListID"))
        let sequence = try #require(answers[0].returned.first?.value("EditSequence"))

        answers = try Self.answers(
            company,
            "<InvoiceAddRq requestID=\"5\"><InvoiceAdd><CustomerRef><ListID>\(customer)</ListID></CustomerRef>"
                + "<TxnDate>2026-11-03</TxnDate><RefNumber>GF-2026-000001</RefNumber>"
                + "<InvoiceLineAdd><ItemRef><ListID>\(item)</ListID></ItemRef><Amount>10.00</Amount></InvoiceLineAdd>"
                + "</InvoiceAdd></InvoiceAddRq>"
                + "<InvoiceAddRq requestID=\"6\"><InvoiceAdd><CustomerRef><ListID>nobody</ListID></CustomerRef>"
                + "<InvoiceLineAdd><ItemRef><ListID>\(item)</ListID></ItemRef><Amount>10.00</Amount></InvoiceLineAdd>"
                + "</InvoiceAdd></InvoiceAddRq>"
                + "<CustomerModRq requestID=\"7\"><CustomerMod><ListID>\(customer)</ListID>"
                + "<EditSequence>\(sequence)</EditSequence><Name>Asha R.</Name></CustomerMod></CustomerModRq>"
                + "<CustomerModRq requestID=\"8\"><CustomerMod><ListID>\(customer)</ListID>"
                + "<EditSequence>\(sequence)</EditSequence><Name>Asha Rao</Name></CustomerMod></CustomerModRq>")
        #expect(answers.map(\.statusCode) == [3070, 3140, 0, 3200], "a RefNumber of 14, a customer nobody has, stale")
        #expect(answers[3].message.contains("is out-of-date"))
    }

    @Test func aPaymentOfMoreThanIsDueIsRefusedAndStopOnErrorStops() throws {
        let company = QuickBooksDesktopCompany()
        let item = company.addItem("Tuition")
        let bank = company.addAccount("Checking")
        let customer = try #require(
            try Self.answers(company, "<CustomerAddRq><CustomerAdd><Name>Asha</Name></CustomerAdd></CustomerAddRq>")
                .first?.returned.first?.value("ListID"))
        let invoice = try #require(
            try Self.answers(
                company,
                "<InvoiceAddRq><InvoiceAdd><CustomerRef><ListID>\(customer)</ListID></CustomerRef>"
                    + "<InvoiceLineAdd><ItemRef><ListID>\(item)</ListID></ItemRef><Amount>100.00</Amount>"
                    + "</InvoiceLineAdd></InvoiceAdd></InvoiceAddRq>"
            ).first?.returned.first?.value("TxnID"))
        func payment(_ amount: String) -> String {
            "<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><ListID>\(customer)</ListID></CustomerRef>"
                + "<TotalAmount>\(amount)</TotalAmount><DepositToAccountRef><ListID>\(bank)</ListID>"
                + "</DepositToAccountRef><AppliedToTxnAdd><TxnID>\(invoice)</TxnID><PaymentAmount>\(amount)"
                + "</PaymentAmount></AppliedToTxnAdd></ReceivePaymentAdd></ReceivePaymentAddRq>"
        }
        let answers = try QBXML.responses(
            in: try company.run(Self.document(payment("120.00") + payment("40.00"), onError: "stopOnError")))
        #expect(answers.map(\.statusCode) == [3210], "stopOnError runs nothing after the refusal")
        #expect(answers[0].message.contains("You cannot pay more than the amount due."))
        #expect(
            try Self.answers(company, payment("40.00") + payment("60.00") + payment("0.01")).map(\.statusCode) == [
                0, 0, 3210,
            ])
        #expect(company.payments.count == 2)
    }

    @Test func aCreditIsSetAgainstAnInvoiceUpToWhatIsLeftOfIt() throws {
        let company = QuickBooksDesktopCompany()
        let item = company.addItem("Tuition")
        let customer = try #require(
            try Self.answers(company, "<CustomerAddRq><CustomerAdd><Name>Asha</Name></CustomerAdd></CustomerAddRq>")
                .first?.returned.first?.value("ListID"))
        func document(_ kind: String, _ amount: String) throws -> String {
            try #require(
                try Self.answers(
                    company,
                    "<\(kind)AddRq><\(kind)Add><CustomerRef><ListID>\(customer)</ListID></CustomerRef>"
                        + "<\(kind)LineAdd><ItemRef><ListID>\(item)</ListID></ItemRef><Amount>\(amount)</Amount>"
                        + "</\(kind)LineAdd></\(kind)Add></\(kind)AddRq>"
                ).first?.returned.first?.value("TxnID"))
        }
        let invoice = try document("Invoice", "100.00")
        let credit = try document("CreditMemo", "30.00")
        func setCredit(_ amount: String) -> String {
            "<ReceivePaymentAddRq><ReceivePaymentAdd><CustomerRef><ListID>\(customer)</ListID></CustomerRef>"
                + "<TotalAmount>0.00</TotalAmount><AppliedToTxnAdd><TxnID>\(invoice)</TxnID>"
                + "<PaymentAmount>0.00</PaymentAmount><SetCredit><CreditTxnID>\(credit)</CreditTxnID>"
                + "<AppliedAmount>\(amount)</AppliedAmount></SetCredit></AppliedToTxnAdd></ReceivePaymentAdd>"
                + "</ReceivePaymentAddRq>"
        }
        let answers = try Self.answers(company, setCredit("40.00") + setCredit("30.00") + setCredit("0.01"))
        #expect(answers.map(\.statusCode) == [3210, 0, 3210], "more than the credit, all of it, then none left")
        #expect(company.documents.first { $0.txnID == invoice }?.balance == 70_00)
        #expect(company.documents.first { $0.txnID == credit }?.balance == 0)
    }

    @Test func anIteratorHandsOutPagesWithWhatRemains() throws {
        let company = QuickBooksDesktopCompany()
        for index in 1...5 {
            _ = try Self.answers(
                company, "<CustomerAddRq><CustomerAdd><Name>Family \(index)</Name></CustomerAdd></CustomerAddRq>")
        }
        let first = try #require(
            try Self.answers(
                company,
                "<CustomerQueryRq requestID=\"changes-Customer\" iterator=\"Start\"><MaxReturned>2</MaxReturned>"
                    + "</CustomerQueryRq>"
            ).first)
        #expect(first.returned.count == 2 && first.iteratorRemainingCount == 3)
        let iterator = try #require(first.iteratorID)
        var names = first.returned.compactMap { $0.value("Name") }
        for remaining in [1, 0] {
            let page = try #require(
                try Self.answers(
                    company,
                    "<CustomerQueryRq iterator=\"Continue\" iteratorID=\"\(iterator)\"><MaxReturned>2</MaxReturned>"
                        + "</CustomerQueryRq>"
                ).first)
            #expect(page.iteratorRemainingCount == remaining)
            names += page.returned.compactMap { $0.value("Name") }
        }
        #expect(Set(names).count == 5)
        // An iterator run to its end is gone.
        let after = try Self.answers(
            company,
            "<CustomerQueryRq iterator=\"Continue\" iteratorID=\"\(iterator)\"><MaxReturned>2</MaxReturned>"
                + "</CustomerQueryRq>")
        #expect(after.first?.statusCode == 3120)
    }

    @Test func theConnectorsRequestsPassTheSchemaForEveryRecordAndEdition() throws {
        for country in ["US", "UK"] {
            let company = QuickBooksDesktopCompany(country: country)
            let tuition = company.addItem("Tuition")
            let taxable = company.addTaxCode("Tax", taxable: true)
            let salesTax = company.addSalesTaxItem(rateBasisPoints: 1_000)
            let bank = company.addAccount("Checking")
            let settings: JSONValue = ["country": .string(country), "sales_tax_item": .string(salesTax)]
            let mappings = CodeMappings(
                taxCodes: ["TAX": taxable], items: ["*": tuition], depositAccounts: ["BANK": bank])
            let usd = try #require(Currency(code: "USD"))
            let customer = Customer(
                id: Customer.ID("cus_1"), name: String(repeating: "Long family name ", count: 4), email: "a@b.c",
                phone: "555-0100",
                billingAddress: Address(
                    line1: "12 Elm Street", line2: nil, city: "Springfield", region: "IL", postalCode: "62701",
                    country: "US"),
                taxID: nil, currency: usd, updatedAt: Timestamp(secondsSinceEpoch: 1_796_000_000))
            let name = QuickBooksDesktopRequests.customerName(customer.name, localID: "cus_1", distinct: true)
            #expect(name.count == 41 && name.hasSuffix("(cus_1)"))
            let added = try #require(
                try Self.answers(
                    company, QuickBooksDesktopRequests.text(QuickBooksDesktopRequests.customerAdd(customer, name: name))
                ).first)
            #expect(added.statusCode == 0, "\(country): \(added.message)")
            let listID = try #require(added.returned.first?.value("ListID"))
            let line = DocumentLine(
                id: DocumentLine.ID("l1"), description: "Term 2 tuition", courseID: nil,
                quantity: ScaledDecimal(units: 2, scale: 0),
                unitAmount: Money(minorUnits: 50_00, currency: usd), discountAmount: nil,
                amount: Money(minorUnits: 100_00, currency: usd), revenueAccount: "4000", taxCode: "TAX",
                taxAmount: Money(minorUnits: 10_00, currency: usd))
            let invoice = Invoice(
                id: Invoice.ID("inv_1"), number: "GF-2026-TERM2-0001", customerID: Customer.ID("cus_1"), customer: nil,
                currency: usd, exchangeRate: nil, issueDate: LocalDate(parsing: "2026-11-03")!,
                dueDate: LocalDate(parsing: "2026-11-17"), lines: [line],
                subtotal: Money(minorUnits: 100_00, currency: usd), taxTotal: Money(minorUnits: 10_00, currency: usd),
                total: Money(minorUnits: 110_00, currency: usd), updatedAt: Timestamp(secondsSinceEpoch: 1_796_000_000))
            let request = try QuickBooksDesktopRequests.invoice(
                invoice, localID: "inv_1", customerListID: listID, mappings: mappings, settings: settings)
            let answer = try #require(try Self.answers(company, QuickBooksDesktopRequests.text(request)).first)
            #expect(answer.statusCode == 0, "\(country): \(answer.message)")
            let document = try #require(company.documents.first)
            #expect(document.total == 110_00, "\(country)")
            let reference = QuickBooksDesktopRequests.refNumber(invoice.number, localID: "inv_1")
            #expect(document.refNumber == reference && reference.count == 11)
            #expect(reference == QuickBooksDesktopRequests.refNumber(invoice.number, localID: "inv_1"), "stable")
            #expect(reference != QuickBooksDesktopRequests.refNumber(invoice.number, localID: "inv_2"))
            #expect(document.memo.contains("Billing number GF-2026-TERM2-0001"))
        }
    }
}

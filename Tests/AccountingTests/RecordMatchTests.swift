import Accounting
import Testing

/// Billing's record against the books' canonical form, through the integration's links and mappings.
@Suite struct RecordMatchTests {
    let translation = RecordMatch.Translation(
        remoteIDs: [RecordReference(.customer, "cus_1"): "14", RecordReference(.invoice, "inv_1"): "31"],
        mappings: CodeMappings(accounts: ["4000-TUITION": "1"], taxCodes: ["GST18": "5"], items: ["*": "7"]))

    let payment: JSONValue = [
        "id": "pay_1", "customer_id": "cus_1", "currency": "INR", "amount": "59.00",
        "received_at": "2026-11-20T00:00:00Z", "reference": "UTR 77", "method": "upi", "deposit_account": "BANK",
        "allocations": [["invoice_id": "inv_1", "amount": "59.00"]],
    ]
    let booksPayment: JSONValue = [
        "id": "42", "customer_id": "14", "currency": "INR", "amount": "59", "received_at": "2026-11-20",
        "reference": "UTR 77", "allocations": [["invoice_id": "31", "amount": "59"]],
    ]

    @Test func theSamePaymentAgreesWhateverTheAmountsTrailingZeros() {
        #expect(RecordMatch.agrees(.payment, billing: payment, books: booksPayment, translation: translation))
    }

    static let differences: [(String, JSONValue)] = [
        ("amount", "58.00"), ("received_at", "2026-11-21T00:00:00Z"), ("reference", "UTR 78"),
        ("customer_id", "cus_2"), ("currency", "USD"), ("allocations", [["invoice_id": "inv_2", "amount": "59.00"]]),
    ]

    @Test(arguments: Self.differences)
    func aPaymentDifferingInOneFieldIsAnotherPayment(field: String, value: JSONValue) {
        guard case .object(var billing) = payment else { return }
        billing[field] = value
        #expect(!RecordMatch.agrees(.payment, billing: .object(billing), books: booksPayment, translation: translation))
    }

    @Test func aBooksReferenceBillingDoesNotHaveIsAnotherPayment() {
        guard case .object(var billing) = payment else { return }
        billing["reference"] = nil
        // The bursar's cheque and a parent's online payment of the same amount on the same day are two payments.
        #expect(!RecordMatch.agrees(.payment, billing: .object(billing), books: booksPayment, translation: translation))
    }

    @Test func beforeAWriteIsSkippedTheFieldsTheConnectorWritesAreComparedToo() {
        let mapped = RecordMatch.Translation(
            remoteIDs: translation.remoteIDs,
            mappings: CodeMappings(
                accounts: ["4000-TUITION": "1"], taxCodes: ["GST18": "5"], items: ["*": "7"],
                depositAccounts: ["BANK": "3", "HDFC": "8"]))
        guard case .object(var books) = booksPayment else { return }
        books["deposit_account_id"] = "3"
        #expect(
            RecordMatch.agrees(
                .payment, billing: payment, books: .object(books), translation: mapped, writtenFields: true))
        guard case .object(var moved) = payment else { return }
        moved["deposit_account"] = "HDFC"
        // Billing moved the payment to another bank account: QuickBooks must hear it.
        #expect(
            !RecordMatch.agrees(
                .payment, billing: .object(moved), books: .object(books), translation: mapped, writtenFields: true))
        #expect(RecordMatch.agrees(.payment, billing: .object(moved), books: .object(books), translation: mapped))

        let line: JSONValue = [
            "description": "Tuition fall term", "quantity": 2, "unit_amount": "25.00", "amount": "50.00",
            "revenue_account": "4000-TUITION",
        ]
        let invoice: JSONValue = [
            "number": "GF-1", "customer_id": "cus_1", "currency": "INR", "total": "50.00", "lines": [line],
        ]
        let booksInvoice: JSONValue = [
            "number": "GF-1", "customer_id": "14", "currency": "INR", "total": "50",
            "lines": [
                [
                    "description": "Tuition fall term", "quantity": .number("2"), "unit_amount": "25",
                    "amount": "50", "account_id": "1",
                ]
            ],
        ]
        #expect(
            RecordMatch.agrees(
                .invoice, billing: invoice, books: booksInvoice, translation: mapped, writtenFields: true))
        for (field, value) in [
            ("quantity", JSONValue.number("4")), ("unit_amount", "12.50"), ("description", "Tuition"),
        ] {
            guard case .object(var changed) = line else { return }
            changed[field] = value
            if field == "quantity" { changed["unit_amount"] = "12.50" }
            let billing: JSONValue = [
                "number": "GF-1", "customer_id": "cus_1", "currency": "INR", "total": "50.00",
                "lines": [.object(changed)],
            ]
            #expect(
                !RecordMatch.agrees(
                    .invoice, billing: billing, books: booksInvoice, translation: mapped, writtenFields: true),
                "\(field)")
        }
        guard case .object(var converted) = invoice else { return }
        converted["exchange_rate"] = "105.2"
        #expect(
            !RecordMatch.agrees(
                .invoice, billing: .object(converted), books: booksInvoice, translation: mapped, writtenFields: true))
    }

    @Test func anInvoiceAgreesOnItsLinesThroughTheMappingsWhateverItsBalance() {
        let billing: JSONValue = [
            "number": "GF-1", "customer_id": "cus_1", "currency": "INR", "issue_date": "2026-11-03", "total": "59.00",
            "tax_total": "9.00", "status": "issued",
            "lines": [
                [
                    "description": "School bus", "quantity": 2, "unit_amount": "30.00", "discount_amount": "10.00",
                    "amount": "50.00", "revenue_account": "4000-TUITION", "tax_code": "GST18",
                ]
            ],
        ]
        var books: JSONValue = [
            "number": "GF-1", "customer_id": "14", "currency": "INR", "issue_date": "2026-11-03", "total": "59",
            "tax_total": "9", "balance": "0",
            "lines": [
                [
                    "description": "School bus (2 × 30.00 less 10.00 discount)", "amount": "50", "account_id": "1",
                    "tax_code_id": "5", "item_id": "7",
                ]
            ],
        ]
        #expect(RecordMatch.agrees(.invoice, billing: billing, books: books, translation: translation))
        // Another income account in the books is a difference.
        books = ["number": "GF-1", "customer_id": "14", "total": "59", "lines": [["amount": "50", "account_id": "2"]]]
        #expect(!RecordMatch.agrees(.invoice, billing: billing, books: books, translation: translation))
    }
}

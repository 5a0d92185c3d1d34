import Accounting
import App
import Foundation
import Persistence
import Sandbox
import Testing

/// The emulator computes tax from its tax codes' rates and home-currency totals from the exchange rate, as QuickBooks
/// does: a wrongly mapped tax code fails the job loudly, and foreign-currency invoices keep every minor unit.
@Suite struct CurrencyAndTaxTests {
    typealias World = QuickBooksWorld

    /// Billing's 18 % GST mapped to QuickBooks' 5 % code: QuickBooks computes another total, and the job fails
    /// saying both totals instead of leaving a wrong invoice unnoticed.
    @Test func aTaxCodeMappedToTheWrongRateFailsTheJobWithBothTotals() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            let chart = try await world.mapAccounts(integration)
            let fivePercent = try #require(
                chart["tax_codes"]?.arrayValue?.first { $0["name"] == "GST 5%" }?["id"],
                "\(chart["tax_codes"] ?? .null)")
            let remapped = try await world.api(
                "PATCH", "/integrations/\(integration)/mappings", ["tax_codes": ["GST18": fivePercent]])
            #expect(remapped.status == 200, "\(remapped.json)")
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await world.drain()

            let invoice = try #require(await world.objects("Invoice").first)
            // 45,000 + 4,000 at 5 %: what QuickBooks made of it.
            #expect(invoice["TxnTaxDetail"]?["TotalTax"] == .number("2450"))
            #expect(invoice["TotalAmt"] == .number("51450"))
            let failed = try await world.api("GET", "/jobs?status=failed")
            let error = try #require(failed.json["items"]?[0]?["last_error"], "\(failed.json)")
            #expect(error["code"] == "total_mismatch")
            let message = error["message"]?.stringValue ?? ""
            #expect(message.contains("51450") && message.contains("57820.00"), "\(message)")
            #expect(try await world.events("sync.failed").count == 1)
        }
    }

    /// A pound-sterling invoice in an Indian company: QuickBooks holds it in GBP at billing's rate, and its
    /// home-currency total in rupees to the paisa.
    @Test func aGBPInvoiceInAnINRCompanyKeepsItsRateAndHomeTotal() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            await world.sandbox.enableMulticurrency(realmID: World.realm, rates: ["GBP": 110.25])
            try await world.bill(
                "customer.created",
                World.customer("cus_uk", name: "Oliver Hughes").merging(["currency": "GBP"]))
            try await world.bill(
                "invoice.issued",
                Self.invoice(
                    "inv_gbp", number: "GF-UK-1", customer: "cus_uk", currency: "GBP", rate: "108.5",
                    amount: "1000.00", tax: "180.00", total: "1180.00"))
            try await world.drain()

            let invoice = try #require(await world.objects("Invoice").first)
            #expect(invoice["CurrencyRef"]?["value"] == "GBP")
            #expect(invoice["ExchangeRate"] == .number("108.5"))
            #expect(invoice["TotalAmt"] == .number("1180"))
            #expect(invoice["HomeTotalAmt"] == .number("128030"))
            #expect(await world.objects("Customer").first?["CurrencyRef"]?["value"] == "GBP")
            let jobs = try await world.components.database.jobs(page: try PageRequest(limit: 50)).items
            #expect(
                jobs.allSatisfy { $0.status == .succeeded },
                "\(jobs.map { "\($0.localID) \($0.lastError?.message ?? "")" })")
        }
    }

    /// Yen have no minor unit and dinars three: each invoice's tax and totals keep exactly their currency's digits,
    /// and the rupee total is rounded to the paisa.
    @Test(arguments: [
        ("JPY", "45000", "8100", "53100", "0.56", "29736"),
        ("KWD", "120.500", "21.690", "142.190", "270.123", "38408.79"),
    ])
    func zeroAndThreeDecimalCurrenciesKeepTheirMinorUnits(
        currency: String, amount: String, tax: String, total: String, rate: String, homeTotal: String
    ) async throws {
        try await World.run { world in
            let integration = try await world.connect()
            _ = try await world.mapAccounts(integration)
            await world.sandbox.enableMulticurrency(realmID: World.realm, rates: [currency: 1])
            try await world.bill(
                "customer.created",
                World.customer("cus_\(currency)", name: "Family \(currency)").merging(["currency": .string(currency)]))
            try await world.bill(
                "invoice.issued",
                Self.invoice(
                    "inv_\(currency)", number: "GF-\(currency)", customer: "cus_\(currency)", currency: currency,
                    rate: rate, amount: amount, tax: tax, total: total))
            try await world.drain()

            let invoice = try #require(await world.objects("Invoice").first)
            #expect(invoice["TxnTaxDetail"]?["TotalTax"] == .number(Self.plain(tax)))
            #expect(invoice["TotalAmt"] == .number(Self.plain(total)))
            #expect(invoice["HomeTotalAmt"] == .number(homeTotal))
            let job = try await world.api("GET", "/jobs?status=succeeded")
            #expect(job.json["items"]?.arrayValue?.count == 2, "\(job.json)")
        }
    }

    /// `JSONValue.number` text as QuickBooks writes it: no trailing zeros after the point.
    static func plain(_ amount: String) -> String {
        guard amount.contains(".") else { return amount }
        var text = amount
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// A one-line tuition invoice at 18 % GST in `currency`, at billing's `rate` to the company's rupees.
    static func invoice(
        _ id: String, number: String, customer: String, currency: String, rate: String, amount: String, tax: String,
        total: String
    ) -> JSONValue {
        [
            "id": .string(id), "number": .string(number), "customer_id": .string(customer),
            "currency": .string(currency), "exchange_rate": .string(rate), "issue_date": "2026-11-03",
            "due_date": "2026-11-17",
            "lines": [
                [
                    "id": "line_1", "description": "Term 2 tuition", "quantity": 1, "unit_amount": .string(amount),
                    "amount": .string(amount), "revenue_account": "4000-TUITION", "tax_code": "GST18",
                    "tax_amount": .string(tax),
                ]
            ],
            "subtotal": .string(amount), "tax_total": .string(tax), "total": .string(total),
            "updated_at": "2026-11-03T09:00:00Z",
        ]
    }
}

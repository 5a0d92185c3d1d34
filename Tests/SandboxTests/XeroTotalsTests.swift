import Accounting
import Foundation
import HTTPTypes
import Testing

@testable import Sandbox

/// Xero computes lines, tax and totals as its "Rounding in Xero" guide says: tax per line, each amount to two
/// decimal places whatever the currency.
@Suite struct XeroTotalsTests {
    @Test func gbpVatIsComputedPerLineWithDiscounts() async throws {
        try await XeroHarness.run { harness in
            let contactID = try await harness.contact("Asha Rao")
            var invoice = XeroHarness.invoice(
                contactID: contactID, lines: [("3", "25.06", "OUTPUT2"), ("1", "25.61", "OUTPUT2")])
            if case .object(var members) = invoice, var lines = members["LineItems"]?.arrayValue {
                lines.append([
                    "Description": "Uniform", "Quantity": 2, "UnitAmount": .number("19.99"), "DiscountRate": 10,
                    "AccountCode": "200", "TaxType": "OUTPUT2",
                ])
                members["LineItems"] = .array(lines)
                invoice = .object(members)
            }
            let answer = try await harness.put("Invoices", [invoice])
            let created = try #require(answer.first("Invoices"), "\(answer.json)")
            let lines = created["LineItems"]?.arrayValue ?? []
            #expect(lines.map { $0["LineAmount"] } == [.number("75.18"), .number("25.61"), .number("35.98")])
            #expect(lines.map { $0["TaxAmount"] } == [.number("15.04"), .number("5.12"), .number("7.20")])
            // Tax on the total would be 27.35; Xero sums the lines' rounded tax.
            #expect(created["SubTotal"] == .number("136.77") && created["TotalTax"] == .number("27.36"))
            #expect(created["Total"] == .number("164.13") && created["AmountDue"] == .number("164.13"))
            #expect(created["TotalDiscount"] == .number("4.00") && created["IsDiscounted"] == true)
            #expect(created["CurrencyCode"] == "GBP" && created["CurrencyRate"] == .number("1.000000"))
        }
    }

    @Test func aForeignCurrencyGetsTheOrganisationsRateUnlessGiven() async throws {
        try await XeroHarness.run { harness in
            await harness.sandbox.addCurrency(tenantID: harness.tenant, code: "USD", rate: Decimal(string: "1.25")!)
            let contactID = try await harness.contact("Asha Rao")
            let held = try await harness.put(
                "Invoices",
                [XeroHarness.invoice(contactID: contactID, lines: [("1", "100", "ZERORATEDOUTPUT")], currency: "USD")])
            #expect(held.first("Invoices")?["CurrencyRate"] == .number("1.250000"))
            let given = try await harness.put(
                "Invoices",
                [
                    XeroHarness.invoice(
                        contactID: contactID, lines: [("1", "100", "NONE")], currency: "USD",
                        extra: ["CurrencyRate": .number("1.3")])
                ])
            #expect(given.first("Invoices")?["CurrencyRate"] == .number("1.300000"))
            let unknown = try await harness.put(
                "Invoices", [XeroHarness.invoice(contactID: contactID, lines: [("1", "100", "NONE")], currency: "EUR")])
            #expect(unknown.status == .badRequest)
            let currencies = try await harness.get("Currencies")
            #expect(
                Set(currencies.json["Currencies"]?.arrayValue?.compactMap { $0["Code"]?.stringValue } ?? []) == [
                    "GBP", "USD",
                ])
        }
    }

    @Test func inrGstRatesAreTheIndianOrganisationsOwn() async throws {
        try await XeroHarness.run(name: "Cognify India", currency: "INR", country: "IN") { harness in
            let rates = try await harness.get("TaxRates").json["TaxRates"]?.arrayValue ?? []
            let gst = try #require(rates.first { $0["Name"] == "GST 18%" })
            #expect(gst["TaxType"] == "TAX001" && gst["EffectiveRate"] == .number("18.0000"))
            #expect(gst["TaxComponents"]?.arrayValue?.compactMap { $0["Name"]?.stringValue } == ["CGST", "SGST"])
            #expect(rates.contains { $0["TaxType"] == "NONE" && $0["Name"] == "Tax Exempt" })
            let contactID = try await harness.contact("Asha Rao")
            let exclusive = try await harness.put(
                "Invoices",
                [
                    XeroHarness.invoice(
                        contactID: contactID, lines: [("1", "45000", "TAX001"), ("3", "333.33", "TAX001")])
                ])
            let created = try #require(exclusive.first("Invoices"))
            #expect(created["SubTotal"] == .number("45999.99") && created["TotalTax"] == .number("8280.00"))
            #expect(created["Total"] == .number("54279.99"))
            let inclusive = try await harness.put(
                "Invoices",
                [
                    XeroHarness.invoice(
                        contactID: contactID, lines: [("1", "118", "TAX001")], extra: ["LineAmountTypes": "Inclusive"])
                ])
            let held = try #require(inclusive.first("Invoices"))
            #expect(held["SubTotal"] == .number("100.00") && held["TotalTax"] == .number("18.00"))
            #expect(held["Total"] == .number("118.00"))
            let organisation = try await harness.get("Organisation").first("Organisations")
            #expect(organisation?["BaseCurrency"] == "INR" && organisation?["Version"] == "GLOBAL")
        }
    }

    @Test func jpyAmountsKeepTwoDecimalPlacesAsXeroDoes() async throws {
        try await XeroHarness.run(name: "Cognify Japan", currency: "JPY", country: "JP") { harness in
            let tax = try #require(
                await harness.sandbox.addTaxRate(tenantID: harness.tenant, name: "Consumption Tax 10%", percent: 10))
            #expect(tax == "TAX001")
            let contactID = try await harness.contact("Sato Hana")
            let answer = try await harness.put(
                "Invoices",
                [XeroHarness.invoice(contactID: contactID, lines: [("3", "1234", tax), ("1", "1001", tax)])])
            let created = try #require(answer.first("Invoices"), "\(answer.json)")
            #expect(
                created["LineItems"]?.arrayValue?.map { $0["TaxAmount"] } == [.number("370.20"), .number("100.10")])
            #expect(created["SubTotal"] == .number("4703.00") && created["TotalTax"] == .number("470.30"))
            #expect(created["Total"] == .number("5173.30"))
        }
    }

    @Test func kwdAmountsLoseTheirThirdDecimalUnlessUnitdpKeepsTheUnitPrice() async throws {
        try await XeroHarness.run(name: "Cognify Kuwait", currency: "KWD", country: "KW") { harness in
            let contactID = try await harness.contact("Fatima Ali")
            let twoPlaces = try await harness.put(
                "Invoices", [XeroHarness.invoice(contactID: contactID, lines: [("2", "10.125", "NONE")])])
            let line = twoPlaces.first("Invoices")?["LineItems"]?.arrayValue?.first
            #expect(line?["UnitAmount"] == .number("10.13") && line?["LineAmount"] == .number("20.26"))
            let fourPlaces = try await harness.put(
                "Invoices", [XeroHarness.invoice(contactID: contactID, lines: [("2", "10.125", "NONE")])],
                query: "?unitdp=4")
            let precise = fourPlaces.first("Invoices")
            #expect(precise?["LineItems"]?.arrayValue?.first?["UnitAmount"] == .number("10.1250"))
            #expect(precise?["Total"] == .number("20.25"))
        }
    }
}

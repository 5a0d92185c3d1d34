import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Sandbox

/// The emulator computes what QuickBooks computes: tax from the tax codes' rates, totals from the lines, home
/// amounts from the exchange rate, in each currency's minor unit; and keeps the company's preferences.
extension QuickBooksOnlineSandboxTests {
    func query(_ client: any TestClientProtocol, _ token: String, _ text: String) async throws -> Answer {
        let encoded = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
        return try await call(client, .get, "/v3/company/\(realm)/query?query=\(encoded)", token: token)
    }

    /// The id of the entity named `name` (`Name` or `DisplayName`).
    func id(_ client: any TestClientProtocol, _ token: String, _ entity: String, named name: String) async throws
        -> String
    {
        let field = entity == "Customer" ? "DisplayName" : "Name"
        let answer = try await query(client, token, "select * from \(entity) where \(field) = '\(name)'")
        return try #require(
            answer.json["QueryResponse"]?[entity]?.arrayValue?.first?["Id"]?.stringValue, "\(entity) \(name)")
    }

    func line(_ amount: String, taxCode: String? = nil, detail: String = "SalesItemLineDetail") -> JSONValue {
        var item: [String: JSONValue] = ["ItemRef": ["value": "7"]]
        if let taxCode { item["TaxCodeRef"] = ["value": .string(taxCode)] }
        var line: [String: JSONValue] = ["Amount": .number(amount), "DetailType": .string(detail)]
        line[detail] = .object(item)
        return .object(line)
    }

    func customer(_ client: any TestClientProtocol, _ token: String, _ name: String, currency: String? = nil)
        async throws -> String
    {
        var body: [String: JSONValue] = ["DisplayName": .string(name)]
        if let currency { body["CurrencyRef"] = ["value": .string(currency)] }
        let answer = try await create(client, token, "customer", .object(body))
        return try #require(answer.json["Customer"]?["Id"]?.stringValue, "\(answer.json)")
    }

    @Test func taxIsTheLinesTaxCodesRatesNotWhatTheClientSays() async throws {
        try await withSandbox { _, client, token in
            let rates = try await query(client, token, "select * from TaxRate")
            let names = rates.json["QueryResponse"]?["TaxRate"]?.arrayValue?.compactMap { $0["Name"]?.stringValue }
            #expect(Set(names ?? []).isSuperset(of: ["CGST 9%", "SGST 9%", "CGST 2.5%", "SGST 14%", "IGST 18%"]))
            // GST 18% is CGST 9% and SGST 9%, by reference.
            let gst18 = try await query(client, token, "select * from TaxCode where Name = 'GST 18%'")
            let details = gst18.json["QueryResponse"]?["TaxCode"]?.arrayValue?.first?["SalesTaxRateList"]?[
                "TaxRateDetail"]
            #expect(
                details?.arrayValue?.compactMap { $0["TaxRateRef"]?["name"]?.stringValue } == ["CGST 9%", "SGST 9%"])
            let gst5 = try await id(client, token, "TaxCode", named: "GST 5%")

            let customerID = try await customer(client, token, "Priya Raghavan")
            let invoice = try await create(
                client, token, "invoice",
                [
                    "CustomerRef": ["value": .string(customerID)],
                    "Line": [
                        line("45000.00", taxCode: "5"), line("4000.00", taxCode: "5"), line("333.33", taxCode: gst5),
                    ],
                    // What the client thinks the tax is does not count.
                    "TxnTaxDetail": ["TotalTax": 1],
                ])
            #expect(invoice.status == .ok, "\(invoice.json)")
            let created = try #require(invoice.json["Invoice"])
            // 49,000 × 9 % twice; 333.33 × 2.5 % = 8.33325 → 8.33, twice.
            #expect(created["TxnTaxDetail"]?["TotalTax"] == .number("8836.66"))
            let taxLines = created["TxnTaxDetail"]?["TaxLine"]?.arrayValue ?? []
            #expect(
                taxLines.map { [$0["TaxLineDetail"]?["TaxRateRef"]?["name"] ?? .null, $0["Amount"] ?? .null] } == [
                    ["CGST 9%", .number("4410")], ["SGST 9%", .number("4410")], ["CGST 2.5%", .number("8.33")],
                    ["SGST 2.5%", .number("8.33")],
                ])
            #expect(taxLines.first?["TaxLineDetail"]?["NetAmountTaxable"] == .number("49000"))
            #expect(created["TotalAmt"] == .number("58169.99") && created["Balance"] == .number("58169.99"))

            // An exempt line adds no tax; an unknown tax code is an invalid reference.
            let exempt = try await create(
                client, token, "invoice",
                ["CustomerRef": ["value": .string(customerID)], "Line": [line("100.00", taxCode: "6")]])
            #expect(exempt.json["Invoice"]?["TotalAmt"] == .number("100"))
            #expect(exempt.json["Invoice"]?["TxnTaxDetail"]?["TotalTax"] == .number("0"))
            let unknown = try await create(
                client, token, "invoice",
                ["CustomerRef": ["value": .string(customerID)], "Line": [line("100.00", taxCode: "999")]])
            #expect(unknown.status == .badRequest && fault(unknown).code == "2500")

            // A credit memo is taxed the same way.
            let credit = try await create(
                client, token, "creditmemo",
                ["CustomerRef": ["value": .string(customerID)], "Line": [line("1000.00", taxCode: "5")]])
            #expect(credit.json["CreditMemo"]?["TotalAmt"] == .number("1180"))
            #expect(credit.json["CreditMemo"]?["TxnTaxDetail"]?["TotalTax"] == .number("180"))
        }
    }

    @Test func britishAndAmericanCompaniesStartWithTheirOwnTaxes() async throws {
        let british = QuickBooksOnlineSandbox()
        await british.addCompany(realmID: realm, country: .unitedKingdom)
        try await withSandbox(british) { _, client, token in
            let reduced = try await id(client, token, "TaxCode", named: "5.0% R")
            let zero = try await id(client, token, "TaxCode", named: "0.0% Z")
            let customerID = try await customer(client, token, "Oliver Smith")
            let invoice = try await create(
                client, token, "invoice",
                [
                    "CustomerRef": ["value": .string(customerID)],
                    "Line": [
                        line("100.00", taxCode: "5"), line("10.00", taxCode: reduced), line("7.00", taxCode: zero),
                    ],
                ])
            #expect(invoice.json["Invoice"]?["TxnTaxDetail"]?["TotalTax"] == .number("20.5"), "\(invoice.json)")
            #expect(invoice.json["Invoice"]?["TotalAmt"] == .number("137.5"))
            #expect(invoice.json["Invoice"]?["CurrencyRef"]?["value"] == "GBP")
            let info = try await call(client, .get, "/v3/company/\(realm)/companyinfo/\(realm)", token: token)
            #expect(info.json["CompanyInfo"]?["Country"] == "GB")
        }
        let american = QuickBooksOnlineSandbox()
        await american.addCompany(realmID: realm, country: .unitedStates)
        try await withSandbox(american) { _, client, token in
            let customerID = try await customer(client, token, "Ann Lee")
            // US lines say TAX or NON; TAX lines are taxed at the transaction's (or the company's) sales tax code.
            let invoice = try await create(
                client, token, "invoice",
                [
                    "CustomerRef": ["value": .string(customerID)],
                    "Line": [line("100.00", taxCode: "TAX"), line("50.00", taxCode: "NON")],
                ])
            #expect(invoice.json["Invoice"]?["TxnTaxDetail"]?["TotalTax"] == .number("7.25"), "\(invoice.json)")
            #expect(invoice.json["Invoice"]?["TotalAmt"] == .number("157.25"))
            #expect(invoice.json["Invoice"]?["CurrencyRef"]?["value"] == "USD")
        }
    }

    @Test func aDiscountLineSubtractsAndTheBalanceFollowsTheTotal() async throws {
        try await withSandbox { _, client, token in
            let customerID = try await customer(client, token, "Asha Rao")
            let invoice = try await create(
                client, token, "invoice",
                [
                    "CustomerRef": ["value": .string(customerID)],
                    "Line": [
                        line("1000.00", taxCode: "6"),
                        [
                            "Amount": 100, "DetailType": "DiscountLineDetail",
                            "DiscountLineDetail": ["PercentBased": false],
                        ],
                    ],
                ])
            let created = try #require(invoice.json["Invoice"])
            #expect(created["TotalAmt"] == .number("900") && created["Balance"] == .number("900"), "\(created)")
            #expect(created["Line"]?.arrayValue?.last?["Amount"] == .number("1000"))  // the subtotal, before discount

            // A percent-based discount is worked out from the sales lines.
            let percent = try await create(
                client, token, "invoice",
                [
                    "CustomerRef": ["value": .string(customerID)],
                    "Line": [
                        line("1000.00", taxCode: "6"),
                        [
                            "Amount": 1, "DetailType": "DiscountLineDetail",
                            "DiscountLineDetail": ["PercentBased": true, "DiscountPercent": 15],
                        ],
                    ],
                ])
            #expect(percent.json["Invoice"]?["TotalAmt"] == .number("850"), "\(percent.json)")

            // A discount naming a tax code is taken off that code's taxable amount: 900 × 18 % = 162 of GST.
            func discounted(taxCode: String) -> JSONValue {
                [
                    "CustomerRef": ["value": .string(customerID)],
                    "Line": [
                        line("1000.00", taxCode: "5"),
                        [
                            "Amount": 100, "DetailType": "DiscountLineDetail",
                            "DiscountLineDetail": ["PercentBased": false, "TaxCodeRef": ["value": .string(taxCode)]],
                        ],
                    ],
                ]
            }
            let taxed = try await create(client, token, "invoice", discounted(taxCode: "5"))
            #expect(taxed.json["Invoice"]?["TxnTaxDetail"]?["TotalTax"] == .number("162"), "\(taxed.json)")
            #expect(taxed.json["Invoice"]?["TotalAmt"] == .number("1062"))
            let unknown = try await create(client, token, "invoice", discounted(taxCode: "999"))
            #expect(fault(unknown).code == "2500")

            let paid = try await create(
                client, token, "payment",
                [
                    "CustomerRef": ["value": .string(customerID)], "TotalAmt": 400,
                    "Line": [["Amount": 400, "LinkedTxn": [["TxnId": created["Id"] ?? .null, "TxnType": "Invoice"]]]],
                ])
            #expect(paid.status == .ok, "\(paid.json)")
            let read = try await call(
                client, .get, "/v3/company/\(realm)/invoice/\(created["Id"]?.stringValue ?? "")", token: token)
            #expect(read.json["Invoice"]?["Balance"] == .number("500"))
        }
    }

    @Test func aForeignCurrencyNeedsMulticurrencyAndTheCustomersCurrencyAndHomeAmountsUseTheRate() async throws {
        try await withSandbox { sandbox, client, token in
            // A new company is in its home currency only.
            let refused = try await create(
                client, token, "customer", ["DisplayName": "Oliver Smith", "CurrencyRef": ["value": "GBP"]])
            #expect(refused.status == .badRequest && fault(refused).code == "6000", "\(refused.json)")
            let preferences = try await call(client, .get, "/v3/company/\(realm)/preferences", token: token)
            #expect(preferences.json["Preferences"]?["CurrencyPrefs"]?["MultiCurrencyEnabled"] == false)
            #expect(preferences.json["Preferences"]?["CurrencyPrefs"]?["HomeCurrency"]?["value"] == "INR")

            await sandbox.enableMulticurrency(
                realmID: realm,
                rates: [
                    "GBP": Decimal(string: "110.25")!, "JPY": Decimal(string: "0.55")!,
                    "KWD": Decimal(string: "270.5")!,
                ])
            // A currency not in the company's list is not one it can use.
            let euro = try await create(
                client, token, "customer", ["DisplayName": "Eva", "CurrencyRef": ["value": "EUR"]])
            #expect(fault(euro).code == "2500")
            let british = try await customer(client, token, "Oliver Smith", currency: "GBP")
            let indian = try await customer(client, token, "Priya Raghavan")

            let sent = try await create(
                client, token, "invoice",
                [
                    "CustomerRef": ["value": .string(british)], "CurrencyRef": ["value": "GBP"],
                    "ExchangeRate": .number("105.5"), "Line": [line("100.00", taxCode: "6")],
                ])
            #expect(sent.json["Invoice"]?["TotalAmt"] == .number("100"), "\(sent.json)")
            #expect(sent.json["Invoice"]?["HomeTotalAmt"] == .number("10550"))
            #expect(sent.json["Invoice"]?["HomeBalance"] == .number("10550"))
            // Without a rate, the one the company holds; without a currency, the customer's.
            let held = try await create(
                client, token, "invoice",
                ["CustomerRef": ["value": .string(british)], "Line": [line("100.00", taxCode: "6")]])
            #expect(held.json["Invoice"]?["CurrencyRef"]?["value"] == "GBP")
            #expect(held.json["Invoice"]?["ExchangeRate"] == .number("110.25"))
            #expect(held.json["Invoice"]?["HomeTotalAmt"] == .number("11025"))
            // A home-currency invoice says its rate is 1.
            let home = try await create(
                client, token, "invoice",
                ["CustomerRef": ["value": .string(indian)], "Line": [line("100.00", taxCode: "6")]])
            #expect(home.json["Invoice"]?["ExchangeRate"] == 1 && home.json["Invoice"]?["HomeTotalAmt"] == 100)
            // A customer's transactions are in its currency.
            let mismatch = try await create(
                client, token, "invoice",
                [
                    "CustomerRef": ["value": .string(british)], "CurrencyRef": ["value": "INR"],
                    "Line": [line("100.00", taxCode: "6")],
                ])
            #expect(mismatch.status == .badRequest && fault(mismatch).code == "6000", "\(mismatch.json)")
            let payment = try await create(
                client, token, "payment",
                ["CustomerRef": ["value": .string(indian)], "CurrencyRef": ["value": "GBP"], "TotalAmt": 5])
            #expect(fault(payment).code == "6000")
            let badRate = try await create(
                client, token, "invoice",
                [
                    "CustomerRef": ["value": .string(british)], "ExchangeRate": 0,
                    "Line": [line("100.00", taxCode: "6")],
                ])
            #expect(badRate.status == .badRequest)
        }
    }

    @Test func amountsKeepTheirCurrencysMinorUnits() async throws {
        try await withSandbox { sandbox, client, token in
            await sandbox.enableMulticurrency(
                realmID: realm, rates: ["JPY": Decimal(string: "0.55")!, "KWD": Decimal(string: "270.5")!])
            let yen = try await customer(client, token, "Tanaka", currency: "JPY")
            let dinar = try await customer(client, token, "Al-Sabah", currency: "KWD")
            // 1,235 yen at 18 %: 111.15 twice → 111 each; no fractions of a yen.
            let japanese = try await create(
                client, token, "invoice",
                ["CustomerRef": ["value": .string(yen)], "Line": [line("1235", taxCode: "5")]])
            #expect(japanese.json["Invoice"]?["TxnTaxDetail"]?["TotalTax"] == .number("222"), "\(japanese.json)")
            #expect(japanese.json["Invoice"]?["TotalAmt"] == .number("1457"))
            // 1,457 × 0.55 = 801.35 rupees.
            #expect(japanese.json["Invoice"]?["HomeTotalAmt"] == .number("801.35"))
            // 12.345 dinars keep their fils: 1.11105 → 1.111 twice.
            let kuwaiti = try await create(
                client, token, "invoice",
                ["CustomerRef": ["value": .string(dinar)], "Line": [line("12.345", taxCode: "5")]])
            #expect(
                kuwaiti.json["Invoice"]?["Line"]?.arrayValue?.first?["Amount"] == .number("12.345"), "\(kuwaiti.json)")
            #expect(kuwaiti.json["Invoice"]?["TxnTaxDetail"]?["TotalTax"] == .number("2.222"))
            #expect(kuwaiti.json["Invoice"]?["TotalAmt"] == .number("14.567"))
            // 14.567 × 270.5 = 3,940.3735 → 3,940.37 rupees.
            #expect(kuwaiti.json["Invoice"]?["HomeTotalAmt"] == .number("3940.37"))
        }
    }

    @Test func aTransactionDateDefaultsToTheEmulatorsDayNotTheMachines() async throws {
        try await withSandbox { sandbox, client, _ in
            await sandbox.advance(by: 400 * 86_400)
            // A day later the first token has long expired.
            let (token, _) = await sandbox.issueTokens(clientID: "client-1", realmID: realm)
            let customerID = try await customer(client, token, "Ravi")
            let invoice = try await create(
                client, token, "invoice",
                ["CustomerRef": ["value": .string(customerID)], "Line": [line("100.00", taxCode: "6")]])
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = TimeZone(secondsFromGMT: 0)
            let day = String(formatter.string(from: await sandbox.now).prefix(10))
            #expect(invoice.json["Invoice"]?["TxnDate"] == .string(day))
            #expect(day != String(formatter.string(from: Date()).prefix(10)))
        }
    }

    @Test func theDuplicateDocNumberCheckIsTheCustomTransactionNumbersPreference() async throws {
        try await withSandbox { sandbox, client, token in
            let customerID = try await customer(client, token, "Meera")
            // A new company: custom transaction numbers off, a DocNumber stored as sent, a duplicate too.
            let first = try await create(client, token, "invoice", invoiceBody(customer: customerID, docNumber: "GF-1"))
            let second = try await create(
                client, token, "invoice", invoiceBody(customer: customerID, docNumber: "GF-1"))
            #expect(first.status == .ok && second.status == .ok, "\(second.json)")
            #expect(first.json["Invoice"]?["Id"] != second.json["Invoice"]?["Id"])
            #expect(await sandbox.count(realmID: realm, entity: "Invoice") == 2)

            await sandbox.setCustomTransactionNumbers(realmID: realm, true)
            let preferences = try await call(client, .get, "/v3/company/\(realm)/preferences", token: token)
            #expect(preferences.json["Preferences"]?["SalesFormsPrefs"]?["CustomTxnNumbers"] == true)
            let third = try await create(client, token, "invoice", invoiceBody(customer: customerID, docNumber: "GF-1"))
            #expect(third.status == .badRequest && fault(third).code == "6140")
            let credit = try await create(
                client, token, "creditmemo", invoiceBody(customer: customerID, docNumber: "CN-1"))
            let again = try await create(
                client, token, "creditmemo", invoiceBody(customer: customerID, docNumber: "CN-1"))
            #expect(credit.status == .ok && fault(again).code == "6140")
            // `include=allowduplicatedocnum` takes it all the same.
            let allowed = try await call(
                client, .post, "/v3/company/\(realm)/invoice?minorversion=75&include=allowduplicatedocnum",
                token: token, json: invoiceBody(customer: customerID, docNumber: "GF-1"))
            #expect(allowed.status == .ok, "\(allowed.json)")
            #expect(await sandbox.count(realmID: realm, entity: "Invoice") == 3)
        }
    }

    @Test func aQueryLeavesInactiveNamesOutUnlessItAsksAboutActive() async throws {
        try await withSandbox { _, client, token in
            let customerID = try await customer(client, token, "Kiran Patel")
            _ = try await customer(client, token, "Lata Iyer")
            let made = try await create(
                client, token, "customer",
                ["Id": .string(customerID), "SyncToken": "0", "sparse": true, "Active": false])
            #expect(made.json["Customer"]?["Active"] == false)
            func names(_ text: String) async throws -> [String] {
                let answer = try await query(client, token, text)
                return answer.json["QueryResponse"]?["Customer"]?.arrayValue?.compactMap {
                    $0["DisplayName"]?.stringValue
                } ?? []
            }
            #expect(try await names("select * from Customer") == ["Lata Iyer"])
            #expect(try await names("select * from Customer where DisplayName = 'Kiran Patel'") == [])
            #expect(try await names("select * from Customer where Active = false") == ["Kiran Patel"])
            #expect(
                try await names("select * from Customer where DisplayName = 'Kiran Patel' and Active IN (true, false)")
                    == ["Kiran Patel"])
            #expect(try await names("select * from Customer where Active IN (true,false)").count == 2)
            let count = try await query(client, token, "select count(*) from Customer")
            #expect(count.json["QueryResponse"]?["totalCount"] == 1)
            // Its name is still taken, and a read by id still finds it.
            let duplicate = try await create(client, token, "customer", ["DisplayName": "Kiran Patel"])
            #expect(fault(duplicate).code == "6240")
            let read = try await call(client, .get, "/v3/company/\(realm)/customer/\(customerID)", token: token)
            #expect(read.json["Customer"]?["DisplayName"] == "Kiran Patel")
        }
    }

    @Test func customersAreFoundByTheirPrimaryEmailAddress() async throws {
        try await withSandbox { _, client, token in
            _ = try await create(
                client, token, "customer",
                ["DisplayName": "Priya Raghavan", "PrimaryEmailAddr": ["Address": "priya@example.in"]])
            _ = try await create(
                client, token, "customer", ["DisplayName": "Asha", "PrimaryEmailAddr": ["Address": "asha@example.in"]])
            let found = try await query(
                client, token, "select * from Customer where PrimaryEmailAddr = 'priya@example.in'")
            #expect(
                found.json["QueryResponse"]?["Customer"]?.arrayValue?.map { $0["DisplayName"] } == ["Priya Raghavan"])
            let like = try await query(
                client, token, "select * from Customer where PrimaryEmailAddr LIKE '%@example.in'")
            #expect(like.json["QueryResponse"]?["Customer"]?.arrayValue?.count == 2)
        }
    }
}

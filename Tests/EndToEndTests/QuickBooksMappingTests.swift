import Accounting
import Foundation
import Testing

/// Mapping billing's codes to a QuickBooks company, with the emulator: the ids are checked against the company's
/// chart and their kind, `remote-accounts` suggests mappings ready to save, and a parked job names every code it
/// waits for.
@Suite struct QuickBooksMappingTests {
    typealias World = QuickBooksWorld

    // The emulator's chart: 1 Tuition Income, 2 Transport Income (Income), 3 Checking (Bank), 4 A/R, 5 GST 18%,
    // 6 Exempt (tax codes), 7 Services (item → 1), 8 Undeposited Funds (Other Current Asset), 9 Late Fee Income
    // (Other Income), 10 Salaries (Expense), 11 Transport (item → 2).

    @Test func idsOfTheWrongKindOrUnknownToQuickBooksAreRefusedNamingTheField() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            let path = "/integrations/\(integration)/mappings"

            let accountAsTaxCode = try await world.api("PUT", path, ["tax_codes": ["GST18": "1"]])
            #expect(accountAsTaxCode.status == 422)
            #expect(
                accountAsTaxCode.headers.contains {
                    $0.key.lowercased() == "content-type" && $0.value == "application/problem+json"
                })
            #expect(accountAsTaxCode.json["errors"]?[0]?["field"] == "mappings.tax_codes.GST18")
            #expect(
                accountAsTaxCode.json["errors"]?[0]?["message"]
                    == #"1 is not a tax code in this QuickBooks company (it is the account "Tuition Income")"#)

            let unknown = try await world.api("PATCH", path, ["items": ["*": "999"]])
            #expect(unknown.status == 422)
            #expect(unknown.json["errors"]?[0]?["field"] == "mappings.items.*")
            #expect(unknown.json["errors"]?[0]?["message"] == "999 is not an item in this QuickBooks company")

            let wrongAccounts = try await world.api(
                "PATCH", path, ["accounts": ["4000-TUITION": "10"], "deposit_accounts": ["BANK-MAIN": "1"]])
            #expect(wrongAccounts.status == 422)
            let errors = wrongAccounts.json["errors"]?.arrayValue ?? []
            #expect(
                errors.compactMap { $0["field"]?.stringValue }
                    == ["mappings.accounts.4000-TUITION", "mappings.deposit_accounts.BANK-MAIN"])
            #expect(
                errors.first?["message"]
                    == #"account 10 ("Salaries") is an Expense account, not an income account"#)
            #expect(
                errors.last?["message"]?.stringValue?.hasPrefix(
                    #"account 1 ("Tuition Income") is an Income account, not a bank or other current asset account"#)
                    == true)

            // Nothing of a refused request was saved.
            let shown = try await world.api("GET", path)
            #expect(shown.json == ["accounts": [:], "tax_codes": [:], "items": [:], "deposit_accounts": [:]])

            // Ids of the right kind are taken, and the answer says they were checked.
            let saved = try await world.api(
                "PUT", path,
                [
                    "accounts": ["4000-TUITION": "1", "9100-LATE-FEES": "9"], "tax_codes": ["GST18": "5"],
                    "items": ["*": "7", "BUS": "11"], "deposit_accounts": ["BANK-MAIN": "3", "CASH": "8"],
                ])
            #expect(saved.status == 200, "\(saved.json)")
            #expect(saved.json["validated"] == true)
        }
    }

    @Test func suggestionsAreOfTheRightKindCoverItemsAndArePutBackAsTheyCome() async throws {
        try await World.run { world in
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            let integration = try await world.connect()

            let chart = try await world.api(
                "GET", "/integrations/\(integration)/remote-accounts?codes=1100-BANK,4000-TUITION")
            #expect(chart.status == 200, "\(chart.json)")
            let suggested = try #require(chart.json["suggested_mappings"])
            #expect(suggested["accounts"] == ["4000-TUITION": "1", "4100-TRANSPORT": "2"])
            #expect(suggested["tax_codes"] == ["GST18": "5"])
            // 4000-TUITION is asked for as every kind: no income account is proposed as a deposit account.
            #expect(suggested["deposit_accounts"] == ["1100-BANK": "3"])
            // The default item for lines without a course: the one selling into the revenue account proposed.
            #expect(suggested["items"] == ["*": "7"])
            #expect(chart.json["suggestion_details"]?["items"]?["*"]?["by"] == "income_account")

            let choices = try #require(chart.json["choices"])
            func ids(_ member: String) -> [String] {
                choices[member]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            }
            #expect(ids("accounts") == ["1", "2", "9"])
            #expect(ids("deposit_accounts") == ["3", "8"])
            // An Indian company's GST codes: 18 % and Exempt first, then 0/5/12/28 % and IGST 5/12/18/28 %.
            #expect(ids("tax_codes") == ["5", "6", "14", "17", "20", "23", "26", "28", "30", "32"])
            #expect(ids("items") == ["7", "11"])
            for member in ["accounts", "tax_codes", "items", "deposit_accounts"] {
                for (_, id) in suggested[member]?.objectValue ?? [:] {
                    #expect(ids(member).contains(id.stringValue ?? ""), "\(member): \(id) is not of that kind")
                }
            }
            let salaries = chart.json["accounts"]?.arrayValue?.first { $0["id"] == "10" }
            #expect(salaries?["type"] == "Expense" && salaries?["classification"] == "Expense")
            #expect(salaries?["mappable_as"] == [])

            let saved = try await world.api("PUT", "/integrations/\(integration)/mappings", suggested)
            #expect(saved.status == 200, "\(saved.json)")
            #expect(saved.json["validated"] == true)
            try await world.fullSync(integration)
            let invoice = try #require(await world.objects("Invoice").first)
            #expect(invoice["DocNumber"] == "GF-0001")
            let line = invoice["Line"]?[0]?["SalesItemLineDetail"]
            #expect(line?["ItemRef"]?["value"] == "7" && line?["TaxCodeRef"]?["value"] == "5")
        }
    }

    @Test func aJobWithThreeUnmappedCodesNamesThemAllAndResumesOnceAllAreMapped() async throws {
        try await World.run { world in
            let integration = try await world.connect()
            let path = "/integrations/\(integration)/mappings"
            #expect(try await world.api("PATCH", path, ["items": ["*": "7"]]).status == 200)
            try await world.bill("customer.created", World.customer("cus_1", name: "Priya Raghavan"))
            try await world.bill("invoice.issued", World.invoice("inv_1", number: "GF-0001", customer: "cus_1"))
            try await world.drain()

            let parked = try await world.api("GET", "/jobs?status=needs_mapping")
            let jobs = parked.json["items"]?.arrayValue ?? []
            #expect(jobs.count == 1)
            let error = jobs.first?["last_error"]
            #expect(error?["code"] == "unmapped")
            let message =
                "billing's revenue account 4000-TUITION, revenue account 4100-TRANSPORT and tax code GST18 are not mapped"
            #expect(error?["message"]?.stringValue == message)
            let missing: JSONValue = [
                ["kind": "account", "code": "4000-TUITION"], ["kind": "account", "code": "4100-TRANSPORT"],
                ["kind": "tax_code", "code": "GST18"],
            ]
            #expect(error?["missing"] == missing)
            let events = try await world.events("sync.needs_mapping")
            #expect(events.count == 1)
            #expect(events.first?["error"]?["missing"] == missing)
            #expect(events.first?["error"]?["message"] == error?["message"])

            // Two of the three: it runs again and waits for the last one only.
            let two = try await world.api("PATCH", path, ["accounts": ["4000-TUITION": "1", "4100-TRANSPORT": "2"]])
            #expect(two.json["resumed_jobs"] == 1)
            try await world.drain()
            let jobID = try #require(jobs.first?["id"]?.stringValue)
            let waiting = try await world.api("GET", "/jobs/\(jobID)")
            #expect(waiting.json["status"] == "needs_mapping")
            #expect(waiting.json["last_error"]?["message"] == "billing's tax code GST18 is not mapped")
            #expect(waiting.json["last_error"]?["missing"] == [["kind": "tax_code", "code": "GST18"]])
            #expect(await world.objects("Invoice").isEmpty)

            #expect(try await world.api("PATCH", path, ["tax_codes": ["GST18": "5"]]).status == 200)
            try await world.drain()
            #expect(try await world.api("GET", "/jobs/\(jobID)").json["status"] == "succeeded")
            let invoice = try #require(await world.objects("Invoice").first)
            #expect(invoice["DocNumber"] == "GF-0001")
            #expect(invoice["Line"]?[0]?["SalesItemLineDetail"]?["ItemRef"]?["value"] == "7")
        }
    }
}

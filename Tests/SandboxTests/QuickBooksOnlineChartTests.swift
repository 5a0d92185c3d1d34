import Accounting
import Foundation
import HTTPTypes
import Testing

@testable import Sandbox

/// The emulator's chart of accounts and items: each account with its `AccountType`, the `Classification` QuickBooks
/// derives from it and its `AccountSubType`; items with their `Type` and `IncomeAccountRef` (`Finance.xsd`).
extension QuickBooksOnlineSandboxTests {
    @Test func theChartCarriesAccountTypesAndItemsTheirIncomeAccounts() async throws {
        try await withSandbox { _, client, token in
            let answer = try await call(
                client, .post, "/v3/company/\(realm)/query", token: token, text: "select * from Account")
            let accounts = answer.json["QueryResponse"]?["Account"]?.arrayValue ?? []
            func account(_ name: String) -> JSONValue? { accounts.first { $0["Name"]?.stringValue == name } }
            #expect(account("Tuition Income")?["AccountType"] == "Income")
            #expect(account("Tuition Income")?["Classification"] == "Revenue")
            #expect(account("Checking")?["AccountType"] == "Bank")
            #expect(account("Checking")?["AccountSubType"] == "Checking")
            #expect(account("Undeposited Funds")?["AccountType"] == "Other Current Asset")
            #expect(account("Accounts Receivable (A/R)")?["AccountType"] == "Accounts Receivable")
            #expect(account("Late Fee Income")?["AccountType"] == "Other Income")
            #expect(account("Salaries")?["AccountType"] == "Expense")
            #expect(account("Salaries")?["Classification"] == "Expense")
            let items = try await call(
                client, .post, "/v3/company/\(realm)/query", token: token, text: "select * from Item")
            let transport = items.json["QueryResponse"]?["Item"]?.arrayValue?.first { $0["Name"] == "Transport" }
            #expect(transport?["Type"] == "Service")
            #expect(transport?["IncomeAccountRef"]?["value"] == account("Transport Income")?["Id"])
        }
    }

    @Test func accountsNeedATypeAndServiceItemsAnIncomeAccountAndInactiveItemsAreRefused() async throws {
        try await withSandbox { _, client, token in
            let untyped = try await create(client, token, "account", ["Name": "Field Trips"])
            #expect(untyped.status == .badRequest && fault(untyped).code == "2020")
            let unknownType = try await create(
                client, token, "account", ["Name": "Field Trips", "AccountType": "Fees"])
            #expect(unknownType.status == .badRequest && fault(unknownType).code == "2010")
            // Classification is QuickBooks' own, derived from the type.
            let created = try await create(
                client, token, "account", ["Name": "Field Trips", "AccountType": "Income", "Classification": "Asset"])
            #expect(created.status == .ok)
            #expect(created.json["Account"]?["Classification"] == "Revenue")

            let noIncomeAccount = try await create(client, token, "item", ["Name": "Trips", "Type": "Service"])
            #expect(noIncomeAccount.status == .badRequest && fault(noIncomeAccount).code == "2020")

            // An item made inactive cannot be sold any more.
            let customer = try await create(client, token, "customer", ["DisplayName": "Asha Rao"])
            let customerID = try #require(customer.json["Customer"]?["Id"]?.stringValue)
            let item = try await call(client, .get, "/v3/company/\(realm)/item/7", token: token)
            let retired = try await create(
                client, token, "item",
                ["Id": "7", "SyncToken": item.json["Item"]?["SyncToken"] ?? .null, "sparse": true, "Active": false])
            #expect(retired.status == .ok && retired.json["Item"]?["Active"] == false)
            let invoice = try await create(client, token, "invoice", invoiceBody(customer: customerID, docNumber: "1"))
            #expect(invoice.status == .badRequest && fault(invoice).code == "2500")
        }
    }
}

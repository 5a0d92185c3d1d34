import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Sandbox

/// The QuickBooks Online emulator refuses what QuickBooks refuses, in QuickBooks' shapes.
@Suite struct QuickBooksOnlineSandboxTests {
    let realm = "9341453474484455"

    struct Answer {
        let status: HTTPResponse.Status
        let json: JSONValue
        let headers: HTTPFields
    }

    /// Runs `body` against a sandbox whose app `client-1` holds a token for the realm.
    func withSandbox(
        _ sandbox: QuickBooksOnlineSandbox = QuickBooksOnlineSandbox(),
        _ body: @Sendable (QuickBooksOnlineSandbox, any TestClientProtocol, String) async throws -> Void
    ) async throws {
        await sandbox.registerClient(id: "client-1", secret: "secret-1")
        let (access, _) = await sandbox.issueTokens(clientID: "client-1", realmID: realm)
        let application = Application(router: sandbox.router())
        try await application.test(.router) { client in try await body(sandbox, client, access) }
    }

    func call(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String?,
        json: JSONValue? = nil, text: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Answer {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        let body = json.map { ByteBuffer(string: $0.canonicalString) } ?? text.map { ByteBuffer(string: $0) }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            let bytes = Array(response.body.readableBytesView)
            return Answer(
                status: response.status, json: (try? JSONValue(parsing: bytes)) ?? .null, headers: response.headers)
        }
    }

    func create(
        _ client: any TestClientProtocol, _ token: String, _ entity: String, _ body: JSONValue,
        requestID: String? = nil
    ) async throws -> Answer {
        let query = "minorversion=75" + (requestID.map { "&requestid=\($0)" } ?? "")
        return try await call(client, .post, "/v3/company/\(realm)/\(entity)?\(query)", token: token, json: body)
    }

    func invoiceBody(customer: String, docNumber: String, amount: String = "45000.00", tax: String = "8100.00")
        -> JSONValue
    {
        [
            "DocNumber": .string(docNumber), "CustomerRef": ["value": .string(customer)],
            "Line": [
                [
                    "Amount": .number(amount), "DetailType": "SalesItemLineDetail", "Description": "Term 2 tuition",
                    "SalesItemLineDetail": ["ItemRef": ["value": "7"], "TaxCodeRef": ["value": "5"]],
                ]
            ],
            "TxnTaxDetail": ["TotalTax": .number(tax)],
        ]
    }

    func fault(_ answer: Answer) -> (code: String?, message: String?, type: String?) {
        let error = answer.json["Fault"]?["Error"]?.arrayValue?.first
        return (error?["code"]?.stringValue, error?["Message"]?.stringValue, answer.json["Fault"]?["type"]?.stringValue)
    }

    @Test func oauthIssuesRotatesAndRefusesReusedAndExpiredTokens() async throws {
        try await withSandbox { sandbox, client, _ in
            let authorize = try await call(
                client, .get,
                "/connect/oauth2?client_id=client-1&response_type=code&scope=com.intuit.quickbooks.accounting"
                    + "&redirect_uri=https://ledgerwire.test/oauth/callback&state=s1",
                token: nil)
            #expect(authorize.status == .found)
            let location = try #require(authorize.headers[.location].flatMap(URLComponents.init(string:)))
            let items = Dictionary(uniqueKeysWithValues: (location.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(items["state"] == "s1" && items["realmId"] == realm)
            let code = try #require(items["code"])
            let basic = HTTPFields([
                HTTPField(name: .authorization, value: "Basic " + Data("client-1:secret-1".utf8).base64EncodedString()),
                HTTPField(name: .contentType, value: "application/x-www-form-urlencoded"),
            ])
            let exchanged = try await call(
                client, .post, "/oauth2/v1/tokens/bearer", token: nil,
                text: "grant_type=authorization_code&code=\(code)&redirect_uri=https://ledgerwire.test/oauth/callback",
                headers: basic)
            #expect(exchanged.status == .ok && exchanged.json["expires_in"] == 3600)
            let refresh = try #require(exchanged.json["refresh_token"]?.stringValue)
            let reusedCode = try await call(
                client, .post, "/oauth2/v1/tokens/bearer", token: nil,
                text: "grant_type=authorization_code&code=\(code)&redirect_uri=https://ledgerwire.test/oauth/callback",
                headers: basic)
            #expect(reusedCode.status == .badRequest && reusedCode.json["error"] == "invalid_grant")

            let refreshed = try await call(
                client, .post, "/oauth2/v1/tokens/bearer", token: nil,
                text: "grant_type=refresh_token&refresh_token=\(refresh)", headers: basic)
            #expect(refreshed.status == .ok)
            #expect(refreshed.json["refresh_token"]?.stringValue != refresh)
            let reused = try await call(
                client, .post, "/oauth2/v1/tokens/bearer", token: nil,
                text: "grant_type=refresh_token&refresh_token=\(refresh)", headers: basic)
            #expect(reused.status == .badRequest && reused.json["error"] == "invalid_grant")

            let access = try #require(refreshed.json["access_token"]?.stringValue)
            #expect(
                try await call(client, .get, "/v3/company/\(realm)/customer/1", token: access).status != .unauthorized)
            await sandbox.advance(by: 3601)
            let expired = try await call(
                client, .get, "/v3/company/\(realm)/query?query=select%20*%20from%20Customer", token: access)
            #expect(expired.status == .unauthorized)
            #expect(expired.json["fault"]?["error"]?.arrayValue?.first?["code"] == "3200")
            #expect(expired.json["fault"]?["type"] == "AUTHENTICATION")
        }
    }

    @Test func invoicesGetServerTotalsAndFaultsComeInQuickBooksShape() async throws {
        try await withSandbox { _, client, token in
            let customer = try await create(client, token, "customer", ["DisplayName": "Priya Raghavan"])
            #expect(customer.status == .ok && customer.json["Customer"]?["SyncToken"] == "0")
            let customerID = try #require(customer.json["Customer"]?["Id"]?.stringValue)
            let duplicate = try await create(client, token, "customer", ["DisplayName": "priya raghavan"])
            #expect(duplicate.status == .badRequest)
            #expect(fault(duplicate).code == "6240" && fault(duplicate).type == "ValidationFault")
            #expect(duplicate.json["time"] != nil)

            let invoice = try await create(
                client, token, "invoice", invoiceBody(customer: customerID, docNumber: "INV-1"))
            #expect(invoice.status == .ok)
            let created = try #require(invoice.json["Invoice"])
            #expect(created["TotalAmt"] == .number("53100") && created["Balance"] == .number("53100"))
            #expect(created["Line"]?.arrayValue?.last?["DetailType"] == "SubTotalLineDetail")
            #expect(created["Line"]?.arrayValue?.last?["Amount"] == .number("45000"))
            #expect(created["SyncToken"] == "0" && created["MetaData"]?["CreateTime"] != nil)

            let again = try await create(
                client, token, "invoice", invoiceBody(customer: customerID, docNumber: "INV-1"))
            #expect(fault(again).code == "6140")
            guard case .object(var missing) = invoiceBody(customer: customerID, docNumber: "INV-2") else { return }
            missing["CustomerRef"] = nil
            #expect(fault(try await create(client, token, "invoice", .object(missing))).code == "2020")
            let unknownItem = try await create(
                client, token, "invoice",
                [
                    "CustomerRef": ["value": .string(customerID)],
                    "Line": [["Amount": 10, "SalesItemLineDetail": ["ItemRef": ["value": "999"]]]],
                ])
            #expect(fault(unknownItem).code == "2500")

            // Optimistic locking.
            let id = try #require(created["Id"]?.stringValue)
            let sparse = try await create(
                client, token, "invoice",
                ["Id": .string(id), "SyncToken": "0", "sparse": true, "DueDate": "2026-11-30"])
            #expect(sparse.json["Invoice"]?["SyncToken"] == "1" && sparse.json["Invoice"]?["DueDate"] == "2026-11-30")
            #expect(sparse.json["Invoice"]?["TotalAmt"] == .number("53100"))
            let stale = try await create(
                client, token, "invoice",
                ["Id": .string(id), "SyncToken": "0", "sparse": true, "DueDate": "2026-12-01"])
            #expect(
                stale.status == .badRequest && fault(stale).code == "5010"
                    && fault(stale).message == "Stale Object Error")
        }
    }

    @Test func paymentsReduceTheInvoiceBalanceAndOverpaymentIsRefused() async throws {
        try await withSandbox { sandbox, client, token in
            let customerID = try #require(
                try await create(client, token, "customer", ["DisplayName": "Asha Rao"]).json["Customer"]?["Id"]?
                    .stringValue)
            let invoiceID = try #require(
                try await create(client, token, "invoice", invoiceBody(customer: customerID, docNumber: "INV-9"))
                    .json["Invoice"]?["Id"]?.stringValue)
            func payment(_ amount: String) -> JSONValue {
                [
                    "CustomerRef": ["value": .string(customerID)], "TotalAmt": .number(amount),
                    "DepositToAccountRef": ["value": "3"],
                    "Line": [
                        [
                            "Amount": .number(amount),
                            "LinkedTxn": [["TxnId": .string(invoiceID), "TxnType": "Invoice"]],
                        ]
                    ],
                ]
            }
            let paid = try await create(client, token, "payment", payment("20000.00"))
            #expect(paid.status == .ok && paid.json["Payment"]?["UnappliedAmt"] == .number("0"))
            let invoice = try await call(client, .get, "/v3/company/\(realm)/invoice/\(invoiceID)", token: token)
            #expect(invoice.json["Invoice"]?["Balance"] == .number("33100"))
            let over = try await create(client, token, "payment", payment("40000.00"))
            #expect(over.status == .badRequest && fault(over).code == "6000")

            // Voiding the payment makes the invoice owe it all again.
            let payment = try #require(paid.json["Payment"])
            let voided = try await call(
                client, .post, "/v3/company/\(realm)/payment?operation=void", token: token,
                json: ["Id": payment["Id"] ?? .null, "SyncToken": payment["SyncToken"] ?? .null])
            #expect(voided.status == .ok && voided.json["Payment"]?["TotalAmt"] == .number("0"))
            let restored = await sandbox.objects(realmID: realm, entity: "Invoice").first {
                $0["Id"] == .string(invoiceID)
            }
            #expect(restored?["Balance"] == .number("53100"))
        }
    }

    @Test func aRepeatedRequestIDReturnsTheFirstAnswerWithoutASecondWrite() async throws {
        try await withSandbox { sandbox, client, token in
            let first = try await create(client, token, "customer", ["DisplayName": "Ravi"], requestID: "job_1")
            let second = try await create(client, token, "customer", ["DisplayName": "Ravi"], requestID: "job_1")
            #expect(first.status == .ok && second.status == .ok)
            #expect(first.json["Customer"]?["Id"] == second.json["Customer"]?["Id"])
            #expect(await sandbox.objects(realmID: realm, entity: "Customer").count == 1)
        }
    }

    @Test func queriesFilterPageCountAndRefuseOr() async throws {
        try await withSandbox { _, client, token in
            for index in 1...5 {
                _ = try await create(client, token, "customer", ["DisplayName": .string("Parent \(index)")])
            }
            func query(_ text: String) async throws -> Answer {
                let encoded = text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? text
                return try await call(client, .get, "/v3/company/\(realm)/query?query=\(encoded)", token: token)
            }
            let one = try await query("select * from Customer where DisplayName = 'Parent 3'")
            #expect(one.json["QueryResponse"]?["Customer"]?.arrayValue?.count == 1)
            let page = try await query(
                "SELECT * FROM Customer WHERE DisplayName LIKE 'Parent%' ORDERBY DisplayName DESC STARTPOSITION 2 MAXRESULTS 2"
            )
            #expect(
                page.json["QueryResponse"]?["Customer"]?.arrayValue?.map { $0["DisplayName"] } == [
                    "Parent 4", "Parent 3",
                ])
            #expect(page.json["QueryResponse"]?["startPosition"] == 2 && page.json["QueryResponse"]?["maxResults"] == 2)
            let count = try await query(
                "select count(*) from Customer where DisplayName IN ('Parent 1', 'Parent 2', 'X')")
            #expect(count.json["QueryResponse"]?["totalCount"] == 2)
            let none = try await query("select * from Customer where DisplayName = 'Nobody'")
            #expect(none.json["QueryResponse"] == [:])
            let or = try await query("select * from Customer where DisplayName = 'A' OR DisplayName = 'B'")
            #expect(or.status == .badRequest && fault(or).code == "4000")
            let posted = try await call(
                client, .post, "/v3/company/\(realm)/query", token: token,
                text: "select * from Account where AcctNum = '4000'")
            #expect(posted.json["QueryResponse"]?["Account"]?.arrayValue?.first?["Name"] == "Tuition Income")
        }
    }

    @Test func aQueryInTheQueryStringIsReadAsAFormField() async throws {
        try await withSandbox { _, client, token in
            _ = try await create(client, token, "customer", ["DisplayName": "Parent + Guardian"])
            // `curl -G --data-urlencode` and HTML forms write a space as `+`, and a `+` as `%2B`.
            let plus = try await call(
                client, .get,
                "/v3/company/\(realm)/query?query=select+*+from+Customer+where+DisplayName+%3D+%27Parent+%2B+Guardian%27",
                token: token)
            #expect(plus.status == .ok)
            #expect(
                plus.json["QueryResponse"]?["Customer"]?.arrayValue?.map { $0["DisplayName"] } == ["Parent + Guardian"])
            let escaped = try await call(
                client, .get, "/v3/company/\(realm)/query?minorversion=75&query=select%20count(*)%20from%20Customer",
                token: token)
            #expect(escaped.json["QueryResponse"]?["totalCount"] == 1)
        }
    }

    @Test func goingOverTheRealmsLimitsIsThrottledAndCounted() async throws {
        var limits = QuickBooksOnlineSandbox.Limits()
        limits.requestsPerMinute = 5
        try await withSandbox(QuickBooksOnlineSandbox(limits: limits)) { sandbox, client, token in
            for _ in 0..<5 {
                #expect(try await call(client, .get, "/v3/company/\(realm)/item/7", token: token).status == .ok)
            }
            let throttled = try await call(client, .get, "/v3/company/\(realm)/item/7", token: token)
            #expect(throttled.status == .tooManyRequests)
            #expect(fault(throttled).message == "message=ThrottleExceeded; errorCode=003001; statusCode=429")
            #expect(await sandbox.limitViolations == 1)
            await sandbox.advance(by: 61)
            #expect(try await call(client, .get, "/v3/company/\(realm)/item/7", token: token).status == .ok)
            await sandbox.setMaintenance(true)
            #expect(
                try await call(client, .get, "/v3/company/\(realm)/item/7", token: token).status == .serviceUnavailable)
        }
    }
}

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
        /// The body as text (the consent page's HTML).
        var text = ""
    }

    /// Runs `body` against a sandbox whose app `client-1` holds a token for the realm.
    func withSandbox(
        _ sandbox: QuickBooksOnlineSandbox = QuickBooksOnlineSandbox(),
        _ body: @Sendable (QuickBooksOnlineSandbox, any TestClientProtocol, String) async throws -> Void
    ) async throws {
        await sandbox.registerClient(
            id: "client-1", secret: "secret-1", redirectURIs: ["https://ledgerwire.test/oauth/callback"])
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
                status: response.status, json: (try? JSONValue(parsing: bytes)) ?? .null, headers: response.headers,
                text: String(decoding: bytes, as: UTF8.self))
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

    /// Opens the consent page of `authorizeURI`, then submits its form as the person would (Connect, the company
    /// `realmID` or the first one offered).
    func consent(
        _ client: any TestClientProtocol, _ authorizeURI: String, realmID: String? = nil,
        decision: QuickBooksConsent.Decision = .connect
    ) async throws -> Answer {
        let page = try await call(client, .get, authorizeURI, token: nil)
        #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8", "\(page.json)")
        let form = try #require(QuickBooksConsent(authorizeURL: authorizeURI, realmID: realmID, decision: decision))
        return try await call(
            client, .post, form.action, token: nil, text: form.body,
            headers: [.contentType: QuickBooksConsent.contentType])
    }

    func fault(_ answer: Answer) -> (code: String?, message: String?, type: String?) {
        let error = answer.json["Fault"]?["Error"]?.arrayValue?.first
        return (error?["code"]?.stringValue, error?["Message"]?.stringValue, answer.json["Fault"]?["type"]?.stringValue)
    }

    @Test func oauthIssuesRotatesAndRefusesReusedAndExpiredTokens() async throws {
        try await withSandbox { sandbox, client, _ in
            let authorize = try await consent(
                client,
                "/connect/oauth2?client_id=client-1&response_type=code&scope=com.intuit.quickbooks.accounting"
                    + "&redirect_uri=https://ledgerwire.test/oauth/callback&state=s1")
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
        try await withSandbox { sandbox, client, token in
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

            // With custom transaction numbers on, a DocNumber already used is refused.
            await sandbox.setCustomTransactionNumbers(realmID: realm, true)
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
                    "Line": [
                        [
                            "Amount": 10, "DetailType": "SalesItemLineDetail",
                            "SalesItemLineDetail": ["ItemRef": ["value": "999"]],
                        ]
                    ],
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

    // MARK: What QuickBooks refuses

    @Test func aLineWithoutAmountOrDetailTypeIsRefused() async throws {
        try await withSandbox { sandbox, client, token in
            let customer = try await create(client, token, "customer", ["DisplayName": "Meera Iyer"])
            let customerID = try #require(customer.json["Customer"]?["Id"]?.stringValue)
            func invoice(_ line: JSONValue) -> JSONValue {
                ["CustomerRef": ["value": .string(customerID)], "Line": [line]]
            }
            let noAmount = try await create(
                client, token, "invoice",
                invoice([
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": ["ItemRef": ["value": "7"], "Qty": 1, "UnitPrice": 100],
                ]))
            #expect(noAmount.status == .badRequest && fault(noAmount).code == "2020")
            #expect(noAmount.json["Fault"]?["Error"]?.arrayValue?.first?["element"] == "Line.Amount")
            let noKind = try await create(
                client, token, "invoice",
                invoice(["Amount": 100, "SalesItemLineDetail": ["ItemRef": ["value": "7"]]]))
            #expect(noKind.status == .badRequest && fault(noKind).code == "2020")
            #expect(noKind.json["Fault"]?["Error"]?.arrayValue?.first?["element"] == "Line.DetailType")
            #expect(await sandbox.count(realmID: realm, entity: "Invoice") == 0)
        }
    }

    @Test func aPaymentAppliesOnlyToItsOwnCustomersInvoicesAndIsNeverNegative() async throws {
        try await withSandbox { sandbox, client, token in
            var customers: [String] = []
            for name in ["Asha Rao", "Vikram Das"] {
                let made = try await create(client, token, "customer", ["DisplayName": .string(name)])
                customers.append(try #require(made.json["Customer"]?["Id"]?.stringValue))
            }
            let invoiceID = try #require(
                try await create(client, token, "invoice", invoiceBody(customer: customers[0], docNumber: "INV-1"))
                    .json["Invoice"]?["Id"]?.stringValue)
            func payment(customer: String, total: String, linked: JSONValue) -> JSONValue {
                [
                    "CustomerRef": ["value": .string(customer)], "TotalAmt": .number(total),
                    "Line": [["Amount": .number(total), "LinkedTxn": [linked]]],
                ]
            }
            let invoiceLink: JSONValue = ["TxnId": .string(invoiceID), "TxnType": "Invoice"]
            let stranger = try await create(
                client, token, "payment", payment(customer: customers[1], total: "1000.00", linked: invoiceLink))
            #expect(stranger.status == .badRequest && fault(stranger).code == "6000")
            let notAnInvoice = try await create(
                client, token, "payment",
                payment(customer: customers[0], total: "1000.00", linked: ["TxnId": "1", "TxnType": "Deposit"]))
            #expect(notAnInvoice.status == .badRequest && fault(notAnInvoice).code == "2500")
            let negative = try await create(
                client, token, "payment",
                ["CustomerRef": ["value": .string(customers[0])], "TotalAmt": -500, "Line": []])
            #expect(negative.status == .badRequest && fault(negative).code == "6000")
            #expect(await sandbox.count(realmID: realm, entity: "Payment") == 0)
            let invoice = await sandbox.objects(realmID: realm, entity: "Invoice").first
            #expect(invoice?["Balance"] == .number("53100"))
            // A line linking nothing is not applied: the payment keeps it unapplied.
            let unlinked = try await create(
                client, token, "payment",
                ["CustomerRef": ["value": .string(customers[0])], "TotalAmt": 700, "Line": [["Amount": 700]]])
            #expect(unlinked.status == .ok && unlinked.json["Payment"]?["UnappliedAmt"] == .number("700"))
        }
    }

    @Test func aBatchNeedsItemsEachWithItsOwnBId() async throws {
        try await withSandbox { sandbox, client, token in
            func batch(_ items: [JSONValue]) async throws -> Answer {
                try await call(
                    client, .post, "/v3/company/\(realm)/batch?minorversion=75", token: token,
                    json: ["BatchItemRequest": .array(items)])
            }
            let empty = try await batch([])
            #expect(empty.status == .badRequest && fault(empty).code == "2020")
            let missing = try await batch([["operation": "create", "Customer": ["DisplayName": "A"]]])
            #expect(missing.status == .badRequest && fault(missing).code == "2020")
            #expect(missing.json["Fault"]?["Error"]?.arrayValue?.first?["element"] == "bId")
            let repeated = try await batch([
                ["bId": "1", "operation": "create", "Customer": ["DisplayName": "A"]],
                ["bId": "1", "operation": "create", "Customer": ["DisplayName": "B"]],
            ])
            #expect(repeated.status == .badRequest && fault(repeated).code == "6000")
            #expect(await sandbox.count(realmID: realm, entity: "Customer") == 0)
            let fine = try await batch([
                ["bId": "1", "operation": "create", "Customer": ["DisplayName": "C"]],
                ["bId": "2", "operation": "create", "Customer": ["DisplayName": "D"]],
            ])
            #expect(fine.status == .ok && fine.json["BatchItemResponse"]?.arrayValue?.count == 2)

            // Items run independently: an invoice cannot use the customer the item before it creates.
            let last = try #require(
                fine.json["BatchItemResponse"]?.arrayValue?.last?["Customer"]?["Id"]?.stringValue.flatMap { Int($0) })
            let next = String(last + 1)
            let dependent = try await batch([
                ["bId": "c", "operation": "create", "Customer": ["DisplayName": "Nila"]],
                [
                    "bId": "i", "operation": "create",
                    "Invoice": [
                        "CustomerRef": ["value": .string(next)],
                        "Line": [
                            [
                                "Amount": 100, "DetailType": "SalesItemLineDetail",
                                "SalesItemLineDetail": ["ItemRef": ["value": "7"]],
                            ]
                        ],
                    ],
                ],
            ])
            let answers = dependent.json["BatchItemResponse"]?.arrayValue ?? []
            #expect(answers.first?["Customer"]?["Id"] == .string(next))
            #expect(answers.last?["Fault"]?["Error"]?.arrayValue?.first?["code"] == "2500")
            #expect(await sandbox.count(realmID: realm, entity: "Invoice") == 0)
        }
    }

    @Test func aRequestIDIsAtMostFiftyCharactersThirtySixInABatchAndReplaysOnlyItsOwnOperation() async throws {
        try await withSandbox { sandbox, client, token in
            let long = String(repeating: "r", count: 51)
            let refused = try await create(client, token, "customer", ["DisplayName": "Ravi"], requestID: long)
            #expect(refused.status == .badRequest && fault(refused).code == "6000")
            #expect(
                refused.json["Fault"]?["Error"]?.arrayValue?.first?["Detail"]?.stringValue?.contains(
                    "more than 50 characters")
                    == true)
            let fifty = String(repeating: "f", count: 50)
            #expect(
                try await create(client, token, "customer", ["DisplayName": "Ravi"], requestID: fifty).status == .ok)
            let batch = try await call(
                client, .post, "/v3/company/\(realm)/batch?requestid=\(String(repeating: "b", count: 37))",
                token: token,
                json: ["BatchItemRequest": [["bId": "1", "operation": "create", "Customer": ["DisplayName": "Anu"]]]])
            #expect(batch.status == .badRequest && fault(batch).code == "6000")
            #expect(await sandbox.count(realmID: realm, entity: "Customer") == 1)

            // A read with the requestid of a stored create is read, not answered with the create.
            let created = try await create(client, token, "customer", ["DisplayName": "Kiran"], requestID: "job_7")
            let read = try await call(
                client, .get, "/v3/company/\(realm)/account/1?requestid=job_7", token: token)
            #expect(created.json["Customer"] != nil)
            #expect(
                read.status == .ok && read.json["Account"]?["Name"] == "Tuition Income" && read.json["Customer"] == nil)
        }
    }

    @Test func aQueryNamesPropertiesItsEntityHasInQuickBooksClauseOrder() async throws {
        try await withSandbox { _, client, token in
            _ = try await create(client, token, "customer", ["DisplayName": "Parent 1"])
            func query(_ text: String) async throws -> Answer {
                let encoded = text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? text
                return try await call(client, .get, "/v3/company/\(realm)/query?query=\(encoded)", token: token)
            }
            let unknown = try await query("select * from Customer where Nickname = 'Parent 1'")
            #expect(unknown.status == .badRequest && fault(unknown).code == "4001")
            #expect(
                unknown.json["Fault"]?["Error"]?.arrayValue?.first?["Detail"]
                    == "QueryValidationError: Property Nickname not found for Entity Customer")
            let unknownOrder = try await query("select * from Customer ORDERBY Nickname")
            #expect(unknownOrder.status == .badRequest && fault(unknownOrder).code == "4001")
            for text in [
                "select * from Customer MAXRESULTS 10 STARTPOSITION 1",
                "select * from Customer ORDERBY DisplayName WHERE DisplayName = 'Parent 1'",
                "select * from Customer STARTPOSITION 1 ORDERBY DisplayName",
                "select * from Customer AND DisplayName = 'Parent 1'",
                "select * from Customer where Active = true WHERE DisplayName = 'Parent 1'",
            ] {
                let answer = try await query(text)
                #expect(answer.status == .badRequest && fault(answer).code == "4000", "\(text)")
            }
            let email = try await query("select * from Customer where PrimaryEmailAddr = 'x@example.com'")
            #expect(email.status == .ok)
            let ordered = try await query(
                "select * from Customer where Active = true ORDERBY DisplayName STARTPOSITION 1 MAXRESULTS 10")
            #expect(ordered.json["QueryResponse"]?["Customer"]?.arrayValue?.count == 1)
        }
    }

    @Test func changeDataCaptureNeedsEntities() async throws {
        try await withSandbox { _, client, token in
            let since = QBOCompany.time(Date().addingTimeInterval(-3600))
            let missing = try await call(
                client, .get, "/v3/company/\(realm)/cdc?changedSince=\(since)", token: token)
            #expect(missing.status == .badRequest && fault(missing).code == "2020")
            #expect(missing.json["Fault"]?["Error"]?.arrayValue?.first?["element"] == "entities")
            let named = try await call(
                client, .get, "/v3/company/\(realm)/cdc?entities=Customer&changedSince=\(since)", token: token)
            #expect(named.status == .ok)
        }
    }

    @Test func revokingNeedsTheClientsCredentials() async throws {
        try await withSandbox { sandbox, client, token in
            func revoke(_ credentials: String) async throws -> Answer {
                try await call(
                    client, .post, "/v2/oauth2/tokens/revoke", token: nil, json: ["token": .string(token)],
                    headers: [.authorization: "Basic " + Data(credentials.utf8).base64EncodedString()])
            }
            let wrongSecret = try await revoke("client-1:wrong")
            let wrongClient = try await revoke("someone:secret-1")
            #expect(wrongSecret.status == .unauthorized && wrongClient.status == .unauthorized)
            #expect(await sandbox.revocations == 0)
            let revoked = try await revoke("client-1:secret-1")
            #expect(revoked.status == .ok)
            #expect(await sandbox.revocations == 1)
        }
    }

    @Test func authorizeNeedsAKnownScopeAndARegisteredRedirectURI() async throws {
        try await withSandbox { _, client, _ in
            func authorize(scope: String?, redirect: String) async throws -> Answer {
                var uri = "/connect/oauth2?client_id=client-1&response_type=code&state=s1&redirect_uri=\(redirect)"
                if let scope { uri += "&scope=\(scope)" }
                return try await call(client, .get, uri, token: nil)
            }
            func parameters(_ answer: Answer) -> [String: String] {
                let location = answer.headers[.location].flatMap(URLComponents.init(string:))
                return Dictionary((location?.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { first, _ in first }
            }
            let registered = "https://ledgerwire.test/oauth/callback"
            let unregistered = try await authorize(
                scope: "com.intuit.quickbooks.accounting", redirect: "https://evil.test/oauth/callback")
            #expect(unregistered.status == .badRequest && unregistered.headers[.location] == nil)
            let loopback = try await authorize(
                scope: "com.intuit.quickbooks.accounting", redirect: "http://127.0.0.1:9/callback")
            #expect(loopback.status == .badRequest, "a client with registered URIs accepts only those")
            let noScope = try await authorize(scope: nil, redirect: registered)
            #expect(noScope.status == .found && parameters(noScope)["error"] == "invalid_request")
            #expect(parameters(noScope)["code"] == nil && parameters(noScope)["state"] == "s1")
            let wrongScope = try await authorize(scope: "com.intuit.quickbooks.everything", redirect: registered)
            #expect(wrongScope.status == .found && parameters(wrongScope)["error"] == "invalid_scope")
            let page = try await authorize(scope: "com.intuit.quickbooks.accounting%20openid", redirect: registered)
            #expect(page.status == .ok && page.headers[.location] == nil, "a valid request shows the consent page")
            let granted = try await consent(
                client,
                "/connect/oauth2?client_id=client-1&response_type=code&state=s1&redirect_uri=\(registered)"
                    + "&scope=com.intuit.quickbooks.accounting%20openid")
            #expect(granted.status == .found && parameters(granted)["code"] != nil)
        }
    }

    @Test func aClientRegisteredWithoutRedirectURIsAcceptsLoopbackOnes() async throws {
        let sandbox = QuickBooksOnlineSandbox()
        await sandbox.registerClient(id: "cli", secret: "s")
        #expect(await sandbox.redirectAllowed(clientID: "cli", uri: "http://127.0.0.1:8080/oauth/callback"))
        #expect(await sandbox.redirectAllowed(clientID: "cli", uri: "http://localhost/look"))
        #expect(await !sandbox.redirectAllowed(clientID: "cli", uri: "https://ledgerwire.test/oauth/callback"))
        #expect(await !sandbox.redirectAllowed(clientID: "cli", uri: "http://127.0.0.1.evil.test/callback"))
    }
}

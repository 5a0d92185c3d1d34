import Foundation
import GRDB
import Sandbox
import TestSupport
import Testing

/// What an attacker on the open internet can send, sent to the real `ledgerwire` binary. After each, the server must
/// still answer and must have stored nothing it should not.
@Suite(.serialized) struct HostileInputTests {
    static let admin = ["authorization": "Bearer \(ServerProcess.adminToken)"]

    /// Rows in `table` (optionally `where`), read from the server's database file.
    static func count(_ table: String, where condition: String = "1", in directory: TemporaryDirectory) async throws
        -> Int
    {
        try await DatabaseQueue(path: directory.database).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(condition)") ?? -1
        }
    }

    static func expectAlive(_ server: ServerProcess, _ comment: Comment? = nil) async {
        let health = await server.call("GET", "/health")
        #expect(health?.0 == 200, comment)
    }

    @Test func webhookHeadersFromOutsideNeverTrapAndStoreNothing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        let signer = Signer()
        try await server.addBillingSecret(signer.secret)
        let body = ServeProcessTests.customerEvent("cus_hostile")
        let good = signer.headers(for: body, id: "msg_hostile")

        // The request of the issue: it used to end the process with "Illegal instruction".
        for timestamp in [
            "-9223372036854775808", "9223372036854775807", "99999999999999999999999", "-1", "1e10", "", " 1",
            "0x10", "١٢٣",
        ] {
            var headers = good
            headers["webhook-timestamp"] = timestamp
            headers["webhook-signature"] = "v1,AAAA"
            let answer = await server.call("POST", "/webhooks/billing", headers: headers, body: body)
            #expect(answer?.0 == 401, "timestamp \(timestamp)")
            await Self.expectAlive(server, "after timestamp \(timestamp)")
        }
        // Too many signatures, a huge id, signatures that are not base64.
        var many = good
        many["webhook-signature"] =
            Array(repeating: "v1,AAAA", count: 9).joined(separator: " ")
            + " \(good["webhook-signature"]!)"
        #expect(await server.call("POST", "/webhooks/billing", headers: many, body: body)?.0 == 401)
        var longID = good
        longID["webhook-id"] = String(repeating: "x", count: 8_000)
        #expect(await server.call("POST", "/webhooks/billing", headers: longID, body: body)?.0 == 401)
        var garbage = good
        garbage["webhook-signature"] = "v1,%%%%% v1,==== v1, ,,,, v2"
        #expect(await server.call("POST", "/webhooks/billing", headers: garbage, body: body)?.0 == 401)
        // A QuickBooks notification with a signature that is not base64 and none at all.
        #expect(
            await server.call("POST", "/webhooks/quickbooks", headers: ["intuit-signature": "%%%"], body: body)?.0
                == 401)
        #expect(await server.call("POST", "/webhooks/quickbooks", body: body)?.0 == 401)

        await Self.expectAlive(server)
        #expect(try await Self.count("deliveries", in: directory) == 0)
        // The genuine delivery still goes through afterwards.
        #expect(await server.call("POST", "/webhooks/billing", headers: good, body: body)?.0 == 200)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    @Test func hostileSignedBodiesAreRefusedAndKeptForReplay() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        let signer = Signer()
        try await server.addBillingSecret(signer.secret)
        func post(_ body: [UInt8]) async -> Int? {
            await server.call(
                "POST", "/webhooks/billing", headers: signer.headers(for: body), body: body)?.0
        }

        let deep =
            Array(repeating: UInt8(ascii: "["), count: 200_000) + Array(repeating: UInt8(ascii: "]"), count: 200_000)
        #expect(await post(deep) == 400)
        #expect(await post([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]) == 400)  // {"\xff\xfe":1}
        let hugeAmount = Array(
            #"""
            {"type":"invoice.issued","timestamp":"2026-11-21T09:00:00Z","tenant_id":"t1","data":{"id":"inv_1",
             "number":"INV-1","customer_id":"cus_1","currency":"GBP","issue_date":"2026-11-21","due_date":"2026-12-21",
             "status":"issued","subtotal":"99999999999999999999999.00","tax_total":"0.00",
             "total":"1e400","lines":[{"id":"l1","description":"fee","quantity":"1e999",
             "unit_amount":"-0","amount":"NaN","revenue_account":"4000"}],"updated_at":"2026-11-21T09:00:00Z"}}
            """#.utf8)
        #expect(await post(hugeAmount) == 422)
        let hugeNumbers = Array(
            #"{"type":"customer.created","timestamp":"99999-99-99T99:99:99Z","tenant_id":1e308,"data":-1e999}"#.utf8)
        #expect(await post(hugeNumbers) == 422)

        await Self.expectAlive(server)
        #expect(try await Self.count("deliveries", where: "status = 'rejected'", in: directory) == 4)
        #expect(try await Self.count("deliveries", where: "status <> 'rejected'", in: directory) == 0)
        #expect(try await Self.count("records", in: directory) == 0)

        // Over the size limit, said or not: 413 and nothing stored.
        let large = Array(repeating: UInt8(ascii: " "), count: (1 << 20) + 1)
        #expect(await post(large) == 413)
        let connection = try RawConnection(port: server.port)
        let chunk = String(repeating: "a", count: 65_536)
        connection.send(
            "POST /webhooks/billing HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n"
                + signer.headers(for: []).map { "\($0.key): \($0.value)\r\n" }.joined() + "\r\n")
        for _ in 0..<17 { connection.send("10000\r\n\(chunk)\r\n") }
        #expect(connection.status() == 413)
        await Self.expectAlive(server)
        #expect(try await Self.count("deliveries", in: directory) == 4)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    /// `POST /webhooks/xero` from the open internet, with the webhook key configured as the contract says (webhook
    /// source `xero`): a missing or wrong `x-xero-signature` is a bare 401 and stores nothing; signed bodies that are
    /// too big, too many, not UTF-8, too deep, out of range or of the wrong types are refused with a bare 4xx (the
    /// ones read kept `rejected` for replay); the server stays up and a genuine delivery goes through afterwards.
    @Test func hostileXeroDeliveriesAreRefusedBareAndTheServerStaysUp() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../webhooks/xero").standardized
        func fixture(_ name: String) throws -> [UInt8] {
            Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))
        }
        let key = String(decoding: try fixture("webhook-key.txt"), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let source = Array(#"{"source":"xero","secret":"\#(key)"}"#.utf8)
        let added = await server.call(
            "POST", "/api/v1/webhook-sources", headers: Self.admin.merging(["content-type": "application/json"]) { $1 },
            body: source)
        #expect(added?.0 == 201, "the webhook key is registered as source xero")

        /// Posts `body` with `signature` (none when `nil`): the status, and whether the answer had no body.
        func post(_ body: [UInt8], signature: String?) async -> (status: Int?, bare: Bool) {
            let answer = await server.call(
                "POST", "/webhooks/xero", headers: signature.map { ["x-xero-signature": $0] } ?? [:], body: body)
            return (answer?.0, answer?.1.isEmpty == true)
        }
        func signed(_ body: [UInt8]) async -> (status: Int?, bare: Bool) {
            await post(body, signature: XeroWebhookSender.signature(body: body, webhookKey: key))
        }

        // Signatures that are missing, not base64, far too long, another body's, or made with another key.
        let genuine = try fixture("batch-two-organisations.json")
        let otherBody = try fixture("spec-contact-update.json")
        for signature in [
            nil, "%%%not base64", String(repeating: "A", count: 20_000) + "==", "====",
            XeroWebhookSender.signature(body: otherBody, webhookKey: key),
            XeroWebhookSender.signature(body: genuine, webhookKey: "another key"),
        ] {
            let answer = await post(genuine, signature: signature)
            #expect(answer.status == 401 && answer.bare, "signature \(String(describing: signature?.prefix(30)))")
        }
        #expect(try await Self.count("deliveries", in: directory) == 0, "an unsigned body is never kept")

        // Over the size limit, signed: 413, nothing kept.
        let large = Array(repeating: UInt8(ascii: " "), count: (1 << 20) + 1)
        let tooLarge = await signed(large)
        #expect(tooLarge.status == 413 && tooLarge.bare)
        await Self.expectAlive(server, "after a body over the limit")

        // Signed bodies that are not Xero's: each a bare 400 (not JSON) or 422 (not its shape).
        let tooMany = Array(
            (#"{"events":["# + Array(repeating: "{}", count: 10_001).joined(separator: ",")
                + #"],"firstEventSequence":1,"lastEventSequence":1,"entropy":"E"}"#).utf8)
        let deep =
            Array(repeating: UInt8(ascii: "["), count: 200_000) + Array(repeating: UInt8(ascii: "]"), count: 200_000)
        let event =
            #"{"resourceUrl":"https://api.xero.com/api.xro/2.0/Contacts/717f2bfc-c6d4-41fd-b238-3f2f0c0cf777","#
            + #""resourceId":"717f2bfc-c6d4-41fd-b238-3f2f0c0cf777","eventDateUtc":"2024-06-21T01:15:39.902","#
            + #""eventType":"UPDATE","eventCategory":"CONTACT","tenantId":"c2cc9b6e-9458-4c7d-93cc-f02b81b0594f","#
            + #""tenantType":"ORGANISATION"}"#
        let cases: [(name: String, body: [UInt8], status: Int)] = [
            ("10,001 events", tooMany, 422),
            ("bad UTF-8", [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D], 400),
            ("deep nesting", deep, 400),
            (
                "huge and negative sequence numbers",
                Array(
                    (#"{"events":[\#(event)],"firstEventSequence":99999999999999999999999,"#
                        + #""lastEventSequence":-1,"entropy":"E"}"#).utf8), 422
            ),
            (
                "numbers beyond a double",
                Array(
                    (#"{"events":[\#(event)],"firstEventSequence":1e400,"lastEventSequence":-1e400,"#
                        + #""entropy":"E"}"#).utf8), 422
            ),
            (
                "wrong types",
                Array(#"{"events":"all","firstEventSequence":"1","lastEventSequence":true,"entropy":7}"#.utf8), 422
            ),
            (
                "events of the wrong types",
                Array(
                    (#"{"events":[1,"x",null,[],{"tenantId":5,"resourceId":[],"eventDateUtc":1e999,"#
                        + #""eventCategory":{},"eventType":"UPDATE"}],"firstEventSequence":1,"lastEventSequence":1,"#
                        + #""entropy":"E"}"#).utf8), 422
            ),
        ]
        for (name, body, status) in cases {
            let answer = await signed(body)
            #expect(answer.status == status && answer.bare, "\(name): \(String(describing: answer.status))")
            await Self.expectAlive(server, "after \(name)")
        }
        #expect(
            try await Self.count("deliveries", where: "source = 'xero' AND status = 'rejected'", in: directory)
                == cases.count)
        // With no events it is an intent-to-receive, whatever its numbers: a bare 200, and nothing kept.
        let intent = await signed(
            Array(#"{"events":[],"firstEventSequence":99999999999999999999,"lastEventSequence":-1,"entropy":7}"#.utf8))
        #expect(intent.status == 200 && intent.bare)
        #expect(try await Self.count("deliveries", where: "status <> 'rejected'", in: directory) == 0)

        // Xero's genuine delivery, as signed in webhooks/xero/: a bare 200 (kept unroutable: no organisation is
        // connected here), and the same again is the same delivery.
        let signature = String(decoding: try fixture("batch-two-organisations.signature"), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        for _ in 0..<2 {
            let answer = await post(genuine, signature: signature)
            #expect(answer.status == 200 && answer.bare)
        }
        #expect(
            try await Self.count("deliveries", where: "source = 'xero' AND status <> 'rejected'", in: directory) == 1)
        await Self.expectAlive(server)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    @Test func malformedHTTPAndOversizedHeadersLeaveTheServerUp() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)

        // 40 KB of header: under Hummingbird's own 80 KiB limit, over Ledgerwire's 32 KiB (`http.maxHeaderBytes`).
        for header in [
            "x-padding: \(String(repeating: "a", count: 40_000))\r\n",
            (0..<900).map { "x-\($0): \(String(repeating: "b", count: 40))\r\n" }.joined(),
        ] {
            let huge = try RawConnection(port: server.port)
            huge.send("GET /health HTTP/1.1\r\nHost: x\r\n\(header)\r\n")
            let answer = huge.receive(timeout: .seconds(10)) { $0.count > 12 }
            #expect(answer.closed || answer.bytes.count > 12, "the server answered or closed the connection")
            #expect(!answer.bytes.starts(with: Array("HTTP/1.1 200".utf8)), "an oversized header was served")
        }
        // Just under the limit is served.
        let fits = try RawConnection(port: server.port)
        fits.send("GET /health HTTP/1.1\r\nHost: x\r\nx-padding: \(String(repeating: "a", count: 30_000))\r\n\r\n")
        #expect(fits.status() == 200)

        for junk in [
            [UInt8](repeating: 0, count: 4096), Array("\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}".utf8),
            Array("GET / HTTP/9.9\r\n\r\n".utf8),
            Array("POST /webhooks/billing HTTP/1.1\r\ncontent-length: -5\r\n\r\n".utf8),
            Array("POST /webhooks/billing HTTP/1.1\r\ncontent-length: 99999999999999999999999\r\n\r\n".utf8),
            Array("GET /api/v1/\u{FF}\u{00} HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
        ] {
            let connection = try RawConnection(port: server.port)
            connection.send(junk)
            _ = connection.receive(timeout: .seconds(2)) { $0.count > 12 }
            await Self.expectAlive(server, "after \(junk.prefix(20))")
        }
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    /// One request on its own connection, as bytes go on the wire: the answer's status and its header lines.
    static func exchange(_ server: ServerProcess, _ request: String) throws -> (status: Int?, head: String) {
        let connection = try RawConnection(port: server.port)
        connection.send(request)
        let (bytes, _) = connection.receive(timeout: .seconds(10)) {
            $0.count > 12 && $0.contains(UInt8(ascii: "\n")) && String(decoding: $0, as: UTF8.self).contains("\r\n\r\n")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let head = String(text.prefix { $0 != "\u{0}" }.components(separatedBy: "\r\n\r\n")[0])
        return (head.hasPrefix("HTTP/1.1 ") ? Int(head.dropFirst(9).prefix(3)) : nil, head)
    }

    /// The value `Set-Cookie` gives `name` in `head`.
    static func cookie(_ name: String, in head: String) -> String? {
        for line in head.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("set-cookie: \(name)=") {
            return String(line.dropFirst("set-cookie: \(name)=".count).prefix { $0 != ";" })
        }
        return nil
    }

    /// The dashboard's cookies, forms and queries, as an attacker shapes them: refused or bounded, never a trap, and
    /// the server answers after each.
    @Test func dashboardCookiesFormsAndQueriesFromOutsideNeverTrap() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        let password = "correct horse battery staple"
        let user = Array(
            #"{"email":"fm@school.test","name":"Fiona","role":"finance_manager","tenant_id":"school-1","password":"\#(password)"}"#
                .utf8)
        #expect(await server.call("POST", "/api/v1/users", headers: Self.admin, body: user)?.0 == 201)

        // Cookies that are not a session: the sign-in page, or a refusal of the header, never a page or a trap.
        for cookie in [
            "lw_session=" + String(repeating: "a", count: 20_000), "lw_session=%FF%00%0D", "lw_session=\u{FF}\u{FE}",
            (0..<800).map { "c\($0)=v" }.joined(separator: "; "), "lw_session", "=; ;=;lw_session==",
        ] {
            let (status, _) = try Self.exchange(server, "GET /records HTTP/1.1\r\nHost: x\r\nCookie: \(cookie)\r\n\r\n")
            #expect([303, 400, 431].contains(status ?? 0), "\(cookie.prefix(40)): \(String(describing: status))")
        }

        // The sign-in form: too big, shredded, badly encoded, or without its token — refused plainly.
        let (_, formPage) = try Self.exchange(server, "GET /sign-in HTTP/1.1\r\nHost: x\r\n\r\n")
        let formCookie = try #require(Self.cookie("lw_sign_in", in: formPage))
        for body in [
            String(repeating: "a", count: 2 << 20), String(repeating: "&", count: 200_000),
            "_form=\(formCookie)&email=%FF%FE%&password=%%%", "email=fm%40school.test&password=x",
            String(repeating: "email=a&", count: 50_000),
        ] {
            let (status, _) = try Self.exchange(
                server,
                "POST /sign-in HTTP/1.1\r\nHost: x\r\nCookie: lw_sign_in=\(formCookie)\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            #expect([401, 403, 413].contains(status ?? 0), "\(body.prefix(40)): \(String(describing: status))")
        }
        await Self.expectAlive(server)

        // Signed in, the pages' queries and forms out of bounds: a plain refusal, never a 500.
        let signIn = "_form=\(formCookie)&next=%2F&email=fm%40school.test&password=correct+horse+battery+staple"
        let (signedIn, head) = try Self.exchange(
            server,
            "POST /sign-in HTTP/1.1\r\nHost: x\r\nCookie: lw_sign_in=\(formCookie)\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(signIn.utf8.count)\r\n\r\n\(signIn)"
        )
        #expect(signedIn == 303, "\(head)")
        let session = try #require(Self.cookie("lw_session", in: head))
        let asUser = "Host: x\r\nCookie: lw_session=\(session)\r\n"
        for path in [
            "/records?q=" + String(repeating: "x", count: 300), "/records?cursor=-1",
            "/records?cursor=99999999999999999999999", "/records?q=%00%FF&type=%FF", "/records/%00",
            "/activity?status=%FF&platform=" + String(repeating: "p", count: 5_000), "/conflicts?cursor=abc",
            "/records/rec_x/links/int_y/find?q=" + String(repeating: "q", count: 200),
            "/settings/school?tenant=" + String(repeating: "t", count: 5_000),
        ] {
            let (status, _) = try Self.exchange(server, "GET \(path) HTTP/1.1\r\n\(asUser)\r\n")
            #expect([200, 400, 404, 422].contains(status ?? 0), "\(path.prefix(60)): \(String(describing: status))")
        }
        for body in ["", String(repeating: "_csrf=x&", count: 100_000), String(repeating: "z", count: 2 << 20)] {
            let (status, _) = try Self.exchange(
                server,
                "POST /records/rec_x/links/int_y/exclude HTTP/1.1\r\n\(asUser)"
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            #expect([403, 413].contains(status ?? 0), "\(body.prefix(40)): \(String(describing: status))")
        }
        await Self.expectAlive(server)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    /// Sage 50 uploads shaped by an attacker (`POST …/imports` as multipart, `MultipartFormData`): no boundary, an empty
    /// or absurd one, no delimiter, parts cut short, thousands of empty parts, nested quotes, bytes that are not text.
    /// Each is refused with a 4xx problem saying what to send, never a trap; nothing is confirmed or audited; the
    /// server answers after each, and a genuine upload goes through afterwards.
    @Test func hostileMultipartUploadsAreRefusedNeverATrap() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        let created = await server.call(
            "POST", "/api/v1/integrations", headers: Self.admin,
            body: Array(#"{"tenant_id":"school","platform":"sage_50","name":"Sage 50 accounts"}"#.utf8))
        let integration = try #require(
            created.flatMap { try? JSONSerialization.jsonObject(with: $0.1) as? [String: Any] }?["id"] as? String,
            "\(created.map { String(decoding: $0.1, as: UTF8.self) } ?? "no answer")")
        let path = "/api/v1/integrations/\(integration)/imports"
        let boundary = "lw-hostile"
        func part(_ disposition: String, _ content: String) -> String {
            "--\(boundary)\r\nContent-Disposition: \(disposition)\r\n\r\n\(content)\r\n"
        }
        let form = "multipart/form-data; boundary=\(boundary)"
        var noise = SystemRandomNumberGenerator()
        let random = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &noise) }
        let cases: [(name: String, contentType: String, body: [UInt8])] = [
            ("no boundary", "multipart/form-data", Array("--x\r\n\r\nx".utf8)),
            ("an empty boundary", "multipart/form-data; boundary=", Array("--\r\n\r\n--".utf8)),
            ("an unterminated quoted boundary", "multipart/form-data; boundary=\"abc", Array("--abc".utf8)),
            (
                "a boundary of 10,000 bytes", "multipart/form-data; boundary=" + String(repeating: "b", count: 10_000),
                Array(("--" + String(repeating: "b", count: 10_000) + "\r\n").utf8)
            ),
            ("no delimiter", form, Array("Date,Type\r\n".utf8)),
            ("headers never ended", form, Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"".utf8)),
            (
                "a part never closed", form,
                Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nDate,Type".utf8)
            ),
            ("no field named file", form, Array((part("form-data; name=\"other\"", "x") + "--\(boundary)--").utf8)),
            (
                "nested quotes in the name", form,
                Array((part(#"form-data; name="fi\"le"; name="\"; filename="\\"#, "x") + "--\(boundary)--").utf8)
            ),
            ("20,000 empty parts", form, Array((String(repeating: "--\(boundary)\r\n\r\n\r\n", count: 20_000)).utf8)),
            ("random bytes", form, random),
            (
                "a file that is not UTF-8", form,
                Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".utf8) + [
                    0xFF, 0xFE, 0, 0xC3,
                ]
                    + Array("\r\n--\(boundary)--\r\n".utf8)
            ),
        ]
        for hostile in cases {
            var headers = Self.admin
            headers["content-type"] = hostile.contentType
            let answer = await server.call("POST", path, headers: headers, body: hostile.body)
            let status = answer?.0 ?? 0
            #expect((400..<500).contains(status), "\(hostile.name): \(status)")
            if let answer, status != 413 {
                let problem = try? JSONSerialization.jsonObject(with: answer.1) as? [String: Any]
                #expect(problem?["detail"] != nil || problem?["errors"] != nil, "\(hostile.name): \(problem ?? [:])")
            }
            await Self.expectAlive(server, "after \(hostile.name)")
        }
        #expect(
            try await Self.count("integration_audit_log", where: "action = 'integration.imported'", in: directory) == 0)

        // A genuine upload, Sage's audit trail of a company with nothing yet, goes through afterwards.
        let company = Sage50Company(
            name: "Hillside School", financialYearStart: Sage50Date(day: 1, month: 4, year: 2026)!,
            programDate: Sage50Date(day: 30, month: 11, year: 2026)!)
        var headers = Self.admin
        headers["content-type"] = form
        let genuine = await server.call(
            "POST", path, headers: headers,
            body: Array(
                (part("form-data; name=\"file\"; filename=\"audit.csv\"", company.auditTrailCSV())
                    + "--\(boundary)--\r\n").utf8))
        #expect(genuine?.0 == 200, "\(genuine.map { String(decoding: $0.1, as: UTF8.self) } ?? "no answer")")
        #expect(
            try await Self.count("integration_audit_log", where: "action = 'integration.imported'", in: directory) == 1)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    /// A SOAP call to `/qbwc` as the Web Connector sends one, with `fields` (already escaped) in `operation`.
    static func soap(_ operation: String, _ fields: String) -> [UInt8] {
        Array(
            ("<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope "
                + "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>"
                + "<\(operation) xmlns=\"http://developer.intuit.com/\">\(fields)</\(operation)></soap:Body>"
                + "</soap:Envelope>").utf8)
    }

    @Test func hostileWebConnectorCallsAreRefusedNeverATrap() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        let created = await server.call(
            "POST", "/api/v1/integrations", headers: Self.admin,
            body: Array(
                #"{"tenant_id":"school","platform":"quickbooks_desktop","name":"QB","settings":{"username":"qb"}}"#
                    .utf8))
        let settings = try #require(
            created.flatMap { try? JSONSerialization.jsonObject(with: $0.1) as? [String: Any] }?["settings"]
                as? [String: Any],
            "\(created.map { String(decoding: $0.1, as: UTF8.self) } ?? "no answer")")
        let password = try #require(settings["password"] as? String)
        let headers = [
            "content-type": "text/xml; charset=utf-8", "soapaction": "\"http://developer.intuit.com/authenticate\"",
        ]
        var noise = SystemRandomNumberGenerator()
        let random = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &noise) }
        let laughs =
            "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
            + "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body>&b;</soap:Body>"
            + "</soap:Envelope>"
        // Refused as SOAP faults (HTTP 500, as SOAP 1.1 has it).
        let faults: [(name: String, body: [UInt8])] = [
            ("an empty body", []), ("random bytes", random), ("entities", Array(laughs.utf8)),
            ("an empty processing instruction", Array("<?x?><a/>".utf8)),
            ("not UTF-8", [0x3C, 0x61, 0xFF, 0xFE, 0x3E]),
            (
                "20,000 levels",
                Array((String(repeating: "<a>", count: 20_000) + String(repeating: "</a>", count: 20_000)).utf8)
            ),
            ("an unknown operation", Self.soap("dropTables", "")),
            (
                "two megabytes with no session",
                Self.soap(
                    "receiveResponseXML",
                    "<ticket>forged</ticket><response>\(String(repeating: "&lt;x/&gt;", count: 300_000))</response>")
            ),
            (
                "a version of 10^40",
                Self.soap(
                    "sendRequestXML",
                    "<ticket>x</ticket><qbXMLMajorVers>1\(String(repeating: "0", count: 40))</qbXMLMajorVers>")
            ),
        ]
        for hostile in faults {
            let answer = await server.call("POST", "/qbwc", headers: headers, body: hostile.body)
            #expect(answer?.0 == 500, "\(hostile.name): \(answer?.0 ?? 0)")
            #expect(
                answer.map { String(decoding: $0.1, as: UTF8.self).contains("faultstring") } == true, "\(hostile.name)")
            await Self.expectAlive(server, "after \(hostile.name)")
        }
        // Answered in the Web Connector's own terms: a ticket nobody issued, half a megabyte of user name.
        let answers: [(name: String, body: [UInt8], contains: String)] = [
            (
                "a ticket nobody issued",
                Self.soap("receiveResponseXML", "<ticket>forged</ticket><response>&lt;QBXML/&gt;</response>"),
                "<receiveResponseXMLResult>-1<"
            ),
            (
                "a made-up ticket's error", Self.soap("getLastError", "<ticket>forged</ticket>"),
                "ticket parameter is invalid"
            ),
            (
                "half a megabyte of user name",
                Self.soap(
                    "authenticate",
                    "<strUserName>\(String(repeating: "q", count: 500_000))</strUserName><strPassword>\(password)</strPassword>"
                ),
                "<string>nvu</string>"
            ),
        ]
        for hostile in answers {
            let answer = await server.call("POST", "/qbwc", headers: headers, body: hostile.body)
            #expect(answer?.0 == 200, "\(hostile.name)")
            #expect(
                answer.map { String(decoding: $0.1, as: UTF8.self).contains(hostile.contains) } == true,
                "\(hostile.name): \(answer.map { String(decoding: $0.1.prefix(500), as: UTF8.self) } ?? "")")
            await Self.expectAlive(server, "after \(hostile.name)")
        }
        #expect(try await Self.count("web_connector_sessions", in: directory) == 0)

        // The genuine Web Connector signs in; a session's answer that is not qbXML is refused in words.
        let signIn = await server.call(
            "POST", "/qbwc", headers: headers,
            body: Self.soap("authenticate", "<strUserName>qb</strUserName><strPassword>\(password)</strPassword>"))
        let text = signIn.map { String(decoding: $0.1, as: UTF8.self) } ?? ""
        #expect(!text.contains("nvu"), "\(text)")
        let ticket = try #require(
            text.components(separatedBy: "<string>").dropFirst().first?.components(separatedBy: "</string>").first)
        #expect(try await Self.count("web_connector_sessions", in: directory) == 1)
        // Within the session, an answer of two megabytes is read (and refused in words: it is not qbXML).
        let large = await server.call(
            "POST", "/qbwc", headers: headers,
            body: Self.soap(
                "receiveResponseXML",
                "<ticket>\(ticket)</ticket><response>\(String(repeating: "&lt;x/&gt;", count: 300_000))</response>"))
        #expect(large?.0 == 200)
        #expect(large.map { String(decoding: $0.1, as: UTF8.self).contains("Result>-1<") } == true)
        for response in ["&lt;!DOCTYPE x [&lt;!ENTITY a 'b'&gt;]&gt;&lt;QBXML/&gt;", "&lt;?x?&gt;", "not xml at all"] {
            let answer = await server.call(
                "POST", "/qbwc", headers: headers,
                body: Self.soap("receiveResponseXML", "<ticket>\(ticket)</ticket><response>\(response)</response>"))
            #expect(answer.map { String(decoding: $0.1, as: UTF8.self).contains("Result>-1<") } == true, "\(response)")
            let error = await server.call(
                "POST", "/qbwc", headers: headers, body: Self.soap("getLastError", "<ticket>\(ticket)</ticket>"))
            #expect(error.map { String(decoding: $0.1, as: UTF8.self).contains("could not be read") } == true)
        }

        // Guessing: after ten wrong passwords from one address, even the right one is refused for a while.
        for guess in 0..<10 {
            _ = await server.call(
                "POST", "/qbwc", headers: headers,
                body: Self.soap("authenticate", "<strUserName>qb</strUserName><strPassword>guess\(guess)</strPassword>")
            )
        }
        let throttled = await server.call(
            "POST", "/qbwc", headers: headers,
            body: Self.soap("authenticate", "<strUserName>qb</strUserName><strPassword>\(password)</strPassword>"))
        #expect(throttled.map { String(decoding: $0.1, as: UTF8.self).contains("<string>nvu</string>") } == true)
        #expect(
            try await Self.count(
                "integration_audit_log", where: "action = 'web_connector.sign_in_failed'", in: directory) == 12)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    @Test func everyWayAroundTheBearerKeyIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        let token = ServerProcess.adminToken
        let create = Array(#"{"name":"intruder","role":"admin"}"#.utf8)
        let basic = Data("admin:\(token)".utf8).base64EncodedString()
        for headers: [String: String] in [
            [:], ["authorization": "Bearer"], ["authorization": "Bearer "], ["authorization": "bearer"],
            ["authorization": "Basic \(basic)"], ["authorization": "Bearer \(token)x"],
            ["authorization": "Bearer \(token.dropLast())"], ["authorization": "Token \(token)"],
            ["authorization": "Bearer \(token.uppercased())"], ["x-api-key": token],
            ["cookie": "token=\(token)"], ["authorization": "Bearer \u{0}\(token)"],
        ] {
            let answer = await server.call("POST", "/api/v1/api-keys", headers: headers, body: create)
            #expect(answer?.0 == 401, "\(headers)")
        }
        let query = await server.call("POST", "/api/v1/api-keys?access_token=\(token)", body: create)
        #expect(query?.0 == 401)
        // Paths that might slip past the authenticated group.
        for path in [
            "/api/v1/../api/v1/api-keys", "/api/v1/./api-keys", "//api/v1/api-keys", "/api/v1//api-keys",
            "/api/v1/api-keys%2F", "/api/v1/%61pi-keys", "/API/V1/api-keys", "/api/v1/api-keys/", "/api/v1/api-keys#",
        ] {
            let connection = try RawConnection(port: server.port)
            connection.send(
                "POST \(path) HTTP/1.1\r\nHost: x\r\ncontent-length: \(create.count)\r\n\r\n"
                    + String(decoding: create, as: UTF8.self))
            let status = connection.status()
            #expect([400, 401, 404, 405].contains(status ?? 0), "\(path): \(String(describing: status))")
        }
        await Self.expectAlive(server)
        #expect(try await Self.count("api_keys", in: directory) == 0)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    @Test func repeatedBadKeysFromOneAddressAreThrottled() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        for attempt in 0..<20 {
            let answer = await server.call(
                "GET", "/api/v1/api-keys", headers: ["authorization": "Bearer guess-\(attempt)"])
            #expect(answer?.0 == 401)
        }
        // The address has used up its tries: even the right key waits now, so guessing cannot go on.
        let throttled = await server.call("GET", "/api/v1/api-keys", headers: Self.admin)
        #expect(throttled?.0 == 429)
        await Self.expectAlive(server)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    @Test func aShortAdminTokenStopsTheServerWithAClearMessage() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (status, output) = try await ServerProcess.run(
            ["serve", "--port", "0", "--database", directory.database], in: directory.url,
            environment: ["LEDGERWIRE_ADMIN_TOKEN": "change-me"])
        #expect(status != 0)
        #expect(output.contains("at least 32"), "\(output)")
    }

    @Test func absurdSettingsAreRefusedOrBoundedNeverATrap() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (status, output) = try await ServerProcess.run(
            ["serve", "--port", "70000", "--database", directory.database], in: directory.url)
        #expect(status != 0)
        #expect(output.contains("65535"), "\(output)")
        let server = try await ServerProcess(
            database: directory.database, directory: directory.url,
            environment: [
                "LEDGERWIRE_RETENTION_DAYS": "200000000000000",
                "LEDGERWIRE_RETENTION_NOTIFICATION_DAYS": "200000000000000",
                "LEDGERWIRE_HTTP_REQUEST_READ_TIMEOUT_SECONDS": "9223372036854775807",
                "LEDGERWIRE_HTTP_MAX_CONNECTIONS": "-5",
            ])
        await Self.expectAlive(server)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    @Test func metricsCanRequireAKey() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(
            database: directory.database, directory: directory.url,
            environment: ["LEDGERWIRE_METRICS_REQUIRE_KEY": "true"])
        #expect(await server.call("GET", "/metrics")?.0 == 401)
        #expect(await server.call("GET", "/metrics", headers: Self.admin)?.0 == 200)
        #expect(await server.call("GET", "/health")?.0 == 200)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    @Test func slowlorisDoesNotStopALegitimateClient() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(
            database: directory.database, directory: directory.url,
            environment: ["LEDGERWIRE_HTTP_REQUEST_READ_TIMEOUT_SECONDS": "3"])
        // Two thousand connections, each with half a request header, and one dripping its body.
        var holders: [RawConnection] = []
        for index in 0..<2000 {
            let connection = try RawConnection(port: server.port)
            connection.send("POST /webhooks/billing HTTP/1.1\r\nHost: x\r\nwebhook-id: msg_\(index)\r\nwebhook-")
            holders.append(connection)
        }
        let dripper = try RawConnection(port: server.port)
        dripper.send("POST /api/v1/api-keys HTTP/1.1\r\nHost: x\r\ncontent-length: 1000\r\n\r\n{")

        let started = ContinuousClock.now
        #expect(await server.call("GET", "/health")?.0 == 200)
        #expect(ContinuousClock.now - started < .seconds(2))

        // The server drops them once their time is up, the dripper too, though it keeps sending.
        var dripperClosed = false
        for _ in 0..<8 where !dripperClosed {
            dripper.send(" ")
            dripperClosed = dripper.receive(timeout: .seconds(1)).closed
        }
        #expect(dripperClosed)
        for connection in holders.prefix(50) {
            #expect(connection.receive(timeout: .seconds(8)).closed)
        }
        await Self.expectAlive(server)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }

    @Test func connectionsOverTheCapAreClosedAndTheCapFreesUp() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(
            database: directory.database, directory: directory.url,
            environment: ["LEDGERWIRE_HTTP_MAX_CONNECTIONS": "20"])
        var idle: [RawConnection] = []
        for _ in 0..<20 {
            // Each is served once and kept open: all twenty are counted before the twenty-first comes.
            let connection = try RawConnection(port: server.port)
            connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(connection.status() == 200)
            idle.append(connection)
        }
        let extra = try RawConnection(port: server.port)
        extra.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = extra.receive(timeout: .seconds(5)) { $0.count > 12 }
        #expect(refused.closed && refused.bytes.isEmpty)

        idle.removeAll()
        var served = false
        for _ in 0..<50 where !served {
            served = await server.call("GET", "/health")?.0 == 200
        }
        #expect(served)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
    }
}

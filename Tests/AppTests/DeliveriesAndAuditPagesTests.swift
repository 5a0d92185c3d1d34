import Accounting
import App
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

/// The dashboard's Deliveries and Audit log pages in-process: a rejected delivery's field errors and body, replay
/// through the API's code by a finance manager (audited) and never by a viewer, each school's own deliveries, the
/// audit trail's filters and pages, and "Verify chain" saying whether the chain holds.
@Suite struct DeliveriesAndAuditPagesTests {
    typealias Browser = DashboardTests.Browser

    /// A dashboard with a finance manager and a viewer of school-1, an admin of every school, and billing's secret.
    func withDashboard(
        databasePath: String? = nil,
        _ body: @Sendable (TestApp, Client, Signer) async throws -> Void
    ) async throws {
        let app = try TestApp(databasePath: databasePath)
        let database = app.components.database
        for (email, name, role, tenant) in [
            ("fm@school.test", "Fiona Manager", User.Role.financeManager, "school-1" as String?),
            ("viewer@school.test", "Vic Viewer", .viewer, "school-1"),
            ("admin@ledgerwire.test", "Ada Admin", .admin, nil),
        ] {
            _ = try await database.addUser(
                email: email, name: name, role: role, tenantID: tenant, password: DashboardTests.password,
                actor: "test")
        }
        try await app.test { client in
            let (_, signer) = try await client.addBillingSecret()
            try await body(app, client, signer)
        }
    }

    /// Delivers a billing invoice of `tenant` whose total is not an amount: rejected, with a field error.
    func deliverRejected(_ client: Client, _ signer: Signer, tenant: String = "school-1") async throws -> String {
        let event = try Fixtures.billingEventJSON("uk-invoice.updated")
            .setting(["tenant_id"], to: .string(tenant))
            .setting(["data", "total"], to: "<b>oops</b>")
        let answer = try await client.deliver(event, signer: signer)
        let id = try #require(answer.json["delivery_id"]?.stringValue, "\(answer.json)")
        let stored = try await client.call(.get, "/api/v1/deliveries/\(id)").json
        #expect(stored["status"] == "rejected", "\(stored)")
        #expect(stored["tenant_id"] == .string(tenant), "\(stored)")
        return id
    }

    @Test func aRejectedDeliveryShowsItsFieldErrorsAndItsBodyEscaped() async throws {
        try await withDashboard { _, client, signer in
            var browser = Browser(client: client.client)
            _ = try await browser.signIn("fm@school.test")
            let empty = try await browser.get("/deliveries")
            #expect(empty.status == .ok)
            #expect(empty.text.contains("No deliveries yet."))
            #expect(empty.text.contains("<label for=\"filter-status\">Status</label>"))

            let id = try await deliverRejected(client, signer)
            let rejected = try await browser.get("/deliveries?status=rejected&source=billing")
            #expect(rejected.text.contains("href=\"/deliveries/\(id)\""))
            #expect(rejected.text.contains("data.total"))
            let accepted = try await browser.get("/deliveries?status=accepted")
            #expect(!accepted.text.contains(id))
            #expect(accepted.text.contains("No deliveries match."))

            let page = try await browser.get("/deliveries/\(id)")
            #expect(page.status == .ok)
            #expect(page.text.contains("What was wrong"))
            #expect(page.text.contains("<code>data.total</code>"))
            #expect(page.text.contains("&lt;b&gt;oops&lt;/b&gt;"))
            #expect(!page.text.contains("<b>oops</b>"))
            #expect(page.text.contains("id=\"replay-delivery\""))
        }
    }

    @Test func aLongInboxIsPagedNewestFirstKeepingItsFilter() async throws {
        try await withDashboard { app, client, _ in
            let batch = (0..<55).map { index in
                IncomingDelivery(
                    source: "billing", webhookID: "msg_page_\(index)", receivedAt: .now(),
                    tenantID: Tenant.ID("school-1"),
                    eventType: "invoice.issued", headers: [:], body: Array("{\"n\":\(index)}".utf8),
                    content: .rejected([FieldError(field: "data.total", message: "must be an amount")]))
            }
            for result in try await app.components.database.record(batch) { _ = try result.get() }
            var browser = Browser(client: client.client)
            _ = try await browser.signIn("fm@school.test")
            let first = try await browser.get("/deliveries?status=rejected")
            #expect(first.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
            #expect(first.text.components(separatedBy: "<tr id=\"delivery-").count - 1 == 50)
            let older = try #require(Browser.href(of: "Older deliveries", in: first.text))
            #expect(older.hasPrefix("/deliveries?status=rejected&cursor="))
            let second = try await browser.get(older)
            #expect(second.text.components(separatedBy: "<tr id=\"delivery-").count - 1 == 5)
            #expect(!second.text.contains("Older deliveries"))
            let stored = try await app.components.database.deliveries(page: PageRequest(limit: 55)).items
            // The newest on the first page, the five oldest on the second.
            #expect(first.text.contains(stored[54].id) && second.text.contains(stored[0].id))
            #expect(!first.text.contains(stored[0].id))
        }
    }

    @Test func aFinanceManagerReplaysARejectedDeliveryAndTheReplayIsAudited() async throws {
        try await withDashboard { app, client, signer in
            let id = try await deliverRejected(client, signer)
            var browser = Browser(client: client.client)
            _ = try await browser.signIn("fm@school.test")
            let page = try await browser.get("/deliveries/\(id)")
            let csrf = try #require(Browser.field("_csrf", in: page.text))
            let replayed = try await browser.post("/deliveries/\(id)/replay", form: [("_csrf", csrf)])
            #expect(replayed.status == .seeOther)
            #expect(replayed.headers[.location] == "/deliveries/\(id)?replayed=1")
            let after = try await browser.get("/deliveries/\(id)?replayed=1")
            #expect(after.text.contains("Replayed: it was rejected again, for the reasons below."))
            #expect(after.text.contains("<th scope=\"row\">Replays</th><td>1 (last "))

            let user = try #require(try await app.components.database.user(email: "fm@school.test"))
            let entries = try await app.components.database.auditEntries(
                action: "delivery.replayed", page: PageRequest())
            let entry = try #require(entries.items.first)
            #expect(entry.entityID == id)
            #expect(entry.actor == "user:\(user.id)")
            #expect(entry.tenantID == "school-1")

            let audit = try await browser.get("/audit?action=delivery.replayed")
            #expect(audit.text.contains("delivery \(id)"))
            #expect(audit.text.contains("user:\(user.id)"))
        }
    }

    @Test func aViewerSeesNoReplayButtonAndItsReplayIsRefused() async throws {
        try await withDashboard { app, client, signer in
            let id = try await deliverRejected(client, signer)
            var browser = Browser(client: client.client)
            _ = try await browser.signIn("viewer@school.test")
            let page = try await browser.get("/deliveries/\(id)")
            #expect(page.status == .ok)
            #expect(page.text.contains("<code>data.total</code>"))
            #expect(!page.text.contains("replay-delivery"))
            let csrf = try #require(Browser.field("_csrf", in: page.text))
            let forged = try await browser.post("/deliveries/\(id)/replay", form: [("_csrf", csrf)])
            #expect(forged.status == .forbidden)
            #expect(forged.text.contains("This needs the operator role."))
            let stored = try #require(try await app.components.database.delivery(id: id))
            #expect(stored.replays == 0)
        }
    }

    @Test func aSchoolsPersonCannotSeeOrReplayAnotherSchoolsDelivery() async throws {
        try await withDashboard { app, client, signer in
            let ours = try await deliverRejected(client, signer)
            let theirs = try await deliverRejected(client, signer, tenant: "school-2")
            var browser = Browser(client: client.client)
            _ = try await browser.signIn("fm@school.test")
            let list = try await browser.get("/deliveries")
            #expect(list.text.contains(ours))
            #expect(!list.text.contains(theirs))
            #expect(try await browser.get("/deliveries/\(theirs)").status == .notFound)
            let csrf = try #require(Browser.field("_csrf", in: list.text))
            #expect(try await browser.post("/deliveries/\(theirs)/replay", form: [("_csrf", csrf)]).status == .notFound)
            #expect(try #require(try await app.components.database.delivery(id: theirs)).replays == 0)

            var admin = Browser(client: client.client)
            _ = try await admin.signIn("admin@ledgerwire.test")
            #expect(try await admin.get("/deliveries/\(theirs)").status == .ok)
        }
    }

    @Test func auditFiltersNarrowTheListAndItIsPaged() async throws {
        try await withDashboard { app, client, _ in
            let database = app.components.database
            let ours = try await database.createIntegration(
                tenantID: "school-1", platform: .quickBooksOnline, name: "Ours", actor: "api-key:key_ours")
            let other = try await database.createIntegration(
                tenantID: "school-1", platform: .xero, name: "Other", actor: "api-key:key_other")
            _ = try await database.createIntegration(
                tenantID: "school-2", platform: .xero, name: "Theirs", actor: "api-key:key_theirs")
            for index in 0..<55 {
                _ = try await database.setIntegrationStatus(
                    id: other.id, to: index.isMultiple(of: 2) ? .disabled : .pending, actor: "api-key:key_other")
            }
            var browser = Browser(client: client.client)
            _ = try await browser.signIn("fm@school.test")

            let all = try await browser.get("/audit")
            #expect(all.status == .ok)
            #expect(all.text.contains("<td>integration.status_changed</td>"))
            #expect(!all.text.contains("key_theirs"), "another school's entries")
            #expect(!all.text.contains("verify-chain"), "only an admin of every school verifies the chain")
            let older = try #require(Browser.href(of: "Older entries", in: all.text))
            let second = try await browser.get(older)
            #expect(second.status == .ok)
            #expect(second.text.contains("api-key:key_ours"), "the oldest entries are on the second page")

            let byIntegration = try await browser.get("/audit?integration=\(ours.id)")
            #expect(byIntegration.text.contains("api-key:key_ours"))
            #expect(!byIntegration.text.contains("api-key:key_other"))
            #expect(!byIntegration.text.contains("Older entries"))

            let byActor = try await browser.get("/audit?actor=api-key%3Akey_ours")
            #expect(byActor.text.contains("<td>integration.created</td>"))
            #expect(!byActor.text.contains("<td>integration.status_changed</td>"))

            let byAction = try await browser.get("/audit?action=integration.created")
            #expect(byAction.text.contains("api-key:key_ours") && byAction.text.contains("api-key:key_other"))
            #expect(!byAction.text.contains("integration.status_changed</td>"))

            let today = String(Timestamp.now().rfc3339.prefix(10))
            let inRange = try await browser.get("/audit?action=integration.created&from=\(today)&to=\(today)")
            #expect(inRange.text.contains("api-key:key_ours"))
            let future = try await browser.get("/audit?from=2999-01-01")
            #expect(future.text.contains("No entries match."))
            let wrong = try await browser.get("/audit?from=yesterday")
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.text.contains("must be a date like 2026-12-01"))
        }
    }

    @Test func verifyChainSaysTheChainHoldsAndThenWhichEntryIsBroken() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lw-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ledgerwire.sqlite").path
        try await withDashboard(databasePath: path) { app, client, _ in
            let integration = try await app.components.database.createIntegration(
                tenantID: "school-1", platform: .quickBooksOnline, name: "Books", actor: "api-key:key_a")

            var manager = Browser(client: client.client)
            _ = try await manager.signIn("fm@school.test")
            let page = try await manager.get("/audit")
            let managerToken = try #require(Browser.field("_csrf", in: page.text))
            #expect(try await manager.post("/audit/verify", form: [("_csrf", managerToken)]).status == .forbidden)

            var admin = Browser(client: client.client)
            _ = try await admin.signIn("admin@ledgerwire.test")
            let audit = try await admin.get("/audit")
            #expect(audit.text.contains("id=\"verify-chain-button\""))
            let csrf = try #require(Browser.field("_csrf", in: audit.text))
            guard case .intact(let entries) = try await app.components.database.verifyAuditChain() else {
                throw TestFailure("the chain should hold")
            }
            let holds = try await admin.post(
                "/audit/verify", form: [("_csrf", csrf), ("action", "integration.created")])
            #expect(holds.status == .ok)
            #expect(holds.text.contains("The chain holds: \(entries) entries checked."))
            #expect(holds.text.contains("<td>integration.created</td>"))
            #expect(!holds.text.contains("<td>user.signed_in</td>"), "the list keeps its filter")

            // Someone with the file rewrites an entry.
            let queue = try DatabaseQueue(path: path)
            let seq = try await queue.write { db in
                try db.execute(sql: "DROP TRIGGER integration_audit_log_no_update")
                let seq = try Int64.fetchOne(
                    db, sql: "SELECT seq FROM integration_audit_log WHERE entity_id = ?", arguments: [integration.id])
                try db.execute(
                    sql: "UPDATE integration_audit_log SET actor = 'someone-else' WHERE seq = ?", arguments: [seq])
                return seq
            }
            try queue.close()
            let broken = try await admin.post("/audit/verify", form: [("_csrf", csrf)])
            #expect(broken.text.contains("The chain is broken at entry \(try #require(seq)) ("))
            #expect(broken.text.contains("hash does not match the entry&#39;s contents"))
        }
    }
}

extension DashboardTests.Browser {
    /// The `href` of the link whose text is `label`.
    static func href(of label: String, in text: String) -> String? {
        guard let end = text.range(of: "\">\(label)</a>") else { return nil }
        guard let start = text[..<end.lowerBound].range(of: "href=\"", options: .backwards) else { return nil }
        return String(text[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&amp;", with: "&")
    }
}

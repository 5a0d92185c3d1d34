import Accounting
import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import TestSupport
import Testing

/// `/api/v1/users`: the dashboard's people, managed by admins (issue 15, item 1).
@Suite struct UsersAPITests {
    static let password = "correct horse battery staple"

    func newUser(_ email: String, role: String = "finance_manager", tenant: String? = nil) -> JSONValue {
        var members: [String: JSONValue] = [
            "email": .string(email), "name": "Asha Rao", "role": .string(role), "password": .string(Self.password),
        ]
        if let tenant { members["tenant_id"] = .string(tenant) }
        return .object(members)
    }

    func key(_ client: Client, role: String, tenant: String? = nil) async throws -> String {
        var body: [String: JSONValue] = ["name": "k", "role": .string(role)]
        if let tenant { body["tenant_id"] = .string(tenant) }
        let created = try await client.call(.post, "/api/v1/api-keys", json: .object(body))
        return try #require(created.json["token"]?.stringValue)
    }

    func fields(_ answer: Client.Answer) -> [String] {
        answer.json["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
    }

    @Test func anAdminAddsListsShowsAndRemovesUsersWhoseHashIsNeverShown() async throws {
        let app = try TestApp()
        try await app.test { client in
            let created = try await client.call(.post, "/api/v1/users", json: newUser(" Asha@Greenfield.Example "))
            #expect(created.status == .created)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(created.json["email"] == "asha@greenfield.example")
            #expect(created.json["role"] == "finance_manager")
            #expect(created.json["tenant_id"] == .null)
            let listed = try await client.call(.get, "/api/v1/users")
            #expect(listed.json["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [id])
            #expect(try await client.call(.get, "/api/v1/users/\(id)").json == created.json)
            for answer in [created, listed] {
                let text = answer.json.canonicalString
                #expect(!text.contains("password\"") && !text.contains("scrypt") && !text.contains("correct horse"))
            }
            // The user signs in with what the admin set.
            #expect(
                try await app.components.database.signIn(
                    email: "asha@greenfield.example", password: Self.password, now: .now()) != nil)
            let audit = try await client.call(.get, "/api/v1/audit").json.canonicalString
            #expect(audit.contains("user.created") && !audit.contains("correct horse") && !audit.contains("scrypt"))

            #expect(try await client.call(.delete, "/api/v1/users/\(id)").status == .noContent)
            #expect(try await client.call(.get, "/api/v1/users/\(id)").status == .notFound)
            #expect(try await client.call(.delete, "/api/v1/users/\(id)").status == .notFound)
            #expect(
                try await client.call(.post, "/api/v1/users/\(id)/password", json: ["password": "a brand new one"])
                    .status == .notFound)
        }
    }

    @Test func resettingAPasswordEndsTheUsersSessions() async throws {
        let app = try TestApp()
        let database = app.components.database
        try await app.test { client in
            let created = try await client.call(.post, "/api/v1/users", json: newUser("asha@greenfield.example"))
            let id = try #require(created.json["id"]?.stringValue)
            let session = try #require(
                try await database.signIn(email: "asha@greenfield.example", password: Self.password, now: .now()))
            let short = try await client.call(.post, "/api/v1/users/\(id)/password", json: ["password": "short"])
            #expect(short.status == .unprocessableContent)
            #expect(fields(short) == ["password"])
            #expect(try await database.session(token: session.token, now: .now()) != nil)

            let reset = try await client.call(
                .post, "/api/v1/users/\(id)/password", json: ["password": "a brand new passphrase"])
            #expect(reset.status == .noContent)
            #expect(try await database.session(token: session.token, now: .now()) == nil)
            #expect(
                try await database.signIn(email: "asha@greenfield.example", password: Self.password, now: .now())
                    == nil)
            #expect(
                try await database.signIn(
                    email: "asha@greenfield.example", password: "a brand new passphrase", now: .now()) != nil)
        }
    }

    @Test func invalidUsersAreRefusedNamingEachField() async throws {
        try await TestApp().test { client in
            let bad = try await client.call(
                .post, "/api/v1/users",
                json: ["email": "asha.greenfield.example", "name": "Asha", "role": "owner", "password": "too short"])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.headers[.contentType] == "application/problem+json")
            #expect(Set(fields(bad)) == ["email", "role", "password"])
            let message = bad.json["errors"]?.canonicalString ?? ""
            #expect(message.contains("must be one of admin, finance_manager, viewer"))
            #expect(message.contains("must be 12 to 1,024 bytes long"))
            let missing = try await client.call(.post, "/api/v1/users", json: [:])
            #expect(Set(fields(missing)) == ["email", "name", "role", "password"])

            #expect(
                try await client.call(.post, "/api/v1/users", json: newUser("asha@greenfield.example")).status
                    == .created)
            let duplicate = try await client.call(.post, "/api/v1/users", json: newUser("ASHA@greenfield.example"))
            #expect(duplicate.status == .conflict)
            #expect(duplicate.headers[.contentType] == "application/problem+json")
            #expect(fields(duplicate) == ["email"])
            #expect(try await client.call(.get, "/api/v1/users?limit=0").status == .unprocessableContent)
        }
    }

    @Test func onlyAdminsManageUsers() async throws {
        try await TestApp().test { client in
            let created = try await client.call(.post, "/api/v1/users", json: newUser("asha@greenfield.example"))
            let id = try #require(created.json["id"]?.stringValue)
            for role in ["operator", "viewer"] {
                let token = try await key(client, role: role)
                let calls: [(HTTPRequest.Method, String)] = [
                    (.post, "/api/v1/users"), (.get, "/api/v1/users"), (.get, "/api/v1/users/\(id)"),
                    (.delete, "/api/v1/users/\(id)"), (.post, "/api/v1/users/\(id)/password"),
                ]
                for (method, uri) in calls {
                    let answer = try await client.call(
                        method, uri, token: token, json: ["password": "a brand new passphrase"])
                    #expect(answer.status == .forbidden, "\(role) \(method) \(uri)")
                }
            }
            #expect(try await client.call(.get, "/api/v1/users", token: nil).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/users/\(id)").status == .ok)
        }
    }

    @Test func aTenantsAdminManagesOnlyItsTenantsUsers() async throws {
        try await TestApp().test { client in
            let other = try await client.call(
                .post, "/api/v1/users", json: newUser("b@sherborne.example", tenant: "st-aldhelms-sherborne"))
            let otherID = try #require(other.json["id"]?.stringValue)
            let global = try await client.call(.post, "/api/v1/users", json: newUser("c@ledgerwire.example"))
            let globalID = try #require(global.json["id"]?.stringValue)
            let tenantAdmin = try await key(client, role: "admin", tenant: "greenfield")

            let own = try await client.call(
                .post, "/api/v1/users", token: tenantAdmin, json: newUser("a@greenfield.example", role: "viewer"))
            #expect(own.status == .created)
            #expect(own.json["tenant_id"] == "greenfield")
            let ownID = try #require(own.json["id"]?.stringValue)
            let elsewhere = try await client.call(
                .post, "/api/v1/users", token: tenantAdmin,
                json: newUser("d@sherborne.example", tenant: "st-aldhelms-sherborne"))
            #expect(elsewhere.status == .unprocessableContent)
            #expect(fields(elsewhere) == ["tenant_id"])

            let listed = try await client.call(.get, "/api/v1/users", token: tenantAdmin)
            #expect(listed.json["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [ownID])
            for id in [otherID, globalID] {
                #expect(try await client.call(.get, "/api/v1/users/\(id)", token: tenantAdmin).status == .notFound)
                #expect(try await client.call(.delete, "/api/v1/users/\(id)", token: tenantAdmin).status == .notFound)
                let reset = try await client.call(
                    .post, "/api/v1/users/\(id)/password", token: tenantAdmin,
                    json: ["password": "a brand new passphrase"])
                #expect(reset.status == .notFound)
            }
            #expect(try await client.call(.get, "/api/v1/users").json["items"]?.arrayValue?.count == 3)
            #expect(try await client.call(.delete, "/api/v1/users/\(ownID)", token: tenantAdmin).status == .noContent)
        }
    }

    @Test func usersArePagedLikeEveryOtherList() async throws {
        try await TestApp().test { client in
            for index in 1...3 {
                _ = try await client.call(.post, "/api/v1/users", json: newUser("user\(index)@greenfield.example"))
            }
            let first = try await client.call(.get, "/api/v1/users?limit=2")
            #expect(first.json["items"]?.arrayValue?.count == 2)
            let cursor = try #require(first.json["next_cursor"]?.stringValue)
            let second = try await client.call(.get, "/api/v1/users?limit=2&cursor=\(cursor)")
            #expect(
                second.json["items"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == [
                    "user3@greenfield.example"
                ])
            #expect(second.json["next_cursor"] == .null)
        }
    }
}

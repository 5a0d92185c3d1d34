import Accounting
import App
import Foundation
import Persistence
import Sandbox
import Testing

/// Two integrations of one school on one QuickBooks consent (a connection): the emulator rotates refresh tokens
/// and refuses a spent one (`invalid_grant`), so an integration refreshing with a token another already spent would
/// be disconnected. Neither is: the connection is refreshed once, and each uses the other's new tokens.
@Suite struct SharedConnectionTests {
    typealias World = QuickBooksWorld

    @Test func twoIntegrationsOnOneConnectionRefreshItOnceAndNeverSpendARefreshTokenTwice() async throws {
        try await World.run { world in
            let first = try await world.connect()
            let created = try await world.api(
                "POST", "/integrations",
                [
                    "tenant_id": .string(World.tenant), "platform": "quickbooks_online", "name": "Junior school books",
                    "settings": [
                        "client_id": "lw-client", "client_secret": "lw-secret",
                        "redirect_uri": .string(world.ledgerwire + "/oauth/callback"), "environment": "sandbox",
                        "api_base_url": .string(world.emulator),
                        "oauth_token_url": .string(world.emulator + "/oauth2/v1/tokens/bearer"),
                    ],
                ])
            let second = try #require(created.json["id"]?.stringValue, "\(created.json)")
            let database = world.components.database
            let connection = try #require(try await database.integration(id: first)?.connectionID)
            let attached = try await database.attachIntegration(
                id: second, tenantID: World.tenant, toConnection: connection, actor: "test")
            #expect(attached.status == .connected)
            let original = try #require(
                try await database.credentials(integrationID: first, box: world.components.box)?.tokens.refreshToken)

            // The access token has expired at QuickBooks (Ledgerwire's clock says not): the first integration's
            // read is refused, refreshes once, and reads.
            await world.sandbox.advance(by: 3601)
            #expect(try await world.api("GET", "/integrations/\(first)/remote-accounts").status == 200)
            #expect(await world.sandbox.refreshGrants == 1)
            // The second reads with the first's new access token: no refresh, none with the spent refresh token.
            #expect(try await world.api("GET", "/integrations/\(second)/remote-accounts").status == 200)
            #expect(await world.sandbox.refreshGrants == 1)
            // Which QuickBooks would have refused, disconnecting the second integration.
            let basic = Data("lw-client:lw-secret".utf8).base64EncodedString()
            let spent = try await world.call(
                "POST", world.emulator + "/oauth2/v1/tokens/bearer", token: nil,
                headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded"],
                body: Array("grant_type=refresh_token&refresh_token=\(original)".utf8))
            #expect(spent.status == 400 && spent.json["error"] == "invalid_grant", "\(spent.json)")

            // Expired again, both read at once: one refresh between them.
            await world.sandbox.advance(by: 3601)
            async let reading = world.api("GET", "/integrations/\(first)/remote-accounts")
            async let alsoReading = world.api("GET", "/integrations/\(second)/remote-accounts")
            let (one, other) = try await (reading, alsoReading)
            #expect(one.status == 200 && other.status == 200, "\(one.json) \(other.json)")
            #expect(await world.sandbox.refreshGrants == 2)
            #expect(await world.sandbox.liveGrants(realmID: World.realm) == 1, "one grant, held by the connection")
            for id in [first, second] {
                #expect(try await world.api("GET", "/integrations/\(id)").json["status"] == "connected")
            }
            #expect(try await world.events("integration.disconnected").isEmpty)

            // Deleting one integration keeps the grant the other still uses.
            #expect(try await world.api("DELETE", "/integrations/\(first)").status == 204)
            #expect(await world.sandbox.revocations == 0)
            #expect(try await world.api("GET", "/integrations/\(second)/remote-accounts").status == 200)
        }
    }
}

import Accounting
import Connectors
import SyncEngine
import TestSupport
import Testing

@testable import Persistence

/// Two integrations on one connection (one consent serving both): their tokens are refreshed once for both.
@Suite struct SharedConnectionRefreshTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    /// Both integrations' jobs run at once on an expired token: the connection is refreshed once, the second
    /// integration's jobs use the first's new tokens, and no refresh is made with a refresh token already spent.
    @Test func twoIntegrationsOnOneConnectionWhoseJobsRunAtOnceRefreshOnce() async throws {
        let authority = TokenAuthority(now: clock.now)
        let (database, integrations) = try await setUp(integrations: 2)
        let issued = authority.grant(lifetime: 3600)
        _ = try await database.saveCredentials(
            integrationID: integrations[0].id,
            OAuthTokens(
                accessToken: issued.accessToken, refreshToken: issued.refreshToken,
                accessTokenExpiresAt: clock.now().adding(.seconds(3600)), remoteTenantID: "9130"),
            expectedGeneration: nil, source: .imported, box: box, actor: "test", at: clock.now())
        let connection = try #require(try await database.integration(id: integrations[0].id)?.connectionID)
        try await database.attachIntegration(
            id: integrations[1].id, tenantID: tenant, toConnection: connection, actor: "test", at: clock.now())
        clock.advance(by: .seconds(3601))

        let connector = ScriptedConnector(authority: authority)
        try await deliver(database, "msg_1", (1...10).map { invoice("inv_\($0)") })
        let engine = engine(database, connector, concurrency: 20, perIntegration: 10)
        #expect(try await engine.runDueJobs() == 20)
        #expect(authority.refreshes == 1)
        #expect(connector.written.count == 20)
        #expect(try await database.jobs(status: .succeeded, page: PageRequest()).items.count == 20)
        for integration in integrations {
            #expect(try await database.integration(id: integration.id)?.status == .connected)
            let stored = try #require(try await database.credentials(integrationID: integration.id, box: box))
            #expect(stored.tokens.refreshToken == authority.issued.last?.refreshToken)
        }
    }
}

import Accounting
import Connectors
import GRDB
import SyncEngine
import Synchronization
import TestSupport
import Testing

@testable import Persistence

@Suite struct TokenRefreshTests: SyncScenario {
    let clock = ManualClock()
    let tenant = "school"

    /// An integration holding tokens from `authority`, whose access token expires in `lifetime` seconds.
    func connected(_ authority: TokenAuthority, lifetime: Int) async throws -> (AppDatabase, Integration, String) {
        let (database, integrations) = try await setUp()
        let issued = authority.grant(lifetime: lifetime)
        _ = try await database.saveCredentials(
            integrationID: integrations[0].id,
            OAuthTokens(
                accessToken: issued.accessToken, refreshToken: issued.refreshToken,
                accessTokenExpiresAt: clock.now().adding(.seconds(lifetime)), remoteTenantID: "9130"),
            expectedGeneration: nil, source: .imported, box: box, actor: "test", at: clock.now())
        return (database, integrations[0], issued.refreshToken)
    }

    func invoices(_ count: Int) -> [SyncCommand] {
        (1...count).map { invoice("inv_\($0)") }
    }

    @Test func twentyJobsNeedingATokenWhenItHasExpiredCauseOneRefresh() async throws {
        let authority = TokenAuthority(now: clock.now)
        let (database, integration, _) = try await connected(authority, lifetime: 3600)
        clock.advance(by: .seconds(3601))
        let connector = ScriptedConnector(authority: authority)
        try await deliver(database, "msg_1", invoices(20))
        let engine = engine(database, connector, concurrency: 20, perIntegration: 20)
        #expect(try await engine.runDueJobs() == 20)
        #expect(authority.refreshes == 1)
        #expect(connector.written.count == 20)
        #expect(try await database.jobs(status: .succeeded, page: PageRequest()).items.count == 20)
        let stored = try #require(try await database.credentials(integrationID: integration.id, box: box))
        #expect(stored.tokens.refreshToken == authority.issued.last?.refreshToken)
        #expect(stored.tokens.remoteTenantID == "9130", "refreshing keeps the realm")
    }

    /// The credentials are read and opened (AES-GCM) once, not for every job and every call: rounds after the first
    /// use them again while their stored generation is unchanged, and a refresh's result serves the rounds after it.
    @Test func roundsOfJobsOpenTheStoredCredentialsOnce() async throws {
        let authority = TokenAuthority(now: clock.now)
        let (database, _, _) = try await connected(authority, lifetime: 3600)
        let connector = ScriptedConnector(authority: authority)
        let tokens = tokens(database, connector, authority: authority)
        let engine = engine(database, connector, concurrency: 20, perIntegration: 20, tokens: tokens)
        try await deliver(database, "msg_1", invoices(20))
        #expect(try await engine.runDueJobs() == 20)
        #expect(await tokens.opens == 1)
        try await deliver(database, "msg_2", (21...40).map { invoice("inv_\($0)") })
        #expect(try await engine.runDueJobs() == 20)
        #expect(await tokens.opens == 1, "the second round read no credentials")
        clock.advance(by: .seconds(3601))
        try await deliver(database, "msg_3", (41...60).map { invoice("inv_\($0)") })
        #expect(try await engine.runDueJobs() == 20)
        #expect(authority.refreshes == 1)
        let opened = await tokens.opens
        try await deliver(database, "msg_4", (61...80).map { invoice("inv_\($0)") })
        #expect(try await engine.runDueJobs() == 20)
        #expect(await tokens.opens == opened, "the refreshed credentials serve the next round")
        #expect(connector.written.count == 80)
    }

    @Test func aRefusedAccessTokenIsRefreshedOnceAndTheSameAttemptCarriesOn() async throws {
        let authority = TokenAuthority(now: clock.now)
        let (database, _, _) = try await connected(authority, lifetime: 3600)
        authority.revokeAccessTokens()
        let connector = ScriptedConnector(authority: authority)
        try await deliver(database, "msg_1", invoices(5))
        #expect(try await engine(database, connector, perIntegration: 5).runDueJobs() == 5)
        #expect(authority.refreshes == 1)
        let jobs = try await database.jobs(page: PageRequest()).items
        #expect(jobs.allSatisfy { $0.status == .succeeded && $0.attempts == 1 })
    }

    @Test func theRotatedRefreshTokenIsSavedBeforeTheNewAccessTokenIsUsed() async throws {
        let authority = TokenAuthority(now: clock.now)
        let (database, integration, _) = try await connected(authority, lifetime: 3600)
        clock.advance(by: .seconds(3601))
        let seen = Mutex<[String?]>([])
        let box = box
        let connector = ScriptedConnector(authority: authority) { _, token in
            // At the moment a new access token reaches the platform, its refresh token is already on disk.
            let stored = try? await database.credentials(integrationID: integration.id, box: box)
            let pair = authority.issued.first { $0.accessToken == token }
            seen.withLock { $0.append(stored?.tokens.refreshToken == pair?.refreshToken ? token : nil) }
        }
        try await deliver(database, "msg_1", invoices(3))
        try await engine(database, connector).runDueJobs()
        #expect(seen.withLock { $0.count } == 3)
        #expect(seen.withLock { $0.allSatisfy { $0 != nil } })
    }

    @Test func refreshedTokensThatCannotBeSavedAreNotUsedAndTheOldRefreshTokenStillWorks() async throws {
        let authority = TokenAuthority(now: clock.now)
        let (database, integration, original) = try await connected(authority, lifetime: 3600)
        clock.advance(by: .seconds(3601))
        // The disk refuses the save (as a crash right after the platform answered would lose it).
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER full_disk BEFORE UPDATE ON connections
                    BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
                    """)
        }
        let connector = ScriptedConnector(authority: authority)
        try await deliver(database, "msg_1", invoices(1))
        let engine = engine(database, connector)
        try await engine.runDueJobs()
        #expect(authority.refreshes == 1)
        #expect(connector.pushes.isEmpty, "the unsaved access token was never used")
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .pending && job.lastError?.code == "credentials_unsaved")
        let stored = try #require(try await database.credentials(integrationID: integration.id, box: box))
        #expect(stored.tokens.refreshToken == original)

        try await database.writer.write { db in try db.execute(sql: "DROP TRIGGER full_disk") }
        clock.advance(by: .seconds(60))
        try await drain(engine, database)
        #expect(try await database.job(id: job.id)?.status == .succeeded)
        #expect(try await database.integration(id: integration.id)?.status == .connected)
        #expect(authority.refreshes == 2, "the stored refresh token was still good within the rotation grace")
    }

    @Test func aRefusedRefreshDisconnectsTheIntegrationAndItsJobsWaitForReconnection() async throws {
        let authority = TokenAuthority(now: clock.now)
        let (database, integration, _) = try await connected(authority, lifetime: 3600)
        authority.revokeAll()
        let connector = ScriptedConnector(authority: authority)
        try await deliver(database, "msg_1", invoices(3))
        let engine = engine(database, connector)
        try await engine.runDueJobs()
        #expect(try await database.integration(id: integration.id)?.status == .disconnected)
        let events = try await database.events(tenantID: tenant, type: "integration.disconnected", page: PageRequest())
        #expect(events.items.count == 1)
        #expect(events.items.first?["data"]?["reason"]?.stringValue?.contains("invalid_grant") == true)
        let jobs = try await database.jobs(page: PageRequest()).items
        #expect(jobs.allSatisfy { $0.status == .pending && $0.attempts == 0 })
        #expect(jobs.allSatisfy { $0.lastError?.code == "credentials_refused" })
        clock.advance(by: .seconds(3600))
        #expect(try await engine.runDueJobs() == 0, "nothing is tried while disconnected")

        // A person connects it again: the waiting jobs go through, each written once.
        let issued = authority.grant()
        _ = try await database.saveCredentials(
            integrationID: integration.id,
            OAuthTokens(
                accessToken: issued.accessToken, refreshToken: issued.refreshToken,
                accessTokenExpiresAt: clock.now().adding(.seconds(3600))),
            expectedGeneration: nil, source: .imported, box: box, actor: "test", at: clock.now())
        #expect(try await database.integration(id: integration.id)?.status == .connected)
        try await drain(engine, database)
        #expect(try await database.jobs(status: .succeeded, page: PageRequest()).items.count == 3)
        #expect(connector.written.count == 3)
    }

    @Test func anIntegrationWithoutCredentialsIsDisconnectedNotRetriedInALoop() async throws {
        let (database, integrations) = try await setUp()
        let connector = ScriptedConnector(authority: TokenAuthority(now: clock.now))
        try await deliver(database, "msg_1", invoices(1))
        let engine = engine(database, connector)
        #expect(try await engine.runDueJobs() == 1)
        #expect(try await database.integration(id: integrations[0].id)?.status == .disconnected)
        #expect(try await engine.runDueJobs() == 0)
        let job = try #require(try await database.jobs(page: PageRequest()).items.first)
        #expect(job.status == .pending && job.attempts == 0 && job.lastError?.code == "credentials_refused")
    }
}

import Accounting
import Foundation
import GRDB
import TestSupport
import Testing

@testable import Persistence

/// Credentials keyed by connection: one consent serving several integrations of a tenant and platform.
@Suite struct ConnectionStoreTests {
    let box = try! AppDatabase.testBox()

    func tokens(_ access: String, refresh: String, realm: String? = "9130") -> OAuthTokens {
        OAuthTokens(
            accessToken: access, refreshToken: refresh,
            accessTokenExpiresAt: Timestamp(microsecondsSinceEpoch: 1_900_000_000_000_000), remoteTenantID: realm)
    }

    /// A database whose integrations held their own credentials before connections existed upgrades: each one's
    /// tokens move, still sealed, into a connection of its own, and open as before; the next refresh saves over them.
    @Test func theMigrationMovesEachIntegrationsCredentialsIntoAConnectionOfItsOwn() async throws {
        let queue = try DatabaseQueue()
        let key = AuditKey.random()
        try AppDatabase.migrator(auditKey: key).migrate(queue, upTo: "0017 jobs waiting for unsent records")
        // Sealed as the store sealed them then: bound to the integration's id.
        let sealed = try box.seal(
            JSONValue.object(["access_token": "access-1", "refresh_token": "refresh-1"]).canonicalBytes,
            context: "credentials:int_old")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO integration_configs (id, tenant_id, platform, name, status, created_at, updated_at,
                        remote_tenant_id)
                    VALUES ('int_old', 'greenfield', 'quickbooks_online', 'A', 'connected', '2026-11-01T00:00:00Z',
                            '2026-11-01T00:00:00Z', '9130'),
                        ('int_none', 'greenfield', 'quickbooks_online', 'B', 'pending', '2026-11-02T00:00:00Z',
                            '2026-11-02T00:00:00Z', NULL);
                    INSERT INTO integration_credentials (integration_id, sealed_tokens, access_expires_at,
                        refresh_expires_at, remote_tenant_id, generation, updated_at)
                    VALUES ('int_old', ?, 1900000000000000, NULL, '9130', 4, '2026-11-01T00:00:00Z');
                    """,
                arguments: [sealed])
        }
        let database = try AppDatabase(queue, auditKey: key)
        let stored = try #require(try await database.credentials(integrationID: "int_old", box: box))
        #expect(stored.tokens.accessToken == "access-1" && stored.tokens.refreshToken == "refresh-1")
        #expect(stored.tokens.remoteTenantID == "9130" && stored.generation == 4)
        #expect(stored.connectionID == "int_old")
        #expect(try await database.integration(id: "int_old")?.connectionID == "int_old")
        #expect(try await database.credentials(integrationID: "int_none", box: box) == nil)
        #expect(try await database.integration(id: "int_none")?.connectionID == nil)
        let connections = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT id, tenant_id, platform FROM connections")
        }
        #expect(
            connections.map { [$0["id"], $0["tenant_id"], $0["platform"]] as [String] }
                == [["int_old", "greenfield", "quickbooks_online"]])
        // A refresh saves over the moved tokens, against their generation.
        let saved = try await database.saveCredentials(
            integrationID: "int_old", tokens("access-2", refresh: "refresh-2"), expectedGeneration: 4,
            source: .refreshed, box: box, actor: "token-refresh")
        #expect(saved == 5)
        #expect(try await database.credentials(integrationID: "int_old", box: box)?.tokens.refreshToken == "refresh-2")
    }

    /// Two integrations on one connection read the same tokens; a refresh saved through one is what the other reads,
    /// and deleting one keeps the connection the other still uses.
    @Test func integrationsOnOneConnectionShareItsTokensAndItOutlivesAnyOneOfThem() async throws {
        let database = try AppDatabase.inMemory()
        let first = try await database.createIntegration(
            tenantID: "greenfield", platform: .quickBooksOnline, name: "Main school", actor: "test")
        let second = try await database.createIntegration(
            tenantID: "greenfield", platform: .quickBooksOnline, name: "Junior school", actor: "test")
        _ = try await database.saveCredentials(
            integrationID: first.id, tokens("access-1", refresh: "refresh-1"), expectedGeneration: nil,
            source: .authorized, box: box, actor: "test")
        let connection = try #require(try await database.integration(id: first.id)?.connectionID)
        let attached = try await database.attachIntegration(
            id: second.id, tenantID: "greenfield", toConnection: connection, actor: "test")
        #expect(attached.status == .connected && attached.connectionID == connection)
        _ = try await database.saveCredentials(
            integrationID: first.id, tokens("access-2", refresh: "refresh-2"), expectedGeneration: 1,
            source: .refreshed, box: box, actor: "token-refresh")
        let seen = try #require(try await database.credentials(integrationID: second.id, box: box))
        #expect(seen.tokens.accessToken == "access-2" && seen.generation == 2 && seen.connectionID == connection)
        // A refresh through the second that read generation 1 saves nothing: the first already spent that token.
        #expect(
            try await database.saveCredentials(
                integrationID: second.id, tokens("access-x", refresh: "refresh-x"), expectedGeneration: 1,
                source: .refreshed, box: box, actor: "token-refresh") == nil)

        #expect(try await database.deleteIntegration(id: first.id, tenantID: nil, actor: "test"))
        #expect(try await database.credentials(integrationID: second.id, box: box)?.tokens.accessToken == "access-2")
        #expect(try await database.integrationIDs(connectionID: connection) == [second.id])
        #expect(try await database.deleteIntegration(id: second.id, tenantID: nil, actor: "test"))
        let left = try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM connections")
        }
        #expect(left == 0, "the connection goes with the last integration using it")
    }

    @Test func anIntegrationAttachesOnlyToItsOwnTenantsConnectionOfItsPlatform() async throws {
        let database = try AppDatabase.inMemory()
        let owner = try await database.createIntegration(
            tenantID: "greenfield", platform: .quickBooksOnline, name: "Main", actor: "test")
        let otherTenant = try await database.createIntegration(
            tenantID: "riverside", platform: .quickBooksOnline, name: "Riverside", actor: "test")
        let otherPlatform = try await database.createIntegration(
            tenantID: "greenfield", platform: .xero, name: "Xero", actor: "test")
        _ = try await database.saveCredentials(
            integrationID: owner.id, tokens("access-1", refresh: "refresh-1"), expectedGeneration: nil,
            source: .authorized, box: box, actor: "test")
        let connection = try #require(try await database.integration(id: owner.id)?.connectionID)
        await #expect(throws: PersistenceError.notFound(entity: "connection", id: connection)) {
            _ = try await database.attachIntegration(
                id: otherTenant.id, tenantID: nil, toConnection: connection, actor: "test")
        }
        await #expect(
            throws: PersistenceError.conflict("connection \(connection) is to quickbooks_online, not to xero")
        ) {
            _ = try await database.attachIntegration(
                id: otherPlatform.id, tenantID: nil, toConnection: connection, actor: "test")
        }
        #expect(try await database.credentials(integrationID: otherTenant.id, box: box) == nil)
        #expect(try await database.integration(id: otherPlatform.id)?.status == .pending)
    }
}

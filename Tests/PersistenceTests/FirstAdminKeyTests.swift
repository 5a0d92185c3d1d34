import Foundation
import Persistence
import TestSupport
import Testing

/// The one-time admin key of a first run: made once for a fresh database, never again for one whose keys were all
/// deleted (a clean-up after a leak must not mint a key into a log).
@Suite struct FirstAdminKeyTests {
    @Test func aDatabaseWhoseKeysWereAllDeletedGetsNoNewKey() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("first-key-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try AppDatabase.openForTests(path: path)
        let first = try #require(try await database.createFirstAdminKey(name: "first-run admin", actor: "first-run"))
        #expect(try await database.createFirstAdminKey(name: "first-run admin", actor: "first-run") == nil)
        #expect(try await database.deleteAPIKey(id: first.0.id, actor: "security"))
        #expect(try await database.createFirstAdminKey(name: "first-run admin", actor: "first-run") == nil)
    }
}

import Foundation
import TestSupport
import Testing

@testable import Persistence

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The master key file and the database are created readable by their owner only, and a key file that is there but
/// cannot be used stops the server instead of being replaced (issue 11, item 9).
@Suite struct SecretsOnDiskTests {
    let manager = FileManager.default
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("lw-disk-\(UUID())")

    func mode(_ path: String) throws -> mode_t {
        var status = stat()
        guard lstat(path, &status) == 0 else { throw PersistenceError.notFound(entity: "file", id: path) }
        return status.st_mode & 0o777
    }

    @Test func theMasterKeyFileIsCreatedOwnerOnlyInAnOwnerOnlyDirectory() throws {
        defer { try? manager.removeItem(at: root) }
        let path = root.appendingPathComponent("data/ledgerwire.sqlite.master-key").path
        let (key, created) = try MasterKeyFile.loadOrCreate(at: path)
        #expect(created)
        #expect(try mode(path) == 0o600)
        #expect(try mode(root.appendingPathComponent("data").path) == 0o700)
        #expect(try mode(root.path) == 0o700)
        let again = try MasterKeyFile.loadOrCreate(at: path)
        #expect(again.key == key && !again.created)
        _ = try SecretBox(base64MasterKey: key)
    }

    @Test func aKeyFileThatHoldsNoKeyStopsAndIsLeftAsItIs() throws {
        defer { try? manager.removeItem(at: root) }
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        let path = root.appendingPathComponent("ledgerwire.sqlite.master-key").path
        let contents = Data("not a key\n".utf8)
        #expect(manager.createFile(atPath: path, contents: contents))
        #expect(throws: PersistenceError.self) { try MasterKeyFile.loadOrCreate(at: path) }
        #expect(manager.contents(atPath: path) == contents)
    }

    /// A dangling link where the key should be: it cannot be read, and is neither followed nor replaced.
    @Test func aKeyFileThatCannotBeReadStopsAndIsLeftAsItIs() throws {
        defer { try? manager.removeItem(at: root) }
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        let path = root.appendingPathComponent("ledgerwire.sqlite.master-key").path
        let target = root.appendingPathComponent("elsewhere").path
        try manager.createSymbolicLink(atPath: path, withDestinationPath: target)
        #expect(throws: PersistenceError.self) { try MasterKeyFile.loadOrCreate(at: path) }
        #expect(try manager.destinationOfSymbolicLink(atPath: path) == target)
        #expect(!manager.fileExists(atPath: target))
    }

    /// Root reads any file whatever its mode, so this one runs only as another user.
    @Test(.enabled(if: getuid() != 0)) func anUnreadableKeyFileStopsAndIsLeftAsItIs() throws {
        defer { try? manager.removeItem(at: root) }
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        let path = root.appendingPathComponent("ledgerwire.sqlite.master-key").path
        let key = Data(SecretBox.generateMasterKey().utf8)
        #expect(manager.createFile(atPath: path, contents: key, attributes: [.posixPermissions: 0o000]))
        #expect(throws: PersistenceError.self) { try MasterKeyFile.loadOrCreate(at: path) }
        try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(manager.contents(atPath: path) == key)
    }

    @Test func theDatabaseItsLogAndItsDirectoryAreOwnerOnly() async throws {
        defer { try? manager.removeItem(at: root) }
        let path = root.appendingPathComponent("data/ledgerwire.sqlite").path
        let database = try AppDatabase.openForTests(path: path)
        _ = try await database.createAPIKey(name: "ops", role: .operator, tenantID: nil, actor: "test")
        #expect(try mode(root.appendingPathComponent("data").path) == 0o700)
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(try mode(file) == 0o600, "\(file)")
        }
    }
}

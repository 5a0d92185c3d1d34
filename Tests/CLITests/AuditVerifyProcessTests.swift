import Foundation
import GRDB
import TestSupport
import Testing

/// `ledgerwire audit verify` reads the database without changing it, with the master key the server signed the chain
/// with, and names a chain that was rewritten, truncated or had a row deleted (issue 11, item 7).
@Suite(.serialized) struct AuditVerifyProcessTests {
    /// A database whose audit log holds five entries: a webhook source and four API keys, made by a real server.
    static func auditedDatabase() async throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        try await server.addBillingSecret(Signer().secret)
        for index in 1...4 {
            let answer = await server.call(
                "POST", "/api/v1/api-keys",
                headers: ["authorization": "Bearer \(ServerProcess.adminToken)", "content-type": "application/json"],
                body: Array(#"{"name":"key \#(index)","role":"viewer"}"#.utf8))
            #expect(answer?.0 == 201)
        }
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)
        return directory
    }

    static func verify(_ directory: TemporaryDirectory, masterKey: String? = ServerProcess.masterKey) async throws
        -> (Int32, String)
    {
        try await ServerProcess.run(
            ["audit", "verify", "--database", directory.database], in: directory.url, masterKey: masterKey)
    }

    /// What someone with the file does, past the triggers that refuse it.
    static func tamper(_ directory: TemporaryDirectory, _ sql: String) async throws {
        try await DatabaseQueue(path: directory.database).write { db in
            try db.execute(sql: "DROP TRIGGER integration_audit_log_no_update")
            try db.execute(sql: "DROP TRIGGER integration_audit_log_no_delete")
            try db.execute(sql: sql)
        }
    }

    @Test func verifyNeitherChangesNorNeedsToWriteTheDatabaseFile() async throws {
        let directory = try await Self.auditedDatabase()
        defer { directory.remove() }
        let manager = FileManager.default
        // Readers may write their read marks into -shm: the database and its log are what must not change.
        let files = try manager.contentsOfDirectory(atPath: directory.url.path).filter {
            $0.hasPrefix("ledgerwire") && !$0.hasSuffix("-shm")
        }
        func snapshot() throws -> [String: Data] {
            var contents: [String: Data] = [:]
            for file in files { contents[file] = try Data(contentsOf: directory.url.appendingPathComponent(file)) }
            return contents
        }
        let before = try snapshot()
        let modified = try manager.attributesOfItem(atPath: directory.database)[.modificationDate] as? Date
        try manager.setAttributes([.posixPermissions: 0o400], ofItemAtPath: directory.database)

        let (status, output) = try await Self.verify(directory)
        #expect(status == 0, "\(output)")
        #expect(output.contains("audit chain intact: 5 entries"), "\(output)")
        #expect(try snapshot() == before)
        #expect(try manager.attributesOfItem(atPath: directory.database)[.modificationDate] as? Date == modified)
        // The database was not migrated further, and no key file was made.
        #expect(!manager.fileExists(atPath: directory.database + ".master-key"))

        // Without the master key it cannot check signatures: it says so, and still creates no key file.
        let (keyless, _) = try await Self.verify(directory, masterKey: nil)
        #expect(keyless != 0)
        #expect(!manager.fileExists(atPath: directory.database + ".master-key"))
        #expect(try snapshot() == before)
    }

    @Test func aRewrittenEntryIsReportedBroken() async throws {
        let directory = try await Self.auditedDatabase()
        defer { directory.remove() }
        try await Self.tamper(
            directory, #"UPDATE integration_audit_log SET new_value = '{"role":"admin"}' WHERE seq = 3"#)
        let (status, output) = try await Self.verify(directory)
        #expect(status == 1)
        #expect(output.contains("broken at entry 3 "), "\(output)")
    }

    @Test func aDeletedRowIsReportedBroken() async throws {
        let directory = try await Self.auditedDatabase()
        defer { directory.remove() }
        try await Self.tamper(directory, "DELETE FROM integration_audit_log WHERE seq = 2")
        let (status, output) = try await Self.verify(directory)
        #expect(status == 1)
        #expect(output.contains("broken at entry 3 "), "\(output)")
    }

    @Test func removingTheNewestEntriesIsReportedBroken() async throws {
        let directory = try await Self.auditedDatabase()
        defer { directory.remove() }
        try await Self.tamper(directory, "DELETE FROM integration_audit_log WHERE seq >= 4")
        let (status, output) = try await Self.verify(directory)
        #expect(status == 1)
        #expect(output.contains("removed"), "\(output)")
    }

    /// A key file that is there but holds no key stops `serve` before anything is opened, and is left as it was
    /// (issue 11, item 9).
    @Test func serveStopsOnAKeyFileThatHoldsNoKeyAndLeavesIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let keyFile = directory.database + ".master-key"
        let contents = Data("not a key".utf8)
        #expect(FileManager.default.createFile(atPath: keyFile, contents: contents))
        let (status, _) = try await ServerProcess.run(
            ["serve", "--port", "0", "--database", directory.database], in: directory.url, masterKey: nil)
        #expect(status != 0)
        #expect(FileManager.default.contents(atPath: keyFile) == contents)
        #expect(!FileManager.default.fileExists(atPath: directory.database))
    }
}

public import Accounting
import Foundation
import GRDB

/// Ledgerwire's store: every table behind one type, so the pipeline never sees SQL and a PostgreSQL
/// store can be added beside this one.
///
/// Files open as a `DatabasePool` in WAL mode with `synchronous=FULL` on the writer: a commit is on disk (fsync'd)
/// before it returns, so a 2xx sent after a commit means the delivery survives a crash or power loss.
public struct AppDatabase: Sendable {
    let writer: any DatabaseWriter
    /// Checkpoints the log of a file database off the writer's path; `nil` in memory.
    public let checkpointer: WALCheckpointer?
    /// Signs the audit chain and its checkpoint.
    let auditKey: AuditKey
    /// The record types each platform's integrations are pushed (`pushing(_:)`); a platform not named takes every
    /// type.
    var pushedRecordTypes: [Platform: Set<RecordType>] = [:]
    /// Hashes the dashboard users' new passwords (`hashingPasswords(with:)`).
    var passwordHasher = PasswordHasher()
    /// Finishes the jobs whose attempts end together in one transaction (`finishJob`).
    let jobFinisher: GroupCommitter<Database, FinishingJob, Bool>

    init(
        _ writer: any DatabaseWriter, auditKey: AuditKey = .random(), checkpointer: WALCheckpointer? = nil,
        migrates: Bool = true
    ) throws {
        self.writer = writer
        self.auditKey = auditKey
        self.checkpointer = checkpointer
        self.jobFinisher = Self.makeJobFinisher(writer: writer, auditKey: auditKey)
        if migrates {
            try Self.migrator(auditKey: auditKey).migrate(writer)
        }
    }

    /// This store, queueing a record's push jobs only for the integrations whose platform takes its type: the
    /// connectors' declared record types (`ConnectorRegistry.recordTypes`). A platform not named takes every type.
    public func pushing(_ recordTypes: [Platform: Set<RecordType>]) -> AppDatabase {
        var database = self
        database.pushedRecordTypes = recordTypes
        return database
    }

    /// Opens (creating directories and file as needed) and migrates the database at `path`.
    ///
    /// Directories it creates are 0700 and the file 0600, made before SQLite opens it, so its `-wal` and `-shm`
    /// (which SQLite gives the database file's mode) are owner-only too.
    /// - Parameter auditKey: signs the audit chain: ``SecretBox/auditKey``, from the master key.
    public static func open(path: String, auditKey: AuditKey) throws -> AppDatabase {
        try OwnerOnlyFiles.createDirectories(containing: path)
        try OwnerOnlyFiles.createFile(at: path)
        let pool = try DatabasePool(path: path, configuration: configuration())
        // GRDB's WAL set-up lowers the writer to `synchronous = NORMAL` after `prepareDatabase` runs, which
        // would only fsync at checkpoints; raise it again on the writer, the one connection that commits.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        return try AppDatabase(pool, auditKey: auditKey, checkpointer: WALCheckpointer(path: path))
    }

    /// Opens the database at `path` to read only (`audit verify`): the file is not created, migrated or written to.
    /// - Parameter auditKey: checks the audit chain's signatures.
    public static func openReadOnly(path: String, auditKey: AuditKey) throws -> AppDatabase {
        guard FileManager.default.fileExists(atPath: path) else {
            throw PersistenceError.notFound(entity: "database", id: path)
        }
        var readOnly = configuration()
        readOnly.readonly = true
        return try AppDatabase(DatabaseQueue(path: path, configuration: readOnly), auditKey: auditKey, migrates: false)
    }

    /// A private, migrated in-memory database for tests and tools; its audit key lives as long as it does.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration()))
    }

    /// A private, migrated in-memory database whose audit chain is signed under `auditKey`.
    static func inMemory(auditKey: AuditKey) throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration()), auditKey: auditKey)
    }

    static func configuration() -> Configuration {
        var configuration = Configuration()
        // Another process (the CLI's `audit verify`, a second node during a rolling restart) may hold the lock.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // Savepoints' statement journals in memory, not in a temporary file per transaction.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // 64 MiB of page cache and memory-mapped reads: hot index pages stay put under load.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
            // Checkpoint every ~16 MiB of WAL rather than 4 MiB: hot pages are copied back once, not four times.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 4000")
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            AppDatabase.statements.observe(db)
        }
        return configuration
    }

    /// The names of the migrations applied, in order.
    public func appliedMigrations() async throws -> [String] {
        try await writer.read { db in try Self.migrator(auditKey: auditKey).appliedMigrations(db) }
    }

    /// The writer's `PRAGMA synchronous` (2 is FULL: the WAL is fsync'd at every commit).
    public func synchronousLevel() async throws -> Int {
        try await writer.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }
}

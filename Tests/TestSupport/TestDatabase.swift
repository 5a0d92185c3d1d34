public import Persistence

extension AppDatabase {
    /// The master key tests sign audit chains with: 32 bytes of 42.
    public static func testBox() throws -> SecretBox { try SecretBox(masterKey: Array(repeating: 42, count: 32)) }

    /// Opens and migrates the database file at `path`, its audit chain signed under ``testBox()``'s key.
    public static func openForTests(path: String) throws -> AppDatabase {
        try open(path: path, auditKey: testBox().auditKey)
    }
}

import Crypto
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Seals secrets (webhook secrets, OAuth tokens, client secrets) with AES-256-GCM under the master key.
///
/// Each sealed value is bound to its row with associated data (`webhook_source:src_…`), so a sealed
/// secret copied into another row does not open.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    /// - Parameter masterKey: exactly 32 bytes.
    public init(masterKey: [UInt8]) throws(PersistenceError) {
        guard masterKey.count == 32 else {
            throw .invalidMasterKey("the master key must be 32 bytes, it is \(masterKey.count)")
        }
        self.key = SymmetricKey(data: masterKey)
    }

    /// Parses `LEDGERWIRE_MASTER_KEY`: base64 of 32 bytes.
    public init(base64MasterKey: String) throws(PersistenceError) {
        guard let bytes = Data(base64Encoded: base64MasterKey.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .invalidMasterKey("the master key is not base64")
        }
        try self.init(masterKey: Array(bytes))
    }

    /// The key the audit chain is signed with, derived from the master key (HKDF).
    public var auditKey: AuditKey { AuditKey(masterKey: key) }

    /// The key the dashboard's form tokens are made with, derived from the master key (HKDF).
    public var formTokenKey: FormTokenKey { FormTokenKey(masterKey: key) }

    /// A new random 32-byte key, base64-encoded.
    public static func generateMasterKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    public func seal(_ plaintext: some DataProtocol, context: String) throws -> Data {
        guard let combined = try AES.GCM.seal(plaintext, using: key, authenticating: Data(context.utf8)).combined
        else { throw PersistenceError.secretUnreadable }
        return combined
    }

    public func open(_ sealed: Data, context: String) throws(PersistenceError) -> Data {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        } catch {
            throw .secretUnreadable
        }
    }
}

/// The master key file created beside the database when `LEDGERWIRE_MASTER_KEY` is not set.
public enum MasterKeyFile {
    /// Reads the key at `path` without ever creating one (`audit verify`).
    /// - Throws: ``PersistenceError/invalidMasterKey(_:)`` naming the file when it is missing, cannot be read, or
    ///   does not hold a key.
    public static func load(at path: String) throws(PersistenceError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .invalidMasterKey(
                "the master key file \(path) cannot be read; restore it or set LEDGERWIRE_MASTER_KEY")
        }
        let key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            _ = try SecretBox(base64MasterKey: key)
        } catch {
            throw .invalidMasterKey("the master key file \(path) does not hold a master key (base64 of 32 bytes)")
        }
        return key
    }

    /// Reads the key at `path`, or creates one there when nothing is there at all.
    ///
    /// The file is created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`: a file or link that appears meanwhile is
    /// never overwritten or followed) with mode 0600 from its first byte, in directories created 0700, and synced
    /// before it is used. A file that is there but cannot be read or holds no key is an error, never replaced: the
    /// secrets sealed under the key it held would be lost with it.
    /// - Returns: the key and whether it was created now.
    public static func loadOrCreate(at path: String) throws(PersistenceError) -> (key: String, created: Bool) {
        try OwnerOnlyFiles.createDirectories(containing: path)
        let key = SecretBox.generateMasterKey()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            guard code == EEXIST else {
                throw .invalidMasterKey(
                    "could not create the master key file \(path): \(OwnerOnlyFiles.describe(code))")
            }
            return (try load(at: path), false)
        }
        let bytes = Array(key.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = written == bytes.count && fsync(descriptor) == 0
        let code = errno
        close(descriptor)
        guard synced else {
            unlink(path)
            throw .invalidMasterKey("could not write the master key file \(path): \(OwnerOnlyFiles.describe(code))")
        }
        return (key, true)
    }
}

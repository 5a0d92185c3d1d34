import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates files and directories readable by their owner only, from the moment they exist: the directory holding the
/// database and the master key is 0700, the key file and the database file 0600 (SQLite gives its `-wal` and `-shm`
/// the database file's mode). Never a create-then-chmod, which would leave them readable in between.
enum OwnerOnlyFiles {
    /// Creates the directories above `path` that do not exist yet, each with mode 0700. Existing ones are left as
    /// they are (`/var/lib` is not ours to change).
    static func createDirectories(containing path: String) throws(PersistenceError) {
        var missing: [String] = []
        var directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        while !directory.isEmpty, directory != "/", !FileManager.default.fileExists(atPath: directory) {
            missing.append(directory)
            directory = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        }
        for directory in missing.reversed() where mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw .fileSystem("could not create the directory \(directory): \(describe(errno))")
        }
    }

    /// Creates an empty file at `path` with mode 0600 unless something is already there.
    /// - Returns: whether it was created now.
    @discardableResult
    static func createFile(at path: String) throws(PersistenceError) -> Bool {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST { return false }
            throw .fileSystem("could not create \(path): \(describe(code))")
        }
        close(descriptor)
        return true
    }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}

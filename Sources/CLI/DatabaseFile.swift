import App
import Foundation
import Logging
import Persistence

/// The database file a command works on, with its absolute path and whether it was there before the command ran,
/// so a server started in another directory says it made a new, empty database instead of doing it silently.
struct DatabaseFile {
    /// As configured (`--database`, `database.path`): relative paths are relative to the working directory.
    let path: String
    /// `path` made absolute against the working directory.
    let absolutePath: String
    /// Whether the file existed when the command began.
    let existed: Bool

    init(path: String) {
        self.path = path
        absolutePath = URL(fileURLWithPath: path).standardizedFileURL.path
        existed = FileManager.default.fileExists(atPath: path)
    }

    /// Runs `open`, naming the file when SQLite could not open it; errors that already say what to change (a bad
    /// setting, a master key file that holds no key, a directory that cannot be made) are passed on as they are.
    func opening<Value>(_ open: () throws -> Value) throws -> Value {
        do {
            return try open()
        } catch let error as ConfigurationError {
            throw error
        } catch let error as PersistenceError {
            throw error
        } catch {
            throw CommandFailure(
                "could not open the database \(absolutePath): \(error); check that it is a Ledgerwire database this "
                    + "user may read and write, or pass --database")
        }
    }

    /// Logs (at info) and prints to standard error which file the server uses and whether it was created now.
    func announce(logger: Logger) {
        logger.info(
            existed ? "database.opened" : "database.created",
            metadata: ["database.path": "\(absolutePath)", "database.created": "\(!existed)"])
        CommandOutput.standardError(
            existed
                ? "ledgerwire: using the database \(absolutePath)\n"
                : "ledgerwire: created a new, empty database \(absolutePath) (there was none; pass --database or set "
                    + "database.path to use another)\n")
    }
}

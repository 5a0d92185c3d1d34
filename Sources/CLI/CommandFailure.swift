import Foundation

/// Why a command stopped, in words that name what was wrong and what to do; ArgumentParser prints it after `Error: `
/// and exits 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// What commands write for people rather than for pipes.
enum CommandOutput {
    /// Writes `text` to standard error at once (unbuffered), so a supervisor or a test reading the pipe sees it.
    static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

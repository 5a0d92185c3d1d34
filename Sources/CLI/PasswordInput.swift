import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a password from standard input: one line from a pipe or file, or, at a terminal, typed twice at a prompt
/// without echo (as `getpass(3)` does, which is obsolete and not thread-safe).
enum PasswordInput {
    /// The line, without its line ending.
    /// - Parameter confirm: at a terminal, asks a second time and refuses two different answers.
    static func read(prompt: String, confirm: Bool) throws -> String {
        guard isatty(STDIN_FILENO) == 1 else {
            guard let line = readLine(strippingNewline: true) else {
                throw CommandFailure(
                    "no password on standard input: pipe it in as one line (printf '%s\\n' \"$PASSWORD\" | ledgerwire "
                        + "users …), or run the command at a terminal to be asked")
            }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
        let first = try readSilently(prompt: "\(prompt): ")
        if confirm {
            guard try readSilently(prompt: "Again: ") == first else {
                throw CommandFailure("the two passwords differ; nothing was changed")
            }
        }
        return first
    }

    /// Turns the terminal's echo off for one line, and back on whatever happens.
    private static func readSilently(prompt: String) throws -> String {
        CommandOutput.standardError(prompt)
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else {
            throw CommandFailure("could not read the terminal's settings to hide the password")
        }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent) == 0 else {
            throw CommandFailure("could not turn the terminal's echo off to hide the password")
        }
        defer { tcsetattr(STDIN_FILENO, TCSAFLUSH, &original) }
        guard let line = readLine(strippingNewline: true) else { throw CommandFailure("no password was typed") }
        return line
    }
}

public import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A program the tests start (`ledgerwire`, chromedriver, bash), spawned with `posix_spawn` itself.
///
/// Not Foundation's `Process`: on Linux its `run()` lists `/proc/self/fd` to close every descriptor in the child, and
/// copies each directory entry whole, reading up to 256 bytes past `readdir`'s buffer
/// (swift-corelibs-foundation#5472, fixed after Swift 6.3.1). Once the process holds more than about 1,300
/// descriptors (a whole parallel `swift test` reaches 2,400) the buffer is full, and when it ends a mapping the read
/// crashes the whole test run: one run in five did here. Like `Process`, the child gets its own process group and
/// none of the tests' descriptors beyond its standard three.
public final class ChildProcess: Sendable {
    public let processIdentifier: Int32
    private let exit = Mutex<(status: Int32, signaled: Bool)?>(nil)

    /// Starts `executable` with `arguments`. Standard input reads `stdin` (else `/dev/null`); standard output and
    /// error append to `stdout` and `stderr` (else `/dev/null`; the same file for both when they are equal).
    public init(
        executable: URL, arguments: [String], environment: [String: String]? = nil, workingDirectory: URL? = nil,
        stdin: URL? = nil, stdout: URL? = nil, stderr: URL? = nil
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        let writing = O_WRONLY | O_CREAT | O_APPEND
        try Self.check(posix_spawn_file_actions_addopen(&actions, 0, stdin?.path ?? "/dev/null", O_RDONLY, 0), "stdin")
        try Self.check(
            posix_spawn_file_actions_addopen(&actions, 1, stdout?.path ?? "/dev/null", writing, 0o644), "stdout")
        if let stderr, stderr == stdout {
            try Self.check(posix_spawn_file_actions_adddup2(&actions, 1, 2), "stderr")
        } else {
            try Self.check(
                posix_spawn_file_actions_addopen(&actions, 2, stderr?.path ?? "/dev/null", writing, 0o644), "stderr")
        }
        // glibc's `_np` extensions (2.29 and 2.34), which Swift's Glibc module does not declare.
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        typealias AddChdir =
            @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
        let program = dlopen(nil, RTLD_NOW)
        guard let closeFrom = dlsym(program, "posix_spawn_file_actions_addclosefrom_np"),
            let changeDirectory = dlsym(program, "posix_spawn_file_actions_addchdir_np")
        else { throw CLIFailure("this glibc has no posix_spawn_file_actions_addclosefrom_np (2.34 and later do)") }
        try Self.check(unsafeBitCast(closeFrom, to: AddCloseFrom.self)(&actions, 3), "the tests' descriptors")
        if let workingDirectory {
            try Self.check(
                unsafeBitCast(changeDirectory, to: AddChdir.self)(&actions, workingDirectory.path), "chdir")
        }
        try Self.check(posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP)), "flags")
        try Self.check(posix_spawnattr_setpgroup(&attributes, 0), "process group")

        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        try Self.check(posix_spawn(&pid, executable.path, &actions, &attributes, argv, envp), executable.path)
        processIdentifier = pid
    }

    private static func check(_ result: Int32, _ what: String) throws {
        guard result == 0 else {
            throw CLIFailure("could not start a process (\(what)): \(String(cString: strerror(result)))")
        }
    }

    /// Whether it still runs; once it has ended, its status is kept.
    public var isRunning: Bool {
        exit.withLock { exit in
            guard exit == nil else { return false }
            var status: Int32 = 0
            let found = waitpid(processIdentifier, &status, WNOHANG)
            guard found == processIdentifier || (found == -1 && errno == ECHILD) else { return true }
            // Exited: the low 7 bits are 0 and the code is in the next byte; else the signal that ended it.
            let signal = status & 0x7f
            exit = signal == 0 ? ((status >> 8) & 0xff, false) : (signal, true)
            return false
        }
    }

    /// Its exit code, or the signal that ended it (`terminationReason`); 0 while it runs.
    public var terminationStatus: Int32 { isRunning ? 0 : exit.withLock { $0?.status ?? 0 } }

    /// Whether a signal ended it.
    public var endedBySignal: Bool { isRunning ? false : exit.withLock { $0?.signaled ?? false } }

    /// Sends SIGTERM.
    public func terminate() { kill(processIdentifier, SIGTERM) }

    /// Sends SIGINT.
    public func interrupt() { kill(processIdentifier, SIGINT) }
}

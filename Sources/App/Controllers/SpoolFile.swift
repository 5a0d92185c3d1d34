import Foundation
import HummingbirdCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Bytes written once and read back once, kept in a temporary file with no name instead of in memory: a download of
/// any size is written here a page at a time, then answered from here a chunk at a time. The file is unlinked as it
/// is made, so it goes when the spool does, or with the process. Reads and writes run on NIO's thread pool.
final class SpoolFile: Sendable {
    private let descriptor: CInt

    init() throws {
        let directory = FileManager.default.temporaryDirectory.path
        var template = Array("\(directory)/ledgerwire-spool-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw SpoolError(operation: "create", code: errno) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Appends `text`, UTF-8.
    func append(_ text: String) async throws {
        try await NIOThreadPool.singleton.runIfActive { [descriptor] in
            var text = text
            try text.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw SpoolError(operation: "write", code: errno)
                    }
                    offset += written
                }
            }
        }
    }

    /// Up to `length` bytes from `offset`; empty at the end.
    func read(at offset: Int, length: Int) async throws -> ByteBuffer {
        try await NIOThreadPool.singleton.runIfActive { [descriptor] in
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            while true {
                var read = 0
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { bytes in
                    read = pread(descriptor, bytes.baseAddress!, length, off_t(offset))
                    return max(0, read)
                }
                if read >= 0 { return buffer }
                if errno != EINTR { throw SpoolError(operation: "read", code: errno) }
            }
        }
    }

    /// The spool's size in bytes.
    func size() throws -> Int {
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else { throw SpoolError(operation: "seek", code: errno) }
        return Int(end)
    }

    /// Writes the spool, from its start, to a response `writer`, 64 KiB at a time.
    func write(to writer: inout any ResponseBodyWriter) async throws {
        var offset = 0
        while true {
            let chunk = try await read(at: offset, length: 64 * 1024)
            guard chunk.readableBytes > 0 else { return }
            offset += chunk.readableBytes
            try await writer.write(chunk)
        }
    }
}

/// A spool file's system call failed.
struct SpoolError: Error, CustomStringConvertible {
    var operation: String
    var code: CInt
    var description: String { "spool file \(operation): \(String(cString: strerror(code)))" }
}

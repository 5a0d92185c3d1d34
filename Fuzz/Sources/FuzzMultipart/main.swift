import Accounting
import CFuzzDriver
import Foundation

/// `multipart/form-data` uploads (a Sage 50 file from the dashboard or `curl -F`): any bytes as a body, and its first
/// line as a content type, are read without trapping; a part found lies inside the body and holds no delimiter; and
/// any content that holds no delimiter comes back out of a browser's body exactly.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let firstLine = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first
    let boundary =
        MultipartFormData.boundary(ofContentType: String(decoding: firstLine ?? [], as: UTF8.self)) ?? "XyZ"
    let delimiter = Array("\r\n--\(boundary)".utf8)
    if let part = MultipartFormData.part(named: "file", in: bytes, boundary: boundary) {
        precondition(part.startIndex >= 0 && part.endIndex <= bytes.count, "a part outside the body")
        precondition(part.firstRange(of: delimiter) == nil, "a part holding its delimiter")
    }
    if bytes.firstRange(of: delimiter) == nil {
        let body = MultipartFormData.body(name: "file", filename: "audit.csv", content: bytes, boundary: boundary)
        let read = MultipartFormData.part(named: "file", in: body, boundary: boundary)
        precondition(read.map(Array.init) == bytes, "the content did not come back")
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

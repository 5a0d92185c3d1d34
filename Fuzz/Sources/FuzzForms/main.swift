import Accounting
import CFuzzDriver
import Foundation

/// `application/x-www-form-urlencoded` text (query strings and token request bodies the QuickBooks emulator reads):
/// `FormURLEncoded` splits and decodes any bytes without trapping, and encoding what it decoded decodes back to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    for field in FormURLEncoded.fields(text) {
        precondition(!field.name.contains("&") || text.contains("%26"), "an unescaped & inside \(field.name)")
        let encoded = field.value.utf8.map { String(format: "%%%02X", $0) }.joined()
        precondition(FormURLEncoded.decode(encoded) == field.value, "\(field.value) does not decode back")
    }
    _ = FormURLEncoded.value(of: "query", in: text)
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

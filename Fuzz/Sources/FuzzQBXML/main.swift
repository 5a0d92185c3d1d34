import CFuzzDriver
import Connectors
import Foundation

/// QuickBooks' answer to a request document, as the Web Connector relays it in `receiveResponseXML` (text, so the
/// bytes are read as UTF-8 with repairs): read into answers, and each record returned written back out.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let document = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    guard let responses = try? QBXML.responses(in: document) else { return 0 }
    var text = ""
    for response in responses {
        _ = (response.failed, response.iteratorRemainingCount, response.retCount)
        for node in response.returned { QBXML.write(node, into: &text) }
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

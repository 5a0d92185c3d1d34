import CFuzzDriver
import Connectors
import Foundation

/// QuickBooks' answer to a request document, as the Web Connector relays it in `receiveResponseXML` (text, so the
/// bytes are read as UTF-8 with repairs): read into answers, each record returned written back out and read as a
/// change or a list entry, and the document read as the first turn's host answer.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let document = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = QBXML.host(in: document)
    guard let responses = try? QBXML.responses(in: document) else { return 0 }
    var text = ""
    for response in responses {
        _ = (response.failed, response.iteratorRemainingCount, response.retCount)
        for node in response.returned { QBXML.write(node, into: &text) }
        _ = QuickBooksDesktopChanges.records(in: response)
        for kind in QuickBooksDesktopChanges.listKinds { _ = QuickBooksDesktopChanges.list(response, kind: kind) }
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

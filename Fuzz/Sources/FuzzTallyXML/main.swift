import Accounting
import CFuzzDriver
import Connectors
import Foundation

/// An answer from Tally's XML server (or from a `tally-agent` relaying one), as the Tally connector reads it: the body
/// in UTF-8 or UTF-16 (chosen by the first byte), parsed, then every voucher and ledger in it read as the change feed
/// reads them.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: start, count: count))
    let encoding = TallyEncoding.of(bytes, contentType: nil)
    guard let root = try? TallyXML.parse(bytes, encoding: encoding) else { return 0 }
    _ = root.xml
    func walk(_ element: TallyElement) {
        if let voucher = TallyVoucherRecord(exported: element) {
            _ = voucher.fingerprint
            _ = voucher.element(action: "Create").xml
        }
        element.children.forEach(walk)
    }
    walk(root)
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

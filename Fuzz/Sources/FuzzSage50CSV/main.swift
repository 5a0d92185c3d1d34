import CFuzzDriver
import Connectors
import Foundation

/// A file a school uploads from Sage 50 (`POST /integrations/{id}/imports`): its audit trail export or its customer
/// list, the bytes read as the import route reads them (UTF-8, else Windows-1252), then read strictly as Sage 50's
/// export. Any refusal is a `Sage50ReadError` naming a row; nothing may trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Data(UnsafeRawBufferPointer(start: start, count: count))
    let text = String(data: bytes, encoding: .utf8) ?? String(data: bytes, encoding: .windowsCP1252) ?? ""
    switch try? Sage50Upload.read(text) {
    case .auditTrail(let lines)?:
        for line in lines { _ = (line.net + line.tax, line.allocations.count, line.date) }
    case .customers(let customers)?:
        _ = Set(customers.map(\.reference))
    case nil:
        break
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

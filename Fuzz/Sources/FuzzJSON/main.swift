import Accounting
import CFuzzDriver
import Foundation

/// The JSON parser every webhook body goes through. A document it accepts prints canonically to bytes it
/// accepts again, as the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let document: JSONValue
    do {
        document = try JSONValue(parsing: bytes)
    } catch {
        precondition(error.offset >= 0 && error.offset <= count, "error offset \(error.offset) outside the input")
        return 0
    }
    let canonical = document.canonicalBytes
    guard let again = try? JSONValue(parsing: canonical) else {
        preconditionFailure("canonical form does not parse: \(document.canonicalString)")
    }
    precondition(again == document, "canonical form parses to another value: \(document.canonicalString)")
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

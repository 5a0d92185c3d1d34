import Accounting
import CFuzzDriver
import Foundation
import Ingestion

/// A Cognify billing event body, as `POST /webhooks/billing` decodes it once its signature holds: parsed, decoded
/// into commands (every amount, quantity, date and instant read), and each command's data and key made.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let document = try? JSONValue(parsing: bytes) else { return 0 }
    let event = BillingEvent(json: document)
    for error in event.errors { _ = error.description }
    for command in event.commands {
        _ = command.idempotencyKey
        _ = command.data.canonicalBytes
        _ = command.updatedAt.rfc3339
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

import CFuzzDriver
import Foundation
import Ingestion

/// The secret the seeds are signed with (`Fuzz/Corpus/FuzzStandardWebhooks`), so the fuzzer starts from a
/// message that verifies and mutates its way out of it.
private let secret = "whsec_bGVkZ2Vyd2lyZS1mdXp6LXNlY3JldC0zMi1ieXRlcyE="
private let keys = [try! StandardWebhooks.keyBytes(fromSecret: secret)]
/// The seeds' `webhook-timestamp`: the fuzzer's clock stands still there.
private let now: Int64 = 1_700_000_000

/// A delivery as `POST /webhooks/billing` receives it, from one input: `webhook-id`, `webhook-timestamp` and
/// `webhook-signature` header values on the first three lines, the raw body after them.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    var lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 3, omittingEmptySubsequences: false)
    while lines.count < 4 { lines.append(bytes[bytes.endIndex...]) }
    let id = String(decoding: lines[0], as: UTF8.self)
    let timestamp = String(decoding: lines[1], as: UTF8.self)
    let signature = String(decoding: lines[2], as: UTF8.self)
    let body = Array(lines[3])
    do {
        try StandardWebhooks.verify(
            id: id, timestamp: timestamp, signatureHeader: signature, body: body, keys: keys, now: now)
    } catch {
        _ = error.code
    }
    // A secret as an admin registers it, from the same bytes.
    _ = try? StandardWebhooks.keyBytes(fromSecret: id)
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

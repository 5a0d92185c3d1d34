import Accounting
import CFuzzDriver
import Connectors
import Foundation

/// `webhooks/quickbooks/verifier-token.txt`: the seeds carry the real signatures of those deliveries.
private let verifierToken = "b5771f19b12ddb4bcdb9f08bdc50bc63878a"

/// A QuickBooks Online webhook as `POST /webhooks/quickbooks` receives it: the `intuit-signature` header value on
/// the first line, the raw body (legacy `eventNotifications` or a CloudEvents array) after it.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false)
    let signature = lines.count > 1 ? String(decoding: lines[0], as: UTF8.self) : nil
    let body = Array(lines.count > 1 ? lines[1] : lines[0])
    _ = QuickBooksWebhook.isValid(signature: signature, body: body, verifierTokens: [verifierToken])
    guard let document = try? JSONValue(parsing: body) else { return 0 }
    do {
        for notification in try QuickBooksWebhook.notifications(in: document) {
            _ = notification.idempotencyKey
            _ = notification.json.canonicalBytes
        }
    } catch {
        for fieldError in error.errors { _ = fieldError.description }
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

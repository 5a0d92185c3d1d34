import Accounting
import CFuzzDriver
import Connectors
import Foundation

/// `webhooks/xero/webhook-key.txt`: the seeds carry the real signatures of those deliveries.
private let webhookKey = "Vnq8yH3Uq0fX2kM6pB1rT9wL4cZ7eJ5sA0dG2hK8mN3oP6qR1tU4vW7xY9zB2cD5eF8gH0iJ3kL6mN9oP2qR5s=="

/// A Xero webhook as `POST /webhooks/xero` receives it: the `x-xero-signature` header value on the first line, the
/// raw body (`{events, firstEventSequence, lastEventSequence, entropy}`) after it.
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let lines = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false)
    let signature = lines.count > 1 ? String(decoding: lines[0], as: UTF8.self) : nil
    let body = Array(lines.count > 1 ? lines[1] : lines[0])
    let webhooks = XeroWebhooks()
    _ = webhooks.verify(header: { $0 == "x-xero-signature" ? signature : nil }, body: body, secrets: [webhookKey])
    _ = webhooks.isEmptyDelivery(body: body)
    _ = webhooks.webhookID(header: { _ in nil }, body: body)
    do {
        for notification in try webhooks.notifications(body: body) {
            _ = notification.idempotencyKey
            _ = notification.occurredAt.rfc3339
        }
    } catch {
        for fieldError in error.errors { _ = fieldError.description }
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

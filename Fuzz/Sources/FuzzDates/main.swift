import Accounting
import CFuzzDriver
import Connectors
import Foundation

/// Instants that print in RFC 3339's four-digit years, so they must print back to what they were parsed from.
private let earliest = Timestamp(rfc3339: "0001-01-02T00:00:00Z")!.microsecondsSinceEpoch
private let latest = Timestamp(rfc3339: "9999-12-30T00:00:00Z")!.microsecondsSinceEpoch
private let printable = earliest...latest

/// Dates and instants: `LocalDate` (issue and due dates), `Timestamp` (RFC 3339, billing's `updated_at`), and
/// QuickBooks' instants (through both webhook formats, where they arrive).
@_cdecl("LLVMFuzzerTestOneInput")
public func test(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)

    if let date = LocalDate(parsing: text) {
        precondition(LocalDate(parsing: date.description) == date, "\(text) prints as \(date)")
        _ = date.daysSinceEpoch
    }
    if let instant = Timestamp(rfc3339: text), printable.contains(instant.microsecondsSinceEpoch) {
        precondition(Timestamp(rfc3339: instant.rfc3339) == instant, "\(text) prints as \(instant.rfc3339)")
    }

    let cloudEvent: JSONValue = [
        [
            "type": "qbo.invoice.updated.v1", "intuitaccountid": "9341", "intuitentityid": "42",
            "time": .string(text),
        ]
    ]
    let legacy: JSONValue = [
        "eventNotifications": [
            [
                "realmId": "9341",
                "dataChangeEvent": [
                    "entities": [["name": "Invoice", "id": "42", "operation": "Update", "lastUpdated": .string(text)]]
                ],
            ]
        ]
    ]
    for document in [cloudEvent, legacy] {
        if let notifications = try? QuickBooksWebhook.notifications(in: document) {
            for notification in notifications { _ = notification.occurredAt.rfc3339 }
        }
    }
    return 0
}

// libFuzzer's driver, started from this executable's own entry point (see CFuzzDriver.h).
exit(ledgerwire_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))

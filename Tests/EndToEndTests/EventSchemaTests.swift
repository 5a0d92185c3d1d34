import Accounting
import Foundation
import Persistence
import TestSupport
import Testing

/// The schemas of docs/events/ and the validator the end-to-end tests check every emitted event with
/// (`QuickBooksWorld.expectEventsKeepTheContract`).
@Suite struct EventSchemaTests {
    typealias World = QuickBooksWorld

    /// Every type Ledgerwire emits: a new one without a schema fails here.
    static let types = EventType.allCases.map(\.rawValue)

    func schema(_ type: String) throws -> JSONSchema {
        try JSONSchema(contentsOf: World.eventSchemas.appendingPathComponent("\(type).schema.json"))
    }

    /// A payment recorded in the books, as the contract says.
    static let payment: JSONValue = [
        "id": "evt_0196a1b2c3d4e5f60718293a4b", "type": "ledger.payment.recorded",
        "timestamp": "2026-11-20T10:00:00.123456Z", "tenant_id": "greenfield", "integration_id": "int_1",
        "data": [
            "integration_id": "int_1", "platform": "quickbooks_online", "change": "created",
            "remote_payment_id": "42", "remote_version": "0", "customer_id": "cus_1", "remote_customer_id": "14",
            "currency": "INR", "amount": "59.00", "date": "2026-11-20", "reference": "UTR 77", "invoice_id": "inv_1",
            "allocations": [["invoice_id": "inv_1", "remote_invoice_id": "31", "amount": "59.00"]],
        ],
    ]

    @Test func everyOutboundEventTypeHasASchema() throws {
        for type in Self.types {
            let schema = try schema(type)
            #expect(schema.root["properties"]?["type"]?["const"] == .string(type))
            // The schema itself uses only what the validator checks: an example of nothing breaks on content only.
            #expect(!schema.violations(of: [:]).contains { $0.contains("does not know") }, "\(type)")
        }
    }

    @Test func aConformingEventPasses() throws {
        #expect(try schema("ledger.payment.recorded").violations(of: Self.payment).isEmpty)
        #expect(World.amountsOutOfPrecision(in: Self.payment, currency: nil).isEmpty)
    }

    /// The event of issue 12: no currency, QuickBooks' customer id as billing's, a platform id under a billing
    /// name, an amount that is not a decimal, and the wrong type.
    @Test(arguments: [
        ("currency", JSONValue.null, "$.data: currency is required"),
        ("customer_id", .number("14"), "$.data.customer_id"),
        ("remote_id", .string("42"), "$.data.remote_id"),
        ("amount", .string("59,00"), "$.data.amount"),
        ("change", .string("changed"), "$.data.change"),
        ("allocations", .array([]), "$.data.allocations"),
    ])
    func aWrongEventIsRefusedNamingTheField(field: String, value: JSONValue, path: String) throws {
        guard case .object(var event) = Self.payment, case .object(var data) = event["data"] else {
            throw CancellationError()
        }
        if value == .null { data.removeValue(forKey: field) } else { data[field] = value }
        event["data"] = .object(data)
        let violations = try schema("ledger.payment.recorded").violations(of: .object(event))
        #expect(violations.contains { $0.hasPrefix(path) }, "\(violations)")
    }

    @Test func anotherTypeOrAnAmountOutOfItsCurrencyPrecisionIsRefused() throws {
        guard case .object(var event) = Self.payment else { throw CancellationError() }
        event["type"] = "ledger.invoice.changed"
        #expect(
            try schema("ledger.payment.recorded").violations(of: .object(event)) == [
                "$.type: \"ledger.invoice.changed\" is not \"ledger.payment.recorded\""
            ])
        let yen: JSONValue = ["currency": "JPY", "amount": "500.00", "lines": [["amount": "500"]]]
        #expect(World.amountsOutOfPrecision(in: yen, currency: nil) == ["amount 500.00 JPY"])
        let rupees: JSONValue = ["currency": "INR", "amount": "5900", "allocations": [["amount": "5900.00"]]]
        #expect(World.amountsOutOfPrecision(in: rupees, currency: nil) == ["amount 5900 INR"])
    }

    @Test func aKeywordTheValidatorDoesNotKnowFailsTheSchema() {
        let schema = JSONSchema(["type": "object", "minProperties": 1])
        #expect(
            schema.violations(of: ["a": 1]) == ["$: the schema uses minProperties, which this validator does not know"])
    }
}

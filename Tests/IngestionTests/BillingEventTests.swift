import Accounting
import Foundation
import Ingestion
import TestSupport
import Testing

@Suite struct BillingEventTests {
    /// Golden files: each `webhooks/billing/<name>.json` normalizes to the commands in `<name>.expected.json`.
    /// Set `UPDATE_GOLDEN=1` to rewrite them after a deliberate change, then review the diff.
    @Test(arguments: try Fixtures.billingEventNames())
    func normalizesFixtureIntoTheExpectedCommands(_ name: String) throws {
        let event = BillingEvent(json: try Fixtures.billingEventJSON(name))
        #expect(event.errors.isEmpty, "\(event.errors)")
        let actual = JSONValue.array(
            event.commands.map { command in
                [
                    "idempotency_key": .string(command.idempotencyKey), "tenant_id": .string(command.tenantID.rawValue),
                    "record_type": .string(command.recordType.rawValue), "local_id": .string(command.localID),
                    "action": .string(command.action.rawValue), "updated_at": .string(command.updatedAt.rfc3339),
                    "data": command.data,
                ]
            }
        )
        let expectedURL = Fixtures.billingDirectory.appendingPathComponent("\(name).expected.json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try Data(actual.canonicalBytes + [0x0A]).write(to: expectedURL)
        }
        let expected = try JSONValue(parsing: Array(Data(contentsOf: expectedURL)))
        #expect(actual == expected)
    }

    @Test func invoiceWithEmbeddedCustomerBecomesTwoCommandsCustomerFirst() throws {
        let event = BillingEvent(json: try Fixtures.billingEventJSON("in-invoice.issued"))
        #expect(event.commands.map(\.recordType) == [.customer, .invoice])
        #expect(event.tenantID == Tenant.ID("greenfield-bengaluru"))
        #expect(event.commands[1].data["total"] == "57820.00")
    }

    @Test func absentTenantMeansDefault() throws {
        let event = BillingEvent(
            json: try Fixtures.billingEventJSON("jp-payment.received").setting(["tenant_id"], to: nil))
        #expect(event.errors.isEmpty)
        #expect(event.tenantID == Tenant.defaultID)
    }

    /// Each malformed case names the field to fix.
    @Test(
        arguments: [
            (["data", "total"], JSONValue.string("57820.01"), "data.total"),
            (["data", "subtotal"], "48000.00", "data.subtotal"),
            (["data", "lines", 1, "amount"], "4500.00", "data.lines[1].amount"),
            (["data", "currency"], "XYZ", "data.currency"),
            (["data", "total"], "57820.001", "data.total"),
            (["data", "customer_id"], nil, "data.customer_id"),
            (["data", "lines", 0, "quantity"], "one", "data.lines[0].quantity"),
            (["data", "lines", 0, "unit_amount"], 45000, "data.lines[0].unit_amount"),
            (["data", "lines"], "none", "data.lines"),
            (["data", "issue_date"], "03/11/2026", "data.issue_date"),
            (["data", "updated_at"], "yesterday", "data.updated_at"),
            (["type"], "invoice.paid", "type"),
            (["data"], nil, "data"),
        ] as [([JSONValue.PathComponent], JSONValue?, String)])
    func namesTheFieldOfEachMalformedInvoice(path: [JSONValue.PathComponent], value: JSONValue?, field: String) throws {
        let document = try Fixtures.billingEventJSON("in-invoice.issued").setting(path, to: value)
        let event = BillingEvent(json: document)
        #expect(event.commands.isEmpty)
        #expect(event.errors.map(\.field).contains(field), "\(event.errors)")
    }

    @Test func reportsEveryProblemAtOnce() throws {
        let document = try Fixtures.billingEventJSON("in-payment.received")
            .setting(["data", "currency"], to: "XXX")
            .setting(["data", "method"], to: 3)
            .setting(["data", "deposit_account"], to: nil)
        let fields = Set(BillingEvent(json: document).errors.map(\.field))
        #expect(fields == ["data.currency", "data.method", "data.deposit_account"])
    }

    @Test func inrAmountsWithThreeDecimalsAreRejected() throws {
        let document = try Fixtures.billingEventJSON("in-refund.issued").setting(["data", "amount"], to: "1180.001")
        let errors = BillingEvent(json: document).errors
        #expect(
            errors == [
                FieldError(field: "data.amount", message: "\"1180.001\" INR amounts have at most 2 decimal places")
            ])
    }
}

import Accounting
import Foundation
import Ingestion

extension BenchWorld {
    /// Billing's history: each customer, then each invoice (numbered `numberPrefix` and its index), as signed
    /// webhooks from `lanes` senders at once.
    func bill(invoices: Int, customers: Int, lanes: Int, numberPrefix: String) async throws {
        let key = try await billingKey()
        let now = ISO8601DateFormatter().string(from: Date())
        try await send(count: customers, lanes: lanes, key: key) { Self.customer($0, at: now) }
        try await send(count: invoices, lanes: lanes, key: key) {
            Self.invoice($0, number: numberPrefix + String($0), customer: $0 % customers + 1, at: now)
        }
    }

    /// Events 1...count, made by `event`, sent by `lanes` senders at once.
    private func send(
        count: Int, lanes: Int, key: [UInt8], event: @escaping @Sendable (Int) -> JSONValue
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    for index in stride(from: 1 + lane, through: count, by: lanes) {
                        try await send(event(index), key: key)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// A billing secret, registered for the bench's events.
    func billingKey() async throws -> [UInt8] {
        let created = try await api("POST", "/webhook-sources", ["source": "billing"])
        guard let secret = created["secret"]?.stringValue else { throw Failure(description: "no billing secret") }
        return try StandardWebhooks.keyBytes(fromSecret: secret)
    }

    /// One billing event, signed; returns once Ledgerwire has acknowledged it.
    func send(_ event: JSONValue, key: [UInt8]) async throws {
        let body = event.canonicalBytes
        let id = "msg_" + UUID().uuidString.lowercased()
        let timestamp = Int64(Date().timeIntervalSince1970)
        let answer = try await call(
            "POST", ledgerwire + "/webhooks/billing",
            headers: [
                "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": String(timestamp),
                "webhook-signature": StandardWebhooks.sign(id: id, timestamp: timestamp, body: body, key: key),
            ],
            body: body)
        guard answer.status == 200 else {
            throw Failure(description: "billing event refused (\(answer.status)): \(answer.json)")
        }
    }

    static func customer(_ index: Int, at now: String) -> JSONValue {
        [
            "type": "customer.created", "timestamp": .string(now), "tenant_id": .string(tenant),
            "data": [
                "id": .string("cus_\(index)"), "name": .string("Family \(index)"),
                "email": .string("family.\(index)@example.in"), "currency": "INR", "updated_at": .string(now),
            ],
        ]
    }

    /// An INR invoice of two GST lines, tuition and a discounted transport line: 57,820.00 in all.
    static func invoice(_ index: Int, number: String, customer: Int, at now: String) -> JSONValue {
        [
            "type": "invoice.issued", "timestamp": .string(now), "tenant_id": .string(tenant),
            "data": [
                "id": .string("inv_\(index)"), "number": .string(number), "customer_id": .string("cus_\(customer)"),
                "currency": "INR", "issue_date": "2026-11-21", "due_date": "2026-12-05",
                "lines": [
                    [
                        "id": "l1", "description": "Term 2 tuition", "quantity": 1, "unit_amount": "45000.00",
                        "amount": "45000.00", "revenue_account": "4000-TUITION", "tax_code": "GST18",
                        "tax_amount": "8100.00",
                    ],
                    [
                        "id": "l2", "description": "School bus, 3 months", "quantity": 3, "unit_amount": "1500.00",
                        "discount_amount": "500.00", "amount": "4000.00", "revenue_account": "4100-TRANSPORT",
                        "tax_code": "GST18", "tax_amount": "720.00",
                    ],
                ],
                "subtotal": "49000.00", "tax_total": "8820.00", "total": "57820.00", "updated_at": .string(now),
            ],
        ]
    }
}

import Accounting
import Foundation

extension SageBusiness {
    /// The payment types the emulator takes: a receipt against invoices, a refund against credit notes
    /// (https://developer.sage.com/accounting/guides/concepts/payments: refunds use `/contact_payments` with
    /// `CUSTOMER_REFUND`). Purchases are not emulated, so `VENDOR_PAYMENT` and `VENDOR_REFUND` are refused.
    static let paymentTypes: [String: (displayed: String, artefact: Artefact)] = [
        "CUSTOMER_RECEIPT": ("Customer Receipt", .invoice), "CUSTOMER_REFUND": ("Customer Refund", .creditNote),
    ]

    /// `POST /contact_payments`: the payment, its `allocated_artefacts` each taking from one artefact's
    /// `outstanding_amount`. The allocations may not exceed the payment's `total_amount`, nor any artefact's
    /// outstanding amount; what is left over is the payment's `payment_on_account`.
    mutating func createPayment(_ input: Object, now: Date) throws(SageBusinessCloudFailure) -> Object {
        for key in ["transaction_type_id", "contact_id", "bank_account_id", "date", "total_amount"]
        where input[key] == nil {
            throw .blank(key)
        }
        guard let type = input["transaction_type_id"]?.stringValue, let kind = Self.paymentTypes[type] else {
            throw .invalid("transaction_type_id", "is invalid")
        }
        guard let contact = input["contact_id"]?.stringValue, isCustomer(contact) else {
            throw .invalid("contact_id", "is invalid")
        }
        guard let bank = input["bank_account_id"]?.stringValue, record("bank_accounts", bank) != nil else {
            throw .invalid("bank_account_id", "is invalid")
        }
        guard let date = Self.date(input["date"]) else { throw .invalid("date", "is invalid") }
        guard let total = Self.decimal(input["total_amount"]).map({ Self.round($0) }), total > 0 else {
            throw .invalid("total_amount", "must be greater than 0")
        }
        let id = Self.newID()
        let reference = try Self.text(input["reference"], "reference", limit: 25)
        let allocations = try readAllocations(
            input["allocated_artefacts"], kind: kind.artefact, contact: contact, signed: false)
        let allocated = allocations.reduce(Decimal(0)) { $0 + $1.amount }
        guard allocated <= total else {
            throw .invalid("allocated_artefacts", "The allocated amounts exceed the payment's total amount")
        }
        var payment: Object = [
            "id": .string(id), "displayed_as": .string(reference ?? kind.displayed),
            "transaction_type": [
                "id": .string(type), "displayed_as": .string(kind.displayed),
                "$path": .string("/transaction_types/\(type)"),
            ],
            "payment_method": ["id": "BANK_TRANSFER", "displayed_as": "Bank Transfer"],
            "contact": link("contacts", contact), "bank_account": link("bank_accounts", bank),
            "date": .string(date), "net_amount": Self.money(total), "tax_amount": Self.money(0),
            "total_amount": Self.money(total), "currency": currencyLink(region.currency),
            "exchange_rate": .number(Self.fixed(1, places: 6)), "editable": true,
        ]
        if let reference { payment["reference"] = .string(reference) }
        var artefacts: [JSONValue] = []
        for allocation in allocations {
            artefacts.append([
                "id": .string(Self.newID()), "artefact": link(kind.artefact.resource, allocation.id),
                "amount": Self.money(allocation.amount), "discount": Self.money(0),
            ])
        }
        payment["allocated_artefacts"] = .array(artefacts)
        if allocated < total {
            payment["payment_on_account"] = [
                "id": .string(Self.newID()), "displayed_as": "Payment on Account", "contact": link("contacts", contact),
                "date": .string(date), "total_amount": Self.money(total - allocated),
                "outstanding_amount": Self.money(total - allocated),
            ]
        }
        store("contact_payments", payment, now: now)
        let entry: JSONValue = [
            "date": .string(date), "type": .string(kind.displayed), "reference": .string(reference ?? ""),
            "contact_payment": link("contact_payments", id),
        ]
        try apply(allocations, kind: kind.artefact, entry: entry, now: now)
        return record("contact_payments", id) ?? payment
    }

    /// `POST /contact_allocations`: a credit note set against invoices of the same contact. Invoices take positive
    /// amounts and credit notes negative ones, summing to zero (platforms.md §5.4).
    mutating func createAllocation(_ input: Object, now: Date) throws(SageBusinessCloudFailure) -> Object {
        for key in ["transaction_type_id", "contact_id", "allocated_artefacts"] where input[key] == nil {
            throw .blank(key)
        }
        guard input["transaction_type_id"]?.stringValue == "CUSTOMER_ALLOCATION" else {
            throw .invalid("transaction_type_id", "is invalid")
        }
        guard let contact = input["contact_id"]?.stringValue, isCustomer(contact) else {
            throw .invalid("contact_id", "is invalid")
        }
        let date = try input["date"].map { value throws(SageBusinessCloudFailure) -> String in
            guard let date = Self.date(value) else { throw .invalid("date", "is invalid") }
            return date
        }
        let parts = try readAllocations(input["allocated_artefacts"], kind: nil, contact: contact, signed: true)
        let invoices = parts.filter { $0.kind == .invoice }
        let credits = parts.filter { $0.kind == .creditNote }
        guard !invoices.isEmpty, !credits.isEmpty,
            parts.reduce(Decimal(0), { $0 + ($1.kind == .invoice ? $1.amount : -$1.amount) }) == 0
        else {
            throw .invalid("allocated_artefacts", "The allocated amounts must balance to zero")
        }
        let id = Self.newID()
        let day = date ?? Self.day(now)
        let allocation: Object = [
            "id": .string(id), "displayed_as": "Customer Allocation",
            "transaction_type": [
                "id": "CUSTOMER_ALLOCATION", "displayed_as": "Customer Allocation",
                "$path": "/transaction_types/CUSTOMER_ALLOCATION",
            ],
            "date": .string(day), "contact": link("contacts", contact),
            "allocated_artefacts": .array(
                parts.map {
                    [
                        "id": .string(Self.newID()), "artefact": link($0.kind.resource, $0.id),
                        "amount": Self.money($0.kind == .invoice ? $0.amount : -$0.amount),
                    ]
                }),
        ]
        store("contact_allocations", allocation, now: now)
        let entry: JSONValue = [
            "date": .string(day), "type": "Customer Allocation", "contact_allocation": link("contact_allocations", id),
        ]
        try apply(invoices, kind: .invoice, entry: entry, now: now)
        try apply(credits, kind: .creditNote, entry: entry, now: now)
        return record("contact_allocations", id) ?? allocation
    }

    struct Allocation {
        let id: String
        let kind: Artefact
        /// What it takes from the artefact's outstanding amount (positive).
        let amount: Decimal
    }

    /// The `allocated_artefacts` of a request: artefacts of the contact, each at most once, each amount within what
    /// is outstanding. `kind` nil takes invoices and credit notes (an allocation, where `signed` reads a credit
    /// note's negative amount).
    private func readAllocations(
        _ value: JSONValue?, kind: Artefact?, contact: String, signed: Bool
    ) throws(SageBusinessCloudFailure) -> [Allocation] {
        guard let value else { return [] }
        guard let elements = value.arrayValue, elements.count <= Self.maximumLines else {
            throw .invalid("allocated_artefacts", "is invalid")
        }
        var found: [Allocation] = []
        for (index, element) in elements.enumerated() {
            let source = "allocated_artefacts[\(index)]"
            guard let artefactID = element["artefact_id"]?.stringValue else { throw .blank("\(source).artefact_id") }
            let candidates: [Artefact] = kind.map { [$0] } ?? [.invoice, .creditNote]
            guard let artefactKind = candidates.first(where: { record($0.resource, artefactID) != nil }),
                let artefact = record(artefactKind.resource, artefactID),
                artefact["contact"]?["id"]?.stringValue == contact
            else { throw .invalid("\(source).artefact_id", "is invalid") }
            guard !found.contains(where: { $0.id == artefactID }) else {
                throw .invalid("\(source).artefact_id", "is allocated twice")
            }
            guard let raw = Self.decimal(element["amount"]).map({ Self.round($0) }) else {
                throw .blank("\(source).amount")
            }
            let amount = signed && artefactKind == .creditNote ? -raw : raw
            let status = artefact["status"]?["id"]?.stringValue
            guard status != "VOID", status != "DRAFT" else {
                throw .invalid(
                    "\(source).artefact_id", "cannot be allocated while it is \(status == "VOID" ? "void" : "a draft")")
            }
            let outstanding = Self.decimal(artefact["outstanding_amount"]) ?? 0
            guard amount > 0, amount <= outstanding else {
                throw .invalid("\(source).amount", "must be greater than 0 and no more than the outstanding amount")
            }
            found.append(Allocation(id: artefactID, kind: artefactKind, amount: amount))
        }
        return found
    }

    /// Takes allocations from their artefacts, each recording `entry` with its amount in `payments_allocations`.
    private mutating func apply(
        _ allocations: [Allocation], kind: Artefact, entry: JSONValue, now: Date
    ) throws(SageBusinessCloudFailure) {
        for allocation in allocations {
            guard var artefact = record(kind.resource, allocation.id) else { continue }
            let paid = (Self.decimal(artefact["total_paid"]) ?? 0) + allocation.amount
            artefact["total_paid"] = Self.money(paid)
            artefact["last_paid"] = entry["date"]
            var applied = entry.objectValue ?? [:]
            applied["amount"] = Self.money(allocation.amount)
            applied["discount"] = Self.money(0)
            artefact["payments_allocations"] = .array(
                (artefact["payments_allocations"]?.arrayValue ?? []) + [.object(applied)])
            try total(&artefact, lines: kind.lines)
            store(kind.resource, artefact, now: now)
        }
    }

    /// `DELETE /contact_payments/{id}`: the payment is gone and what it took is outstanding again.
    mutating func deletePayment(_ id: String, now: Date) throws(SageBusinessCloudFailure) {
        guard let payment = record("contact_payments", id) else { throw .notFound }
        let kind = Self.paymentTypes[payment["transaction_type"]?["id"]?.stringValue ?? ""]?.artefact ?? .invoice
        for element in payment["allocated_artefacts"]?.arrayValue ?? [] {
            guard let artefactID = element["artefact"]?["id"]?.stringValue,
                var artefact = record(kind.resource, artefactID)
            else { continue }
            let amount = Self.decimal(element["amount"]) ?? 0
            artefact["total_paid"] = Self.money((Self.decimal(artefact["total_paid"]) ?? 0) - amount)
            artefact["payments_allocations"] = .array(
                (artefact["payments_allocations"]?.arrayValue ?? []).filter {
                    $0["contact_payment"]?["id"]?.stringValue != id
                })
            try total(&artefact, lines: kind.lines)
            store(kind.resource, artefact, now: now)
        }
        remove("contact_payments", id, now: now)
    }
}

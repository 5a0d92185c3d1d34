import Accounting
import Foundation

extension SageBusiness {
    /// A sales invoice or a sales credit note: the same rules under different names.
    enum Artefact: Sendable {
        case invoice, creditNote

        var resource: String { self == .invoice ? "sales_invoices" : "sales_credit_notes" }
        var lines: String { self == .invoice ? "invoice_lines" : "credit_note_lines" }
        var number: String { self == .invoice ? "invoice_number" : "credit_note_number" }
        /// Sage's default number prefixes (`SI-1`, `SCN-1`).
        var prefix: String { self == .invoice ? "SI-" : "SCN-" }
    }

    /// The most lines an artefact may have here (Sage publishes no limit; this bounds a request's work).
    static let maximumLines = 500

    /// The statuses of an artefact (`status.id`), with Sage's display names.
    static let statuses = [
        "DRAFT": "Draft", "UNPAID": "Unpaid", "PART_PAID": "Part Paid", "PAID": "Paid", "VOID": "Void",
    ]

    /// `POST /sales_invoices` (`id` nil), `PUT /sales_invoices/{id}`, and the same for credit notes. Sage computes
    /// each line's net, tax and total (tax at the line's rate, rounded to the penny, unless the line gives its own
    /// `tax_amount`), the artefact's totals as the sums of its lines, and `outstanding_amount` as the total less
    /// what payments and allocations took.
    mutating func saveArtefact(
        _ kind: Artefact, _ input: Object, id: String?, now: Date
    ) throws(SageBusinessCloudFailure) -> Object {
        var artefact: Object
        if let id {
            guard let existing = record(kind.resource, id) else { throw .notFound }
            guard existing["status"]?["id"] != "VOID" else {
                throw .invalid("status", "A voided artefact cannot be edited")
            }
            artefact = existing
        } else {
            guard input["contact_id"] != nil else { throw .blank("contact_id") }
            guard input["date"] != nil else { throw .blank("date") }
            guard input[kind.lines] != nil else { throw .blank(kind.lines) }
            artefact = ["id": .string(Self.newID()), "payments_allocations": [], "total_paid": Self.money(0)]
        }
        if let value = input["contact_id"] {
            guard let contact = value.stringValue, isCustomer(contact) else {
                throw .invalid("contact_id", "is invalid")
            }
            artefact["contact"] = link("contacts", contact)
            artefact["contact_name"] = record("contacts", contact)?["name"]
            artefact["contact_reference"] = record("contacts", contact)?["reference"]
        }
        if let value = input["date"] {
            guard let date = Self.date(value) else { throw .invalid("date", "is invalid") }
            artefact["date"] = .string(date)
        }
        if kind == .invoice {
            if let value = input["due_date"] {
                guard let due = Self.date(value) else { throw .invalid("due_date", "is invalid") }
                artefact["due_date"] = .string(due)
            }
            if artefact["due_date"] == nil, let date = artefact["date"]?.stringValue {
                artefact["due_date"] = .string(dueDate(after: date, contact: artefact["contact"]?["id"]?.stringValue))
            }
            if let due = artefact["due_date"]?.stringValue, let date = artefact["date"]?.stringValue, due < date {
                throw .invalid("due_date", "must be on or after the invoice date")
            }
        } else if let value = input["original_invoice_date"] {
            guard let date = Self.date(value) else { throw .invalid("original_invoice_date", "is invalid") }
            artefact["original_invoice_date"] = .string(date)
        }
        for key in ["reference", "notes", "terms_and_conditions"] {
            if let text = try Self.text(input[key], key, limit: key == "reference" ? 25 : 2000) {
                artefact[key] = .string(text)
            }
        }
        if let address = input["main_address"]?.objectValue {
            artefact["main_address"] = .object(try Self.address(address, source: "main_address"))
        }
        try applyCurrency(input, to: &artefact)
        if let lines = input[kind.lines] {
            guard let elements = lines.arrayValue, !elements.isEmpty else { throw .blank(kind.lines) }
            guard elements.count <= Self.maximumLines else {
                throw .invalid(kind.lines, "has too many lines (maximum is \(Self.maximumLines))")
            }
            var computed: [JSONValue] = []
            for (index, element) in elements.enumerated() {
                guard let line = element.objectValue else { throw .invalid("\(kind.lines)[\(index)]", "is invalid") }
                computed.append(.object(try self.line(line, source: "\(kind.lines)[\(index)]")))
            }
            artefact[kind.lines] = .array(computed)
        }
        if id == nil {
            let draft = input["status_id"]?.stringValue == "DRAFT"
            if let status = input["status_id"], !draft, status.stringValue != "UNPAID" {
                throw .invalid("status_id", "is invalid")
            }
            if draft { artefact["status"] = status("DRAFT") }
            let number = kind == .invoice ? nextInvoiceNumber : nextCreditNoteNumber
            let prefix = try Self.text(input["\(kind == .invoice ? "invoice" : "credit_note")_number_prefix"], "prefix")
            artefact[kind.number] = .string("\(prefix ?? kind.prefix)\(number)")
            artefact["displayed_as"] = artefact[kind.number]
            if kind == .invoice { nextInvoiceNumber += 1 } else { nextCreditNoteNumber += 1 }
            artefact["sent"] = false
            artefact["editable"] = true
        }
        try total(&artefact, lines: kind.lines)
        store(kind.resource, artefact, now: now)
        return record(kind.resource, artefact["id"]?.stringValue ?? "") ?? artefact
    }

    /// `currency_id` and `exchange_rate`: the business's currency at 1 unless said; a foreign one at the rate given or
    /// the one the business holds.
    private func applyCurrency(_ input: Object, to artefact: inout Object) throws(SageBusinessCloudFailure) {
        if let value = input["currency_id"] {
            guard let code = value.stringValue, Self.currencies[code] != nil else {
                throw .invalid("currency_id", "is invalid")
            }
            artefact["currency"] = currencyLink(code)
            artefact["exchange_rate"] = nil
        }
        let code = artefact["currency"]?["id"]?.stringValue ?? region.currency
        artefact["currency"] = currencyLink(code)
        var rate: Decimal
        if let value = input["exchange_rate"] {
            guard let given = Self.decimal(value), given > 0, given < 1_000_000 else {
                throw .invalid("exchange_rate", "is invalid")
            }
            guard code != region.currency || given == 1 else {
                throw .invalid("exchange_rate", "must be 1 for the business currency")
            }
            rate = given
        } else if let kept = Self.decimal(artefact["exchange_rate"]) {
            rate = kept
        } else if code == region.currency {
            rate = 1
        } else {
            let base = Self.currencies[region.currency]?.rate ?? 1
            rate = (Self.currencies[code]?.rate ?? 1) / base
        }
        rate = Self.round(rate, places: 6)
        guard rate > 0 else { throw .invalid("exchange_rate", "is invalid") }
        artefact["exchange_rate"] = .number(Self.fixed(rate, places: 6))
        artefact["inverse_exchange_rate"] = .number(Self.fixed(1 / rate, places: 6))
    }

    /// One line as Sage keeps it: net = quantity × unit price − discount (or the tax-inclusive price less its tax),
    /// tax at the line's rate, each rounded to the penny.
    private func line(_ input: Object, source: String) throws(SageBusinessCloudFailure) -> Object {
        guard let description = try Self.text(input["description"], "\(source).description", limit: 2000),
            !description.isEmpty
        else { throw .blank("\(source).description") }
        guard input["unit_price"] != nil else { throw .blank("\(source).unit_price") }
        guard let unitPrice = Self.decimal(input["unit_price"]) else {
            throw .invalid("\(source).unit_price", "is invalid")
        }
        guard let ledger = input["ledger_account_id"]?.stringValue else { throw .blank("\(source).ledger_account_id") }
        guard let account = record("ledger_accounts", ledger) else {
            throw .invalid("\(source).ledger_account_id", "is invalid")
        }
        let quantity: Decimal =
            try input["quantity"].map { value throws(SageBusinessCloudFailure) -> Decimal in
                guard let quantity = Self.decimal(value), quantity >= 0, quantity < 1_000_000 else {
                    throw .invalid("\(source).quantity", "is invalid")
                }
                return quantity
            } ?? 1
        let discount: Decimal =
            try input["discount_amount"].map { value throws(SageBusinessCloudFailure) -> Decimal in
                guard let discount = Self.decimal(value), discount >= 0 else {
                    throw .invalid("\(source).discount_amount", "is invalid")
                }
                return discount
            } ?? 0
        let taxRateID = input["tax_rate_id"]?.stringValue ?? account["tax_rate"]?["id"]?.stringValue ?? ""
        guard let taxRate = record("tax_rates", taxRateID), let percent = Self.decimal(taxRate["percentage"]) else {
            throw .invalid("\(source).tax_rate_id", "is invalid")
        }
        var kept: Object = [
            "id": .string(Self.newID()), "description": .string(description),
            "ledger_account": link("ledger_accounts", ledger), "tax_rate": link("tax_rates", taxRateID),
            "quantity": Self.money(quantity), "unit_price": Self.money(unitPrice),
            "discount_amount": Self.money(discount),
        ]
        kept["displayed_as"] = kept["description"]
        for (key, resource, linked) in [("product_id", "products", "product"), ("service_id", "services", "service")] {
            guard let value = input[key] else { continue }
            guard let item = value.stringValue, record(resource, item) != nil else {
                throw .invalid("\(source).\(key)", "is invalid")
            }
            kept[linked] = link(resource, item)
        }
        let includesTax = input["unit_price_includes_tax"]?.boolValue ?? false
        let gross = Self.round(quantity * unitPrice - discount)
        var net: Decimal
        var tax: Decimal
        if includesTax {
            net = Self.round(gross * 100 / (100 + percent))
            tax = gross - net
        } else {
            net = gross
            tax = Self.round(net * percent / 100)
        }
        if let given = input["tax_amount"] {
            guard let amount = Self.decimal(given) else { throw .invalid("\(source).tax_amount", "is invalid") }
            tax = Self.round(amount)
            if includesTax { net = gross - tax }
        }
        kept["unit_price_includes_tax"] = .bool(includesTax)
        kept["net_amount"] = Self.money(net)
        kept["tax_amount"] = Self.money(tax)
        kept["total_amount"] = Self.money(net + tax)
        return kept
    }

    /// The artefact's totals from its lines, what is outstanding, and its status.
    func total(_ artefact: inout Object, lines key: String) throws(SageBusinessCloudFailure) {
        let lines = artefact[key]?.arrayValue ?? []
        var net = Decimal(0)
        var tax = Decimal(0)
        var analysis: [String: (net: Decimal, tax: Decimal)] = [:]
        var quantity = Decimal(0)
        for line in lines {
            let lineNet = Self.decimal(line["net_amount"]) ?? 0
            let lineTax = Self.decimal(line["tax_amount"]) ?? 0
            net += lineNet
            tax += lineTax
            quantity += Self.decimal(line["quantity"]) ?? 0
            let rate = line["tax_rate"]?["id"]?.stringValue ?? ""
            analysis[rate, default: (0, 0)].net += lineNet
            analysis[rate, default: (0, 0)].tax += lineTax
        }
        let total = net + tax
        guard total >= 0 else { throw .invalid("total_amount", "must be greater than or equal to 0") }
        let paid = Self.decimal(artefact["total_paid"]) ?? 0
        guard paid <= total else {
            throw .invalid("total_amount", "cannot be less than the amount already paid or allocated")
        }
        let rate = Self.decimal(artefact["exchange_rate"]) ?? 1
        artefact["net_amount"] = Self.money(net)
        artefact["tax_amount"] = Self.money(tax)
        artefact["total_amount"] = Self.money(total)
        artefact["total_quantity"] = Self.money(quantity)
        artefact["outstanding_amount"] = Self.money(total - paid)
        artefact["base_currency_net_amount"] = Self.money(net / rate)
        artefact["base_currency_tax_amount"] = Self.money(tax / rate)
        artefact["base_currency_total_amount"] = Self.money(total / rate)
        artefact["base_currency_outstanding_amount"] = Self.money((total - paid) / rate)
        artefact["payments_allocations_total_amount"] = Self.money(paid)
        artefact["tax_analysis"] = .array(
            analysis.keys.sorted().map { id in
                let part = analysis[id] ?? (0, 0)
                return [
                    "tax_rate": link("tax_rates", id), "net_amount": Self.money(part.net),
                    "tax_amount": Self.money(part.tax), "total_amount": Self.money(part.net + part.tax),
                ]
            })
        let current = artefact["status"]?["id"]?.stringValue
        guard current != "DRAFT", current != "VOID" else { return }
        artefact["status"] = status(paid == 0 ? "UNPAID" : paid >= total ? "PAID" : "PART_PAID")
    }

    func status(_ id: String) -> JSONValue {
        [
            "id": .string(id), "displayed_as": .string(Self.statuses[id] ?? id),
            "$path": .string("/artefact_statuses/\(id)"),
        ]
    }

    /// The due date when none is given: the contact's credit days after the date, or 30.
    private func dueDate(after date: String, contact: String?) -> String {
        let days = contact.flatMap { record("contacts", $0)?["credit_days"]?.intValue } ?? 30
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        guard let start = formatter.date(from: date) else { return date }
        return Self.day(start.addingTimeInterval(TimeInterval(days) * 86_400))
    }

    /// `DELETE /sales_invoices/{id}?void_reason=…` (and for credit notes): voids an issued artefact without payments
    /// or allocations; a draft is deleted instead.
    /// - Returns: the voided artefact, or `nil` when a draft was deleted (Sage answers 204).
    mutating func void(_ kind: Artefact, _ id: String, reason: String?, now: Date) throws(SageBusinessCloudFailure)
        -> Object?
    {
        guard var artefact = record(kind.resource, id) else { throw .notFound }
        let status = artefact["status"]?["id"]?.stringValue
        if status == "DRAFT" {
            remove(kind.resource, id, now: now)
            return nil
        }
        guard status != "VOID" else { throw .invalid("status", "The artefact is already void") }
        guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw .blank("void_reason") }
        guard reason.count <= 255 else { throw .invalid("void_reason", "is too long (maximum is 255 characters)") }
        guard (artefact["payments_allocations"]?.arrayValue ?? []).isEmpty else {
            throw .invalid("base", "The artefact cannot be voided while it has payments or allocations")
        }
        artefact["status"] = self.status("VOID")
        artefact["void_reason"] = .string(reason)
        artefact["outstanding_amount"] = Self.money(0)
        artefact["base_currency_outstanding_amount"] = Self.money(0)
        artefact["editable"] = false
        store(kind.resource, artefact, now: now)
        return record(kind.resource, id)
    }
}

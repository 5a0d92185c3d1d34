import Accounting
import Foundation

/// Invoices (ACCREC, ACCPAY) and credit notes (ACCRECCREDIT, ACCPAYCREDIT): Xero computes their lines, tax and
/// totals, numbers sales documents, and keeps what is still due as payments and allocations arrive.
extension XeroOrganisation {
    enum Document {
        case invoice, creditNote

        var collection: String { self == .invoice ? "Invoices" : "CreditNotes" }
        var idKey: String { self == .invoice ? "InvoiceID" : "CreditNoteID" }
        var numberKey: String { self == .invoice ? "InvoiceNumber" : "CreditNoteNumber" }
        var display: String { self == .invoice ? "Invoice" : "Credit Note" }
        var types: [String] { self == .invoice ? ["ACCREC", "ACCPAY"] : ["ACCRECCREDIT", "ACCPAYCREDIT"] }
        var sales: String { types[0] }
        var prefix: String { self == .invoice ? "INV-" : "CN-" }
        var category: XeroWebhookEvent.Category { self == .invoice ? .invoice : .creditNote }
    }

    /// The keys Xero computes: what a client sends for them is not kept.
    static let computedKeys: Set<String> = [
        "SubTotal", "TotalTax", "Total", "TotalDiscount", "AmountDue", "AmountPaid", "AmountCredited", "Payments",
        "CreditNotes", "Prepayments", "Overpayments", "Allocations", "RemainingCredit", "AppliedAmount",
        "UpdatedDateUTC", "FullyPaidOnDate", "HasErrors", "StatusAttributeString", "ValidationErrors", "Warnings",
        "DateString", "DueDateString", "IsDiscounted", "HasAttachments",
    ]

    mutating func saveInvoice(
        _ input: Object, id: String?, mode: Mode, now: Date, unitPlaces: Int = 2
    ) throws(XeroValidation) -> Object {
        try saveDocument(.invoice, input, id: id, mode: mode, now: now, unitPlaces: unitPlaces)
    }

    mutating func saveCreditNote(
        _ input: Object, id: String?, mode: Mode, now: Date, unitPlaces: Int = 2
    ) throws(XeroValidation) -> Object {
        try saveDocument(.creditNote, input, id: id, mode: mode, now: now, unitPlaces: unitPlaces)
    }

    /// A document by its id or, failing that, its number.
    func document(_ kind: Document, _ reference: String) -> Object? {
        record(kind.collection, reference)
            ?? all(kind.collection).first { $0[kind.numberKey]?.stringValue == reference }
    }

    mutating func saveDocument(
        _ kind: Document, _ input: Object, id: String?, mode: Mode, now: Date, unitPlaces: Int
    ) throws(XeroValidation) -> Object {
        var existing: Object?
        if let id {
            guard let found = self.document(kind, id) else { throw .notFound(kind.display) }
            existing = found
        } else if let given = input[kind.idKey]?.stringValue {
            guard mode != .create, let found = record(kind.collection, given) else {
                throw XeroValidation("\(kind.display) could not be found")
            }
            existing = found
        } else if mode == .createOrUpdate, let number = input[kind.numberKey]?.stringValue {
            existing = all(kind.collection).first {
                $0[kind.numberKey]?.stringValue == number && $0["Status"]?.stringValue != "DELETED"
            }
        }
        if mode == .update, existing == nil { throw .notFound(kind.display) }
        let before = existing?["Status"]?.stringValue
        let settled = existing.map { Self.settledAmount(kind, $0) } ?? 0
        var document = existing ?? [:]
        for (key, value) in input where !Self.computedKeys.contains(key) && key != kind.idKey {
            document[key] = value
        }
        let status = try Self.nextStatus(kind, from: before, requested: input["Status"]?.stringValue, settled: settled)
        document["Status"] = .string(status)
        if let before, before != "DRAFT", before != "SUBMITTED",
            input["LineItems"] != nil || input["LineAmountTypes"] != nil || input["CurrencyCode"] != nil
                || input["Contact"] != nil,
            settled > 0 || ["VOIDED", "DELETED", "PAID"].contains(before)
        {
            throw XeroValidation("This document cannot be edited as it has a payment or credit note allocated to it.")
        }
        guard let type = document["Type"]?.stringValue, kind.types.contains(type) else {
            throw XeroValidation("\(kind.display) Type must be one of \(kind.types.joined(separator: ", "))")
        }
        try resolveContact(&document, now: now)
        let currency = document["CurrencyCode"]?.stringValue ?? baseCurrency
        guard hasCurrency(currency) else {
            throw XeroValidation("The currency code \(currency) is not a currency of this organisation")
        }
        document["CurrencyCode"] = .string(currency)
        var currencyRate = self.rate(currency)
        if currency != baseCurrency, input["CurrencyRate"] != nil || existing?["CurrencyRate"] != nil {
            guard let given = Self.decimal(document["CurrencyRate"]), given > 0 else {
                throw XeroValidation("The CurrencyRate must be a number greater than zero")
            }
            currencyRate = given
        }
        document["CurrencyRate"] = .number(Self.fixed(currencyRate, places: 6))
        for key in ["Date", "DueDate"] {
            guard let value = document[key] else { continue }
            guard let date = Self.parseDate(value) else { throw XeroValidation("\(key) is not a valid date") }
            document[key] = .string(Self.dateJSON(date))
        }
        if document["Date"] == nil {
            let today = Self.parseDate(.string(String(Self.day(now)))) ?? now
            document["Date"] = .string(Self.dateJSON(today))
        }
        try computeLines(kind, &document, sales: type == kind.sales, unitPlaces: unitPlaces)
        let documentID = existing?[kind.idKey]?.stringValue ?? UUID().uuidString.lowercased()
        try number(kind, &document, id: documentID, type: type)
        document[kind.idKey] = .string(documentID)
        Self.settle(kind, &document, now: now)
        if status == "VOIDED" || status == "DELETED" { Self.zeroDue(kind, &document) }
        document["HasErrors"] = false
        document["HasAttachments"] = false
        if kind == .invoice {
            document["IsDiscounted"] = .bool((Self.decimal(document["TotalDiscount"]) ?? 0) > 0)
            document["SentToContact"] = document["SentToContact"] ?? false
        }
        store(kind.collection, document, now: now)
        if before != "AUTHORISED", status == "AUTHORISED" { journal(kind, document, sign: 1, now: now) }
        if before == "AUTHORISED", status == "VOIDED" { journal(kind, document, sign: -1, now: now) }
        recordChange(kind, documentID, created: existing == nil, now: now)
        return records[kind.collection]?[documentID] ?? document
    }

    mutating func recordChange(_ kind: Document, _ id: String, created: Bool, now: Date) {
        let stored = record(kind.collection, id)
        var note: (type: String, status: String)?
        if kind == .creditNote {
            note = (type: stored?["Type"]?.stringValue ?? "", status: stored?["Status"]?.stringValue ?? "")
        }
        record(event: kind.category, created ? .create : .update, id: id, now: now, creditNote: note)
    }

    /// The status a write leads to, or Xero's refusal: new documents are DRAFT, SUBMITTED or AUTHORISED; drafts are
    /// deleted, authorised ones voided (not with payments); voided, deleted and paid ones stay as they are.
    static func nextStatus(
        _ kind: Document, from before: String?, requested: String?, settled: Decimal
    ) throws(XeroValidation) -> String {
        let editable: Set<String> = ["DRAFT", "SUBMITTED", "AUTHORISED"]
        guard let before else {
            let status = requested ?? "DRAFT"
            guard editable.contains(status) else {
                throw XeroValidation("\(kind.display) Status must be DRAFT, SUBMITTED or AUTHORISED when it is created")
            }
            return status
        }
        guard let requested, requested != before else { return before }
        switch (before, requested) {
        case ("DRAFT", "SUBMITTED"), ("DRAFT", "AUTHORISED"), ("SUBMITTED", "AUTHORISED"), ("SUBMITTED", "DRAFT"),
            ("DRAFT", "DELETED"), ("SUBMITTED", "DELETED"):
            return requested
        case ("AUTHORISED", "VOIDED"):
            guard settled == 0 else {
                throw XeroValidation(
                    "This document cannot be voided as it has a payment or credit note allocated to it.")
            }
            return requested
        default:
            throw XeroValidation("\(kind.display) not of valid status for modification")
        }
    }

    /// What payments and allocations have settled of a document.
    static func settledAmount(_ kind: Document, _ document: Object) -> Decimal {
        switch kind {
        case .invoice: (decimal(document["AmountPaid"]) ?? 0) + (decimal(document["AmountCredited"]) ?? 0)
        case .creditNote:
            (decimal(document["AppliedAmount"]) ?? 0)
                + ((document["Payments"]?.arrayValue ?? []).reduce(Decimal(0)) { $0 + (decimal($1["Amount"]) ?? 0) })
        }
    }

    /// `AmountDue`/`AmountPaid`/`AmountCredited` (invoices) or `RemainingCredit` (credit notes) from the payments and
    /// allocations held, and `PAID` when nothing is left.
    static func settle(_ kind: Document, _ document: inout Object, now: Date) {
        let total = decimal(document["Total"]) ?? 0
        let payments = (document["Payments"]?.arrayValue ?? []).reduce(Decimal(0)) { $0 + (decimal($1["Amount"]) ?? 0) }
        document["Payments"] = document["Payments"] ?? []
        let left: Decimal
        switch kind {
        case .invoice:
            let credited = (document["CreditNotes"]?.arrayValue ?? []).reduce(Decimal(0)) {
                $0 + (decimal($1["AppliedAmount"]) ?? 0)
            }
            document["CreditNotes"] = document["CreditNotes"] ?? []
            document["Prepayments"] = []
            document["Overpayments"] = []
            left = total - payments - credited
            document["AmountPaid"] = money(payments)
            document["AmountCredited"] = money(credited)
            document["AmountDue"] = money(left)
        case .creditNote:
            let applied = (document["Allocations"]?.arrayValue ?? []).reduce(Decimal(0)) {
                $0 + (decimal($1["Amount"]) ?? 0)
            }
            document["Allocations"] = document["Allocations"] ?? []
            left = total - applied - payments
            document["AppliedAmount"] = money(applied)
            document["RemainingCredit"] = money(left)
        }
        let status = document["Status"]?.stringValue
        if status == "AUTHORISED", left == 0, total > 0 {
            document["Status"] = "PAID"
            document["FullyPaidOnDate"] = .string(dateJSON(now))
        } else if status == "PAID", left > 0 {
            document["Status"] = "AUTHORISED"
            document["FullyPaidOnDate"] = nil
        }
    }

    static func zeroDue(_ kind: Document, _ document: inout Object) {
        if kind == .invoice { document["AmountDue"] = money(0) } else { document["RemainingCredit"] = money(0) }
    }

    /// The document's contact: by `ContactID` (which must exist), or by `Name` (an existing contact of that name,
    /// or a new one, as Xero creates it), or by `ContactNumber`.
    mutating func resolveContact(_ document: inout Object, now: Date) throws(XeroValidation) {
        guard case .object(let given)? = document["Contact"] else {
            throw XeroValidation("A Contact must be specified for this type of transaction")
        }
        let contact: Object
        if let id = given["ContactID"]?.stringValue {
            guard let found = record("Contacts", id) else {
                throw XeroValidation("The contact with the specified ContactID could not be found")
            }
            contact = found
        } else if let name = given["Name"]?.stringValue, !name.isEmpty {
            if let found = all("Contacts").first(where: { $0["Name"]?.stringValue == name }) {
                contact = found
            } else {
                contact = try saveContact(given, id: nil, mode: .create, now: now)
            }
        } else if let number = given["ContactNumber"]?.stringValue,
            let found = all("Contacts").first(where: { $0["ContactNumber"]?.stringValue == number })
        {
            contact = found
        } else {
            throw XeroValidation("A Contact must be specified for this type of transaction")
        }
        document["Contact"] = .object(contact)
    }

    /// Lines as Xero computes them: `LineAmount` = Quantity × UnitAmount less `DiscountRate` % or `DiscountAmount`,
    /// `TaxAmount` from the line's tax rate (unless given) per line, each rounded to two places, then `SubTotal`,
    /// `TotalTax` and `Total` as their sums (Inclusive lines hold their tax; NoTax lines none).
    mutating func computeLines(
        _ kind: Document, _ document: inout Object, sales: Bool, unitPlaces: Int
    ) throws(XeroValidation) {
        let amountTypes = document["LineAmountTypes"]?.stringValue ?? "Exclusive"
        guard ["Exclusive", "Inclusive", "NoTax"].contains(amountTypes) else {
            throw XeroValidation("LineAmountTypes must be Exclusive, Inclusive or NoTax")
        }
        document["LineAmountTypes"] = .string(amountTypes)
        guard let lines = (document["LineItems"] ?? []).arrayValue, lines.count <= 10_000 else {
            throw XeroValidation("LineItems must be a list of line items")
        }
        var computed: [JSONValue] = []
        var subTotal = Decimal(0)
        var totalTax = Decimal(0)
        var total = Decimal(0)
        var discount = Decimal(0)
        for value in lines {
            guard case .object(var line) = value else { throw XeroValidation("A line item must be an object") }
            if let code = line["ItemCode"]?.stringValue {
                guard let item = all("Items").first(where: { $0["Code"]?.stringValue == code }) else {
                    throw XeroValidation("Item code '\(code)' is not valid")
                }
                let details = item[sales ? "SalesDetails" : "PurchaseDetails"]
                line["Description"] = line["Description"] ?? item[sales ? "Description" : "PurchaseDescription"]
                line["UnitAmount"] = line["UnitAmount"] ?? details?["UnitPrice"]
                line["AccountCode"] = line["AccountCode"] ?? details?["AccountCode"]
                line["TaxType"] = line["TaxType"] ?? details?["TaxType"]
                line["Item"] = [
                    "ItemID": item["ItemID"] ?? .null, "Code": .string(code), "Name": item["Name"] ?? .null,
                ]
            }
            var account: Object?
            if let code = line["AccountCode"]?.stringValue {
                guard let found = accountByCode(code) else {
                    throw XeroValidation("Account code '\(code)' is not a valid code for this document.")
                }
                account = found
                line["AccountID"] = found["AccountID"]
            }
            if amountTypes == "NoTax" { line["TaxType"] = "NONE" }
            if let tax = line["TaxType"]?.stringValue {
                guard taxRate(tax) != nil else {
                    throw XeroValidation(
                        "The TaxType code '\(tax)' does not exist or cannot be used for this type of transaction.")
                }
            } else if let tax = account?["TaxType"]?.stringValue {
                line["TaxType"] = .string(tax)
            }
            let quantity = try Self.lineNumber(line, "Quantity") ?? 1
            let unit = try Self.lineNumber(line, "UnitAmount").map { Self.roundUnit($0, unitPlaces) }
            var amount: Decimal
            var gross: Decimal
            if let unit {
                gross = quantity * unit
                amount = gross
                if let rate = try Self.lineNumber(line, "DiscountRate") {
                    guard rate >= 0, rate <= 100 else { throw XeroValidation("DiscountRate must be between 0 and 100") }
                    amount = gross * (100 - rate) / 100
                } else if let off = try Self.lineNumber(line, "DiscountAmount") {
                    amount = gross - off
                }
                amount = Self.round(amount)
                gross = Self.round(gross)
                line["UnitAmount"] = .number(Self.fixed(unit, places: unitPlaces))
            } else {
                let given = try Self.lineNumber(line, "LineAmount") ?? 0
                amount = Self.round(given)
                gross = amount
            }
            let taxPercent = line["TaxType"]?.stringValue.flatMap { self.percent($0) } ?? 0
            let tax: Decimal
            if amountTypes == "NoTax" {
                tax = 0
            } else if let given = try Self.lineNumber(line, "TaxAmount") {
                tax = Self.round(given)
            } else if amountTypes == "Inclusive" {
                tax = Self.round(amount * taxPercent / (100 + taxPercent))
            } else {
                tax = Self.round(amount * taxPercent / 100)
            }
            discount += gross - amount
            line["Quantity"] = .number(Self.fixed(quantity, places: 4))
            line["LineAmount"] = Self.money(amount)
            line["TaxAmount"] = Self.money(tax)
            line["LineItemID"] = line["LineItemID"] ?? .string(UUID().uuidString.lowercased())
            line["Tracking"] = line["Tracking"] ?? []
            line["ValidationErrors"] = nil
            computed.append(.object(line))
            totalTax += tax
            if amountTypes == "Inclusive" {
                subTotal += amount - tax
                total += amount
            } else {
                subTotal += amount
                total += amount + tax
            }
        }
        document["LineItems"] = .array(computed)
        document["SubTotal"] = Self.money(subTotal)
        document["TotalTax"] = Self.money(totalTax)
        document["Total"] = Self.money(total)
        if discount != 0 { document["TotalDiscount"] = Self.money(discount) }
    }

    static func lineNumber(_ line: Object, _ key: String) throws(XeroValidation) -> Decimal? {
        guard let value = line[key], value != .null else { return nil }
        guard let number = decimal(value) else { throw XeroValidation("\(key) must be a number") }
        return number
    }

    static func roundUnit(_ value: Decimal, _ places: Int) -> Decimal {
        var result = Decimal()
        var source = value
        NSDecimalRound(&result, &source, places, .plain)
        return result
    }

    /// Numbers a new sales document (`INV-0001`, `CN-0001`) and refuses a sales invoice number already used.
    mutating func number(_ kind: Document, _ document: inout Object, id: String, type: String) throws(XeroValidation) {
        if let number = document[kind.numberKey]?.stringValue, !number.isEmpty {
            guard number.count <= 255 else { throw XeroValidation("\(kind.display) number is too long") }
            if type == kind.sales,
                all(kind.collection).contains(where: {
                    $0[kind.numberKey]?.stringValue == number && $0[kind.idKey]?.stringValue != id
                        && $0["Type"]?.stringValue == type && $0["Status"]?.stringValue != "DELETED"
                })
            {
                throw XeroValidation(kind == .invoice ? "Invoice # must be unique." : "Credit Note # must be unique.")
            }
            return
        }
        guard type == kind.sales else { return }
        var next: String
        repeat {
            let counter = kind == .invoice ? nextInvoiceNumber : nextCreditNoteNumber
            let digits = String(counter)
            next = kind.prefix + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
            if kind == .invoice { nextInvoiceNumber += 1 } else { nextCreditNoteNumber += 1 }
        } while all(kind.collection).contains(where: { $0[kind.numberKey]?.stringValue == next })
        document[kind.numberKey] = .string(next)
    }

    /// The journal an authorised document posts (or, with `sign` -1, its reversal when voided).
    mutating func journal(_ kind: Document, _ document: Object, sign: Decimal, now: Date) {
        let type = document["Type"]?.stringValue ?? ""
        let receivable = type == "ACCREC" || type == "ACCPAYCREDIT"
        let direction: Decimal = (receivable ? 1 : -1) * sign
        var lines: [(account: String, net: Decimal, tax: Decimal)] = []
        let total = Self.decimal(document["Total"]) ?? 0
        lines.append((receivable ? "610" : "800", total * direction, 0))
        for line in document["LineItems"]?.arrayValue ?? [] {
            let tax = Self.decimal(line["TaxAmount"]) ?? 0
            var net = Self.decimal(line["LineAmount"]) ?? 0
            if document["LineAmountTypes"]?.stringValue == "Inclusive" { net -= tax }
            lines.append((line["AccountCode"]?.stringValue ?? "", -net * direction, -tax * direction))
        }
        let date = Self.parseDate(document["Date"]) ?? now
        addJournal(
            source: document[kind.idKey]?.stringValue ?? "", sourceType: type, date: date,
            lines: lines, now: now)
    }
}

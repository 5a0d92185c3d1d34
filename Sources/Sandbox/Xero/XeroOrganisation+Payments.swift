import Accounting
import Foundation

/// Payments against invoices (and refunds against credit notes), their deletion, and credit note allocations.
extension XeroOrganisation {
    /// `PUT /Payments`: a payment of an authorised invoice or credit note, into a bank account (or one with
    /// `EnablePaymentsToAccount`), no larger than what is due.
    mutating func createPayment(_ input: Object, now: Date) throws(XeroValidation) -> Object {
        let kind: Document
        let reference: String
        if let invoice = input["Invoice"],
            let id = invoice["InvoiceID"]?.stringValue ?? invoice["InvoiceNumber"]?.stringValue
        {
            (kind, reference) = (.invoice, id)
        } else if let note = input["CreditNote"],
            let id = note["CreditNoteID"]?.stringValue ?? note["CreditNoteNumber"]?.stringValue
        {
            (kind, reference) = (.creditNote, id)
        } else {
            throw XeroValidation("You must specify either an Invoice, CreditNote, Prepayment or Overpayment")
        }
        guard var target = document(kind, reference) else {
            throw XeroValidation(kind == .invoice ? "Invoice could not be found" : "Credit Note could not be found")
        }
        let accountInput = input["Account"]
        let account =
            accountInput?["AccountID"]?.stringValue.flatMap { record("Accounts", $0) }
            ?? accountInput?["Code"]?.stringValue.flatMap { accountByCode($0) }
        guard let account else { throw XeroValidation("Account could not be found") }
        guard account["Type"]?.stringValue == "BANK" || account["EnablePaymentsToAccount"]?.boolValue == true else {
            throw XeroValidation(
                "Payments can only be made to or from a bank account or an account with EnablePaymentsToAccount set")
        }
        guard let amount = Self.decimal(input["Amount"]), amount > 0 else {
            throw XeroValidation("Payment amount must be greater than zero")
        }
        guard let date = Self.parseDate(input["Date"]) else { throw XeroValidation("Payment Date is required") }
        let status = target["Status"]?.stringValue ?? ""
        guard status == "AUTHORISED" else {
            throw XeroValidation("Payment cannot be created as the \(kind.display.lowercased()) is not AUTHORISED")
        }
        let due = Self.decimal(target[kind == .invoice ? "AmountDue" : "RemainingCredit"]) ?? 0
        guard Self.round(amount) <= due else {
            throw XeroValidation("Payment amount exceeds the amount outstanding on this document")
        }
        let type = target["Type"]?.stringValue ?? ""
        let paymentType: String =
            switch type {
            case "ACCREC": "ACCRECPAYMENT"
            case "ACCPAY": "ACCPAYPAYMENT"
            case "ACCRECCREDIT": "ARCREDITPAYMENT"
            default: "APCREDITPAYMENT"
            }
        let paymentID = UUID().uuidString.lowercased()
        let rate = Self.decimal(input["CurrencyRate"]) ?? Self.decimal(target["CurrencyRate"]) ?? 1
        var summary: Object = [
            "Type": .string(type), "Contact": target["Contact"] ?? .null,
            "CurrencyCode": target["CurrencyCode"] ?? .null, "LineItems": [],
        ]
        summary[kind.idKey] = target[kind.idKey] ?? .null
        summary[kind.numberKey] = target[kind.numberKey] ?? .null
        var payment: Object = [
            "PaymentID": .string(paymentID), "Date": .string(Self.dateJSON(date)), "Amount": Self.money(amount),
            "BankAmount": Self.money(amount), "Reference": input["Reference"] ?? "",
            "CurrencyRate": .number(Self.fixed(rate, places: 6)), "PaymentType": .string(paymentType),
            "Status": "AUTHORISED", "IsReconciled": false, "HasAccount": true, "HasValidationErrors": false,
            "Account": ["AccountID": account["AccountID"] ?? .null, "Code": account["Code"] ?? .null],
        ]
        payment[kind == .invoice ? "Invoice" : "CreditNote"] = .object(summary)
        store("Payments", payment, now: now)
        var payments = target["Payments"]?.arrayValue ?? []
        payments.append([
            "PaymentID": .string(paymentID), "Date": .string(Self.dateJSON(date)), "Amount": Self.money(amount),
            "Reference": input["Reference"] ?? "", "CurrencyRate": .number(Self.fixed(rate, places: 6)),
            "HasAccount": true, "HasValidationErrors": false,
        ])
        target["Payments"] = .array(payments)
        Self.settle(kind, &target, now: now)
        store(kind.collection, target, now: now)
        let receivable = type == "ACCREC" || type == "ACCPAYCREDIT"
        let bank = account["Code"]?.stringValue ?? ""
        let control = receivable ? "610" : "800"
        let sign: Decimal = receivable ? 1 : -1
        addJournal(
            source: paymentID, sourceType: receivable ? "ACCRECPAYMENT" : "ACCPAYPAYMENT", date: date,
            lines: [(bank, amount * sign, 0), (control, -amount * sign, 0)], now: now)
        recordChange(kind, target[kind.idKey]?.stringValue ?? "", created: false, now: now)
        return records["Payments"]?[paymentID] ?? payment
    }

    /// `POST /Payments/{id}` with `Status: DELETED`: the payment is deleted and its document owes again.
    mutating func deletePayment(_ id: String, _ input: Object, now: Date) throws(XeroValidation) -> Object {
        guard var payment = record("Payments", id) else { throw .notFound("Payment") }
        guard input["Status"]?.stringValue == "DELETED" else {
            throw XeroValidation("A payment can only be changed to a Status of DELETED")
        }
        guard payment["Status"]?.stringValue != "DELETED" else {
            throw XeroValidation("This payment has already been deleted")
        }
        let kind: Document = payment["Invoice"] != nil ? .invoice : .creditNote
        let reference = payment[kind == .invoice ? "Invoice" : "CreditNote"]?[kind.idKey]?.stringValue ?? ""
        if var document = record(kind.collection, reference) {
            document["Payments"] = .array(
                (document["Payments"]?.arrayValue ?? []).filter { $0["PaymentID"]?.stringValue != id })
            Self.settle(kind, &document, now: now)
            store(kind.collection, document, now: now)
            recordChange(kind, reference, created: false, now: now)
        }
        payment["Status"] = "DELETED"
        store("Payments", payment, now: now)
        return records["Payments"]?[id] ?? payment
    }

    /// `PUT /CreditNotes/{id}/Allocations`: part of an authorised credit note applied to an authorised invoice of the
    /// same contact and currency, no more than the credit left nor than the invoice owes.
    mutating func allocate(creditNoteID: String, _ input: Object, now: Date) throws(XeroValidation) -> Object {
        guard var note = document(.creditNote, creditNoteID) else { throw .notFound("Credit Note") }
        guard
            let invoiceID = input["Invoice"]?["InvoiceID"]?.stringValue
                ?? input["Invoice"]?["InvoiceNumber"]?.stringValue,
            var invoice = document(.invoice, invoiceID)
        else { throw XeroValidation("Invoice could not be found") }
        guard let amount = Self.decimal(input["Amount"]), amount > 0 else {
            throw XeroValidation("Amount must be greater than zero")
        }
        guard note["Status"]?.stringValue == "AUTHORISED" else {
            throw XeroValidation("Credit Note not of valid status for allocation")
        }
        guard invoice["Status"]?.stringValue == "AUTHORISED" else {
            throw XeroValidation("Invoice not of valid status for allocation")
        }
        guard note["CurrencyCode"] == invoice["CurrencyCode"] else {
            throw XeroValidation("The currency of the credit note does not match the currency of the invoice")
        }
        guard note["Contact"]?["ContactID"] == invoice["Contact"]?["ContactID"] else {
            throw XeroValidation("The credit note and the invoice must be for the same contact")
        }
        let rounded = Self.round(amount)
        guard rounded <= (Self.decimal(note["RemainingCredit"]) ?? 0) else {
            throw XeroValidation("The amount allocated exceeds the remaining credit on this credit note")
        }
        guard rounded <= (Self.decimal(invoice["AmountDue"]) ?? 0) else {
            throw XeroValidation("The amount allocated exceeds the amount outstanding on the invoice")
        }
        let date = Self.parseDate(input["Date"]) ?? now
        let allocationID = UUID().uuidString.lowercased()
        let noteID = note["CreditNoteID"]?.stringValue ?? ""
        let invoiceKey = invoice["InvoiceID"]?.stringValue ?? ""
        note["Allocations"] = .array(
            (note["Allocations"]?.arrayValue ?? []) + [
                [
                    "AllocationID": .string(allocationID), "Amount": Self.money(rounded),
                    "Date": .string(Self.dateJSON(date)),
                    "Invoice": [
                        "InvoiceID": .string(invoiceKey), "InvoiceNumber": invoice["InvoiceNumber"] ?? .null,
                    ],
                ]
            ])
        invoice["CreditNotes"] = .array(
            (invoice["CreditNotes"]?.arrayValue ?? []) + [
                [
                    "CreditNoteID": .string(noteID), "CreditNoteNumber": note["CreditNoteNumber"] ?? .null,
                    "AppliedAmount": Self.money(rounded), "Date": .string(Self.dateJSON(date)),
                    "Total": note["Total"] ?? .null,
                ]
            ])
        Self.settle(.creditNote, &note, now: now)
        Self.settle(.invoice, &invoice, now: now)
        store("CreditNotes", note, now: now)
        store("Invoices", invoice, now: now)
        recordChange(.creditNote, noteID, created: false, now: now)
        recordChange(.invoice, invoiceKey, created: false, now: now)
        return [
            "AllocationID": .string(allocationID), "Amount": Self.money(rounded), "Date": .string(Self.dateJSON(date)),
            "Invoice": .object(records["Invoices"]?[invoiceKey] ?? invoice),
            "CreditNote": ["CreditNoteID": .string(noteID), "CreditNoteNumber": note["CreditNoteNumber"] ?? .null],
            "IsDeleted": false, "StatusAttributeString": "OK",
        ]
    }

    /// `GET /Journals?offset=N`: journals numbered above `offset`, at most 100.
    func journals(after offset: Int) -> [Object] {
        Array(journals.dropFirst(max(0, offset)).prefix(100))
    }
}

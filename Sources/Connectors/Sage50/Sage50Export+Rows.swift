import Accounting
import Foundation

extension Sage50Export {
    /// The rows of one record, or why Sage 50 cannot take it as it stands.
    static func rows(
        for request: PushRequest, accounts: [String: String], timeZone: TimeZone
    ) throws(ConnectorError) -> [[String]] {
        let key = key(tenantID: request.tenantID, recordType: request.recordType, localID: request.localID)
        if request.action == .void {
            // Sage 50's import cannot void; a transaction is deleted in Sage (Transactions → Delete), where it stays
            // in the audit trail marked deleted.
            throw ConnectorError.validation(
                code: "sage50_void",
                message: request.remoteID.map { "voided in billing: delete transaction \($0) in Sage 50" }
                    ?? "voided before it reached Sage 50: nothing to import")
        }
        if let remoteID = request.remoteID {
            // Imported rows cannot be changed by another import (each line is a new transaction), so a change to a
            // record Sage already holds is made in Sage.
            throw ConnectorError.validation(
                code: "sage50_in_books",
                message: "already in Sage 50 as transaction \(remoteID); change it there (File > Maintenance > "
                    + "Corrections)")
        }
        func account(_ customerID: Customer.ID) throws(ConnectorError) -> String {
            guard let reference = accounts[customerID.rawValue] else {
                throw ConnectorError.validation(
                    code: "sage50_unlinked", message: "billing's customer \(customerID) has no Sage 50 A/C yet")
            }
            return reference
        }
        let mappings = request.mappings
        switch request.record {
        case .invoice(let invoice):
            try pounds(invoice.currency)
            try rate(invoice.exchangeRate)
            return try documentRows(
                type: "SI", account: account(invoice.customerID), date: invoice.issueDate, number: invoice.number,
                lines: invoice.lines, key: key, mappings: mappings)
        case .creditNote(let note):
            try pounds(note.currency)
            return try documentRows(
                type: "SC", account: account(note.customerID), date: note.issueDate, number: note.number,
                lines: note.lines, key: key, mappings: mappings)
        case .payment(let payment):
            try pounds(payment.currency)
            return [
                try moneyRow(
                    type: "SA", account: account(payment.customerID), bankCode: payment.depositAccount,
                    date: date(of: payment.receivedAt, in: timeZone),
                    reference: payment.reference ?? payment.id.rawValue,
                    details: "Payment on account", amount: payment.amount, key: key, mappings: mappings)
            ]
        case .refund(let refund):
            try pounds(refund.currency)
            return [
                try moneyRow(
                    type: "SP", account: account(refund.customerID), bankCode: refund.depositAccount,
                    date: date(of: refund.refundedAt, in: timeZone), reference: refund.reference ?? refund.id.rawValue,
                    details: "Refund", amount: refund.amount, key: key, mappings: mappings)
            ]
        case .customer:
            return []
        }
    }

    /// One row per line with a positive amount: nominal code from `accounts`, tax code from `tax_codes` (a line with
    /// no tax code and no tax is `T9`, outside the scope of VAT), the line's own net and VAT so every line is exact
    /// to the penny.
    static func documentRows(
        type: String, account: String, date: LocalDate, number: String, lines: [DocumentLine], key: String,
        mappings: CodeMappings
    ) throws(ConnectorError) -> [[String]] {
        var rows: [[String]] = []
        var missing: [CodeMappings.Missing] = []
        for line in lines {
            let tax = line.taxAmount?.minorUnits ?? 0
            if line.amount.minorUnits == 0, tax == 0 { continue }
            guard line.amount.minorUnits > 0, tax >= 0 else {
                throw ConnectorError.validation(
                    code: "sage50_amount",
                    message: "line \(line.id) is \(line.amount.decimalString); Sage 50 imports amounts more than 0.00")
            }
            guard line.amount.minorUnits <= limit, tax <= limit else {
                throw ConnectorError.validation(
                    code: "sage50_amount", message: "line \(line.id) is more than Sage 50's 99999999.99")
            }
            let nominal = mappings.remoteID(.account, for: line.revenueAccount)
            if nominal == nil { missing.append(.init(.account, line.revenueAccount)) }
            var taxCode: String? = "T9"
            if let code = line.taxCode {
                taxCode = mappings.remoteID(.taxCode, for: code)
                if taxCode == nil { missing.append(.init(.taxCode, code)) }
            } else if tax != 0 {
                taxCode = mappings.remoteID(.taxCode, for: CodeMappings.fallbackCode)
                if taxCode == nil { missing.append(.init(.taxCode, CodeMappings.fallbackCode)) }
            }
            guard let nominal, let taxCode else { continue }
            guard isTaxCode(taxCode) else {
                throw ConnectorError.validation(
                    code: "sage50_tax_code", message: "tax code mapping \(taxCode) is not a Sage 50 tax code T0 to T99")
            }
            rows.append([
                type, account, nominal, "0", text(date), Sage50CSVText.cut(number, 30),
                Sage50CSVText.cut(line.description, 60), amount(line.amount.minorUnits), taxCode, amount(tax), "",
                key, "",
            ])
        }
        if !missing.isEmpty { throw ConnectorError.missingMapping(missing) }
        guard !rows.isEmpty else {
            throw ConnectorError.validation(
                code: "sage50_amount", message: "no line has an amount; Sage 50 imports amounts more than 0.00")
        }
        return rows
    }

    /// A payment on account (`SA`) or a refund (`SP`): the bank's nominal code from `deposit_accounts`, no VAT.
    static func moneyRow(
        type: String, account: String, bankCode: String, date: String, reference: String, details: String,
        amount money: Money, key: String, mappings: CodeMappings
    ) throws(ConnectorError) -> [String] {
        guard let bank = mappings.remoteID(.depositAccount, for: bankCode) else {
            throw ConnectorError.missingMapping([.init(.depositAccount, bankCode)])
        }
        guard money.minorUnits > 0, money.minorUnits <= limit else {
            throw ConnectorError.validation(
                code: "sage50_amount", message: "\(money.decimalString) is not an amount Sage 50 imports")
        }
        return [
            type, account, bank, "0", date, Sage50CSVText.cut(reference, 30), details, amount(money.minorUnits), "T9",
            "0.00", "", key, "",
        ]
    }

    /// Sage 50's largest amount: 8 digits and 2 decimals.
    static let limit: Int64 = 99_999_999_99

    /// Sage 50 UK keeps its books in pounds, and its audit trail import takes amounts in the company's currency
    /// (Exchange Rate blank or 1): a record in another currency is left out rather than booked as pounds.
    static func pounds(_ currency: Currency) throws(ConnectorError) {
        guard currency.code == "GBP" else {
            throw ConnectorError.validation(
                code: "sage50_currency",
                message: "in \(currency.code); the Sage 50 import takes amounts in the company's pounds")
        }
    }

    /// A document at a rate other than 1 is left out.
    static func rate(_ rate: ScaledDecimal?) throws(ConnectorError) {
        guard let rate else { return }
        var one: Int64 = 1
        for _ in 0..<min(rate.scale, 18) { one *= 10 }
        guard rate.units == one else {
            throw ConnectorError.validation(
                code: "sage50_currency",
                message: "exchange rate \(rate) is not 1; the Sage 50 import takes documents in the company's currency")
        }
    }

    static func isTaxCode(_ text: String) -> Bool {
        let digits = text.dropFirst()
        return text.first == "T" && (1...2).contains(digits.count) && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// `1234.50` from pence (non-negative).
    static func amount(_ pence: Int64) -> String {
        let rest = pence % 100
        return "\(pence / 100).\(rest < 10 ? "0" : "")\(rest)"
    }

    /// `DD/MM/YYYY` ("This must be in the format DD/MM/YYYY", Sage knowledgebase k2dockey=250321114601443).
    static func text(_ date: LocalDate) -> String {
        text(year: date.year, month: date.month, day: date.day)
    }

    static func text(year: Int, month: Int, day: Int) -> String {
        func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(pad(day))/\(pad(month))/\(year)"
    }

    /// The day of `instant` in `timeZone`.
    static func date(of instant: Timestamp, in timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let date = Date(timeIntervalSince1970: Double(instant.microsecondsSinceEpoch) / 1_000_000)
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return text(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
    }
}

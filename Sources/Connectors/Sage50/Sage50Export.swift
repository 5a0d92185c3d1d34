public import Accounting
import Crypto
public import Foundation

/// The two files a school imports into Sage 50 UK (File → Import), written from what the connector would push: the
/// customer records and the audit trail transactions, in the layouts `Sage50Checker` (Sandbox) documents and checks.
///
/// Each transaction row carries billing's number in `Reference` and Ledgerwire's key (`key(…)`) in `Extra
/// Reference`, so the read-back recognises it in Sage's audit trail export. Sage 50 cannot import sales receipts
/// (`SR`): a payment goes as a payment on account (`SA`), which the school allocates in Sage ("You can't import Sales
/// Receipt (SR) … Instead import (SA) … and manually allocate them", Sage knowledgebase k2dockey=250321114601443).
public enum Sage50Export {
    /// A file and what it holds.
    public struct File: Sendable {
        /// The CSV, header row first, lines ended by CRLF.
        public var text: String
        /// The records written, in file order.
        public var written: [RecordReference]
        /// Records left out, each with why (an unmapped code, an amount Sage 50 cannot take).
        public var refused: [(localID: String, reason: String)]
    }

    /// The customer record layout's 31 headers (A/C … Terms Agreed: Sage's "Customer record data fields you can
    /// import", gb-kb.sage.com k2dockey=250321114620507).
    static let customerHeader = [
        "A/C", "Name", "Address Line 1", "Address Line 2", "Address Line 3", "Address Line 4", "Address Line 5",
        "Contact Name", "Telephone", "Fax", "Analysis 1", "Analysis 2", "Analysis 3", "Department", "VAT Number",
        "M.T.D.", "Y.T.D.", "Prior Y.T.D.", "Credit Limit", "Trading Terms Text", "Settlement Due Days",
        "Sett. Discount (%)", "Default Nominal Code", "Default Tax Code", "Trade Contact", "Telephone 2", "E-mail",
        "Web Address", "Discount (%)", "Payment Due Days", "Terms Agreed",
    ]

    /// The audit trail transaction layout's columns A…M (Sage's "Audit trail transaction data fields you can
    /// import", k2dockey=250321114601443).
    static let transactionHeader = [
        "Type", "Account Reference", "Nominal A/C Ref", "Department Code", "Date", "Reference", "Details",
        "Net Amount", "Tax Code", "Tax Amount", "Exchange Rate", "Extra Reference", "User Name",
    ]

    /// Ledgerwire's key for a record in `Extra Reference`: `LW`, the type's letter and 10 hex digits of a digest of
    /// the tenant, type and billing id. Short enough for the column's 30 characters whatever billing's ids are.
    public static func key(tenantID: String, recordType: RecordType, localID: String) -> String {
        let digest = SHA256.hash(data: Data("\(tenantID)\u{0}\(recordType.rawValue)\u{0}\(localID)".utf8))
        let hex = digest.prefix(5).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
        let letter: String
        switch recordType {
        case .customer: letter = "C"
        case .invoice: letter = "I"
        case .creditNote: letter = "N"
        case .payment: letter = "P"
        case .refund: letter = "R"
        }
        return "LW\(letter)\(hex.uppercased())"
    }

    /// The header row of the customer records file (`customers` true) or of the audit trail transactions file: what a
    /// file written a batch at a time (`header` false) begins with.
    public static func header(customers: Bool) -> String {
        Sage50CSVText.line(customers ? customerHeader : transactionHeader)
    }

    /// The customer records file: one row per customer with its A/C. Name and address lines are cut to Sage's 60
    /// characters, telephone and VAT number to 30, e-mail to 255. `header` false leaves the header row out, as
    /// `transactions(_:accounts:timeZone:header:)` does.
    public static func customers(_ customers: [(customer: Customer, reference: String)], header: Bool = true) -> File {
        var text = header ? Sage50CSVText.line(customerHeader) : ""
        var written: [RecordReference] = []
        for (customer, reference) in customers {
            var fields = [String](repeating: "", count: customerHeader.count)
            fields[0] = reference
            fields[1] = Sage50CSVText.cut(customer.name, 60)
            if let address = customer.billingAddress {
                let lines = [address.line1, address.line2, address.city, address.region, address.postalCode]
                for (index, line) in lines.enumerated() { fields[2 + index] = Sage50CSVText.cut(line, 60) }
            }
            fields[8] = Sage50CSVText.cut(customer.phone, 30)
            fields[14] = Sage50CSVText.cut(customer.taxID, 30)
            fields[26] = Sage50CSVText.cut(customer.email, 255)
            text += Sage50CSVText.line(fields)
            written.append(RecordReference(.customer, customer.id.rawValue))
        }
        return File(text: text, written: written, refused: [])
    }

    /// The audit trail transactions file of `requests` (documents, payments and refunds; customers are skipped):
    /// invoices `SI` and credit notes `SC` one row per line, payments `SA` and refunds `SP` one row each.
    /// `accounts`: billing's customer id → its A/C. `header` false leaves the header row out: rows to append to a
    /// file begun by another call, so a long export is written a batch of records at a time.
    public static func transactions(
        _ requests: [PushRequest], accounts: [String: String], timeZone: TimeZone, header: Bool = true
    ) -> File {
        var text = header ? Sage50CSVText.line(transactionHeader) : ""
        var written: [RecordReference] = []
        var refused: [(String, String)] = []
        for request in requests where request.recordType != .customer {
            do {
                for row in try rows(for: request, accounts: accounts, timeZone: timeZone) {
                    text += Sage50CSVText.line(row)
                }
                written.append(RecordReference(request.recordType, request.localID))
            } catch {
                refused.append((request.localID, error.message))
            }
        }
        return File(text: text, written: written, refused: refused)
    }
}

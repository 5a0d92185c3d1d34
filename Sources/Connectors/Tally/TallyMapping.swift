public import Accounting
import Crypto
import Foundation

/// Billing's records as Tally's ledgers and vouchers (API.md "Platforms"): customers are ledgers under Sundry Debtors;
/// an invoice is a Sales voucher debiting the party with billing's total (a `New Ref` bill of billing's number) and
/// crediting each line's income ledger and the GST ledgers; a payment a Receipt (`Agst Ref` to each invoice); a credit
/// note a Credit Note against its invoice's bill; a refund a Payment voucher.
public enum TallyMapping {
    /// A party ledger, as the connector knows it.
    public struct Party: Sendable, Hashable {
        public var guid: String
        public var name: String
        /// Its GST state (`LEDSTATENAME`), when it has one.
        public var state: String?

        public init(guid: String, name: String, state: String?) {
            self.guid = guid
            self.name = name
            self.state = state
        }
    }

    /// The `REMOTEID` (and so the GUID) of billing's record in Tally: the same for every attempt and every version of
    /// the record, different for every tenant, so a retry or an uncertain outcome alters instead of duplicating.
    public static func remoteID(tenantID: String, recordType: RecordType, localID: String) -> String {
        let digest = SHA256.hash(data: Data("\(tenantID)|\(recordType.rawValue)|\(localID)".utf8))
        let prefix =
            switch recordType {
            case .customer: "cus"
            case .invoice: "inv"
            case .creditNote: "crn"
            case .payment: "rct"
            case .refund: "pmt"
            }
        return "lw-\(prefix)-" + digest.prefix(16).hexString
    }

    /// Tally's voucher type of a record kept as a voucher.
    public static func voucherType(_ recordType: RecordType) -> String? {
        switch recordType {
        case .invoice: "Sales"
        case .creditNote: "Credit Note"
        case .payment: "Receipt"
        case .refund: "Payment"
        case .customer: nil
        }
    }

    /// The party ledger of `customer`, named `name` (billing's name, or a distinct one when another billing customer's
    /// ledger holds it).
    public static func ledger(
        _ customer: Customer, name: String, guid: String, action: String, currentName: String?
    ) -> TallyElement {
        var children: [TallyElement] = [
            TallyElement("NAME.LIST", children: [.leaf("NAME", name)]), .leaf("PARENT", "Sundry Debtors"),
            .leaf("ISBILLWISEON", "Yes"), .leaf("AFFECTSSTOCK", "No"),
            TallyElement("MAILINGNAME.LIST", children: [.leaf("MAILINGNAME", customer.name)]),
        ]
        if let address = customer.billingAddress {
            var lines = [address.line1]
            if let line2 = address.line2, !line2.isEmpty { lines.append(line2) }
            lines.append(address.city)
            children.append(TallyElement("ADDRESS.LIST", children: lines.map { .leaf("ADDRESS", $0) }))
            if let region = address.region {
                children.append(.leaf("LEDSTATENAME", IndianState(region)?.name ?? region))
            }
            if let postalCode = address.postalCode { children.append(.leaf("PINCODE", postalCode)) }
            children.append(.leaf("COUNTRYNAME", address.country == "IN" ? "India" : address.country))
        }
        if let email = customer.email { children.append(.leaf("EMAIL", email)) }
        if let phone = customer.phone { children.append(.leaf("LEDGERPHONE", phone)) }
        if let taxID = customer.taxID, !taxID.isEmpty {
            children.append(.leaf("PARTYGSTIN", taxID))
            children.append(.leaf("GSTREGISTRATIONTYPE", "Regular"))
        } else {
            children.append(.leaf("GSTREGISTRATIONTYPE", "Unregistered"))
        }
        return TallyElement(
            "LEDGER",
            attributes: [.init("NAME", currentName ?? name), .init("ACTION", action), .init("REMOTEID", guid)],
            children: [.leaf("GUID", guid)] + children)
    }

    /// The state a customer's ledger is in, as written: the GST state's name when billing's region is one.
    public static func state(of customer: Customer) -> String? {
        customer.billingAddress?.region.map { IndianState($0)?.name ?? $0 }
    }

    /// The version of a party ledger: what Ledgerwire writes of it, so its own write is recognised when read back.
    /// It ends with the ledger's name, which is how Tally's vouchers name their party: the export names a party
    /// named apart from billing's name (`ledgerName(inVersion:)`) by it.
    public static func fingerprint(name: String, state: String?, gstin: String?) -> String {
        let digest = SHA256.hash(data: Data("\(name)|\(state ?? "")|\(gstin ?? "")".utf8))
        return "v:" + digest.prefix(12).hexString + ":" + name
    }

    /// The ledger name a party ledger's version (`fingerprint`) carries; `nil` for any other version.
    public static func ledgerName(inVersion version: String) -> String? {
        let parts = version.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v", parts[1].count == 24, !parts[2].isEmpty else { return nil }
        return String(parts[2])
    }

    /// The Sales voucher of `invoice`, debiting `party` with billing's total.
    public static func salesVoucher(
        _ invoice: Invoice, guid: String, party: Party, settings: TallySettings, mappings: CodeMappings
    ) throws(ConnectorError) -> TallyVoucherRecord {
        try document(
            guid: guid, type: "Sales", number: invoice.number, date: invoice.issueDate, currency: invoice.currency,
            lines: invoice.lines, total: invoice.total, party: party, againstBill: nil, settings: settings,
            mappings: mappings)
    }

    /// The Sales voucher of an invoice (or the Credit Note of a credit note: the same lines, every sign turned, the
    /// party credited against `againstBill`).
    static func document(
        guid: String, type: String, number: String, date: LocalDate, currency: Currency, lines: [DocumentLine],
        total: Money, party: Party, againstBill: String?, settings: TallySettings, mappings: CodeMappings
    ) throws(ConnectorError) -> TallyVoucherRecord {
        guard currency == .inr else {
            throw ConnectorError.validation(
                code: "tally_currency",
                message: "Tally's books here are kept in INR; billing's document \(number) is in \(currency.code)")
        }
        // A Credit Note turns every sign: the party is credited, income and tax debited.
        let sign: Int64 = type == "Credit Note" ? -1 : 1
        func money(_ minor: Int64) -> Money { Money(minorUnits: minor, currency: .inr) }
        var entries: [TallyVoucherRecord.Entry] = []
        let partyBill =
            againstBill.map {
                TallyVoucherRecord.Bill(type: "Agst Ref", name: $0, amount: money(-sign * total.minorUnits))
            }
            ?? TallyVoucherRecord.Bill(type: "New Ref", name: number, amount: money(-sign * total.minorUnits))
        entries.append(
            TallyVoucherRecord.Entry(
                ledger: party.name, amount: money(-sign * total.minorUnits), isParty: true, bills: [partyBill]))
        var missing: [CodeMappings.Missing] = []
        for line in lines {
            guard let ledger = mappings.remoteID(.account, for: line.revenueAccount) else {
                missing.append(.init(.account, line.revenueAccount))
                continue
            }
            entries.append(
                TallyVoucherRecord.Entry(
                    ledger: ledger, amount: money(sign * line.amount.minorUnits), isParty: false, bills: []))
        }
        let intraState = isIntraState(party: party, settings: settings)
        var tax: [(ledger: String, minor: Int64)] = []
        func post(_ ledger: String, _ minor: Int64) {
            guard minor != 0 else { return }
            if let index = tax.firstIndex(where: { $0.ledger == ledger }) {
                tax[index].minor += minor
            } else {
                tax.append((ledger, minor))
            }
        }
        var byCode: [(code: String, minor: Int64)] = []
        for line in lines {
            let minor = line.taxAmount?.minorUnits ?? 0
            guard let code = line.taxCode else {
                if minor != 0 { throw unmappedTax(number: number, code: nil) }
                continue
            }
            if let index = byCode.firstIndex(where: { $0.code == code }) {
                byCode[index].minor += minor
            } else {
                byCode.append((code, minor))
            }
        }
        for (code, minor) in byCode {
            guard let stored = mappings.remoteID(.taxCode, for: code) else {
                missing.append(.init(.taxCode, code))
                continue
            }
            guard minor != 0 else { continue }
            guard let ledgers = TallyTaxLedgers(mapping: stored) else { throw unmappedTax(number: number, code: code) }
            if intraState {
                guard let cgst = ledgers.cgst, let sgst = ledgers.sgst else {
                    throw unmappedTax(number: number, code: code)
                }
                // Equal halves, a paisa left over to the round-off ledger: never lost, never invented.
                let half = minor / 2
                post(cgst, half)
                post(sgst, half)
                post(settings.roundOffLedger, minor - 2 * half)
            } else {
                guard let igst = ledgers.igst else { throw unmappedTax(number: number, code: code) }
                post(igst, minor)
            }
        }
        guard missing.isEmpty else { throw ConnectorError.missingMapping(missing) }
        for (ledger, minor) in tax {
            entries.append(
                TallyVoucherRecord.Entry(ledger: ledger, amount: money(sign * minor), isParty: false, bills: []))
        }
        var voucher = TallyVoucherRecord(
            guid: guid, type: type, date: TallyDate.text(date), number: number, party: party.name,
            narration: narration(lines), reference: number,
            placeOfSupply: party.state.map { IndianState($0)?.name ?? $0 } ?? settings.state, entries: entries)
        voucher.placeOfSupply = voucher.placeOfSupply.flatMap { $0.isEmpty ? nil : $0 }
        guard voucher.imbalance == 0 else {
            throw ConnectorError.validation(
                code: "tally_unbalanced",
                message: "billing's document \(number) does not add up: its lines and tax differ from its total by "
                    + money(voucher.imbalance).decimalString)
        }
        return voucher
    }

    /// Intra-state: the party's state is the school's, or either is not known.
    public static func isIntraState(party: Party, settings: TallySettings) -> Bool {
        guard let school = settings.state, let state = party.state, !state.isEmpty else { return true }
        return IndianState.same(school, state)
    }

    private static func unmappedTax(number: String, code: String?) -> ConnectorError {
        .validation(
            code: "tally_tax_mapping",
            message: code.map {
                "billing's tax code \($0) on document \(number) has tax, but its mapping names no CGST/SGST or IGST "
                    + "ledger for this supply"
            } ?? "a line of document \(number) has tax but no tax code")
    }

    /// The lines' descriptions, for the voucher's narration.
    static func narration(_ lines: [DocumentLine]) -> String {
        let text = lines.map(\.description).filter { !$0.isEmpty }.joined(separator: "; ")
        return text.count > 500 ? String(text.prefix(499)) + "…" : text
    }

    /// The Receipt voucher of `payment`: the bank ledger debited, the party credited against each invoice's bill,
    /// anything not allocated on account.
    static func receipt(
        guid: String, payment: Payment, party: Party, bank: String, bills: [(name: String, amount: Money)],
        settings: TallySettings
    ) throws(ConnectorError) -> TallyVoucherRecord {
        guard payment.currency == .inr else {
            throw ConnectorError.validation(
                code: "tally_currency",
                message: "Tally's books here are kept in INR; the payment is in "
                    + payment.currency.code)
        }
        var partyBills = bills.map { TallyVoucherRecord.Bill(type: "Agst Ref", name: $0.name, amount: $0.amount) }
        let allocated = bills.reduce(0) { $0 + $1.amount.minorUnits }
        if payment.amount.minorUnits > allocated {
            partyBills.append(
                TallyVoucherRecord.Bill(
                    type: "On Account", name: "",
                    amount: Money(minorUnits: payment.amount.minorUnits - allocated, currency: .inr)))
        }
        return TallyVoucherRecord(
            guid: guid, type: "Receipt", date: settings.date(of: payment.receivedAt), party: party.name,
            narration: "Payment by \(payment.method)" + (payment.reference.map { ", reference \($0)" } ?? ""),
            reference: payment.reference,
            entries: [
                TallyVoucherRecord.Entry(
                    ledger: bank, amount: Money(minorUnits: -payment.amount.minorUnits, currency: .inr), isParty: false,
                    bills: []),
                TallyVoucherRecord.Entry(ledger: party.name, amount: payment.amount, isParty: true, bills: partyBills),
            ])
    }

    /// The Payment voucher of `refund`: the party debited (against the credit note's bill, or on account), the bank
    /// ledger credited.
    static func payment(
        guid: String, refund: Refund, party: Party, bank: String, againstBill: String?, settings: TallySettings
    ) throws(ConnectorError) -> TallyVoucherRecord {
        guard refund.currency == .inr else {
            throw ConnectorError.validation(
                code: "tally_currency",
                message: "Tally's books here are kept in INR; the refund is in "
                    + refund.currency.code)
        }
        let debit = Money(minorUnits: -refund.amount.minorUnits, currency: .inr)
        let bill =
            againstBill.map { TallyVoucherRecord.Bill(type: "Agst Ref", name: $0, amount: debit) }
            ?? TallyVoucherRecord.Bill(type: "On Account", name: "", amount: debit)
        return TallyVoucherRecord(
            guid: guid, type: "Payment", date: settings.date(of: refund.refundedAt), party: party.name,
            narration: "Refund by \(refund.method)" + (refund.reference.map { ", reference \($0)" } ?? ""),
            reference: refund.reference,
            entries: [
                TallyVoucherRecord.Entry(ledger: party.name, amount: debit, isParty: true, bills: [bill]),
                TallyVoucherRecord.Entry(ledger: bank, amount: refund.amount, isParty: false, bills: []),
            ])
    }
}

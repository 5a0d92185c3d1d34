public import Accounting
import Crypto
import Foundation

/// A voucher as Ledgerwire writes it and reads it back: its type, date, party and ledger entries with their bill
/// allocations. Amounts carry Tally's sign: a debit is negative (`ISDEEMEDPOSITIVE` Yes), a credit positive, and the
/// entries of a voucher sum to zero.
public struct TallyVoucherRecord: Sendable, Hashable {
    public struct Bill: Sendable, Hashable {
        /// `New Ref`, `Agst Ref`, `On Account`, `Advance`.
        public var type: String
        public var name: String
        public var amount: Money

        public init(type: String, name: String, amount: Money) {
            self.type = type
            self.name = name
            self.amount = amount
        }
    }

    public struct Entry: Sendable, Hashable {
        public var ledger: String
        public var amount: Money
        public var isParty: Bool
        public var bills: [Bill]

        public var isDebit: Bool { amount.isNegative }

        public init(ledger: String, amount: Money, isParty: Bool, bills: [Bill]) {
            self.ledger = ledger
            self.amount = amount
            self.isParty = isParty
            self.bills = bills
        }
    }

    /// Its GUID: for a voucher Ledgerwire wrote, the `REMOTEID` it was written with.
    public var guid: String
    /// `Sales`, `Receipt`, `Credit Note`, `Payment`, `Journal`.
    public var type: String
    /// `yyyymmdd`.
    public var date: String
    public var number: String?
    public var party: String?
    public var narration: String?
    public var reference: String?
    public var placeOfSupply: String?
    public var isCancelled = false
    public var entries: [Entry]
    /// Tally's counters, on a voucher read back.
    public var alterID: Int?
    public var masterID: Int?

    /// The voucher's content as a version: the same for what Ledgerwire wrote and what Tally exports of it, different
    /// once a person changes its date, party, amounts, bills or number, or cancels it. Tally has no version of its own
    /// that an import answers with (ALTERID comes only with an export), so this is how Ledgerwire's own writes are
    /// recognised when the poll reads them back.
    public var fingerprint: String {
        var text = "\(type)|\(date)|\(number ?? "")|\(party ?? "")|\(isCancelled)"
        for entry in isCancelled ? [] : entries {
            text += "|\(entry.ledger)=\(entry.amount.minorUnits)"
            for bill in entry.bills { text += ",\(bill.type):\(bill.name)=\(bill.amount.minorUnits)" }
        }
        let digest = SHA256.hash(data: Data(text.utf8))
        return "v:" + digest.prefix(12).hexString
    }

    /// The entries' sum: zero for a voucher that balances.
    var imbalance: Int64 { entries.reduce(0) { $0 + $1.amount.minorUnits } }

    /// The `VOUCHER` element to import with `action` (`Create`, `Alter`).
    public func element(action: String) -> TallyElement {
        var voucher = TallyElement(
            "VOUCHER",
            attributes: [
                .init("REMOTEID", guid), .init("VCHTYPE", type), .init("ACTION", action),
                .init("OBJVIEW", "Accounting Voucher View"),
            ])
        var children: [TallyElement] = [
            .leaf("DATE", date), .leaf("EFFECTIVEDATE", date), .leaf("GUID", guid), .leaf("VOUCHERTYPENAME", type),
        ]
        if let number { children.append(.leaf("VOUCHERNUMBER", number)) }
        if let reference { children.append(.leaf("REFERENCE", reference)) }
        if let party { children.append(.leaf("PARTYLEDGERNAME", party)) }
        if let placeOfSupply { children.append(.leaf("PLACEOFSUPPLY", placeOfSupply)) }
        children.append(.leaf("PERSISTEDVIEW", "Accounting Voucher View"))
        if let narration { children.append(.leaf("NARRATION", narration)) }
        for entry in entries {
            var list = TallyElement(
                "ALLLEDGERENTRIES.LIST",
                children: [
                    .leaf("LEDGERNAME", entry.ledger), .leaf("ISDEEMEDPOSITIVE", entry.isDebit ? "Yes" : "No"),
                    .leaf("ISPARTYLEDGER", entry.isParty ? "Yes" : "No"), .leaf("AMOUNT", entry.amount.decimalString),
                ])
            for bill in entry.bills {
                var allocation = TallyElement("BILLALLOCATIONS.LIST")
                if bill.type != "On Account" { allocation.children.append(.leaf("NAME", bill.name)) }
                allocation.children += [.leaf("BILLTYPE", bill.type), .leaf("AMOUNT", bill.amount.decimalString)]
                list.children.append(allocation)
            }
            children.append(list)
        }
        voucher.children = children
        return voucher
    }

    /// The element that cancels the voucher Ledgerwire wrote as `guid`.
    public static func cancellation(guid: String, type: String, date: String) -> TallyElement {
        TallyElement(
            "VOUCHER",
            attributes: [
                .init("REMOTEID", guid), .init("DATE", date), .init("VCHTYPE", type), .init("ACTION", "Cancel"),
            ],
            children: [.leaf("DATE", date), .leaf("VOUCHERTYPENAME", type)])
    }

    public init(
        guid: String, type: String, date: String, number: String? = nil, party: String? = nil,
        narration: String? = nil, reference: String? = nil, placeOfSupply: String? = nil, entries: [Entry]
    ) {
        self.guid = guid
        self.type = type
        self.date = date
        self.number = number
        self.party = party
        self.narration = narration
        self.reference = reference
        self.placeOfSupply = placeOfSupply
        self.entries = entries
    }

    /// A voucher as Tally exports it, or `nil` when it is not one Ledgerwire can read (no GUID, no date, an amount that
    /// is not rupees and paise).
    public init?(exported element: TallyElement) {
        guard element.name == "VOUCHER",
            let guid = element.value("GUID").flatMap({ $0.isEmpty ? nil : $0 }) ?? element[attribute: "REMOTEID"],
            let date = element.value("DATE"), TallyDate.iso(date) != nil
        else { return nil }
        self.guid = guid
        type = element.value("VOUCHERTYPENAME") ?? element[attribute: "VCHTYPE"] ?? ""
        self.date = date
        number = element.value("VOUCHERNUMBER")
        party = element.value("PARTYLEDGERNAME")
        narration = element.value("NARRATION")
        reference = element.value("REFERENCE")
        placeOfSupply = element.value("PLACEOFSUPPLY")
        isCancelled = element.value("ISCANCELLED")?.lowercased() == "yes"
        alterID = element.value("ALTERID").flatMap { Int($0) }
        masterID = element.value("MASTERID").flatMap { Int($0) }
        var entries: [Entry] = []
        for list in element.children where list.name == "ALLLEDGERENTRIES.LIST" || list.name == "LEDGERENTRIES.LIST" {
            guard let ledger = list.value("LEDGERNAME"), let amount = list.value("AMOUNT").flatMap(Self.rupees)
            else { return nil }
            var bills: [Bill] = []
            for allocation in list.children("BILLALLOCATIONS.LIST") {
                guard let billAmount = allocation.value("AMOUNT").flatMap(Self.rupees) else { return nil }
                bills.append(
                    Bill(
                        type: allocation.value("BILLTYPE") ?? "", name: allocation.value("NAME") ?? "",
                        amount: billAmount))
            }
            entries.append(
                Entry(
                    ledger: ledger, amount: amount, isParty: list.value("ISPARTYLEDGER")?.lowercased() == "yes",
                    bills: bills))
        }
        self.entries = entries
    }

    /// An amount as Tally writes it (`-1180.00`, `1,180.00`, `1180`), in rupees; `nil` past paise.
    static func rupees(_ text: String) -> Money? {
        let cleaned = text.replacingOccurrences(of: ",", with: "").trimmingCharacters(in: .whitespaces)
        return try? Money(parsing: cleaned.isEmpty ? "0" : cleaned, currency: .inr)
    }
}

extension Currency {
    /// The Indian rupee, the currency of Tally's books.
    static var inr: Currency { Currency(code: "INR")! }
}

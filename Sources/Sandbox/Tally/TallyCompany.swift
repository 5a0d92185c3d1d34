import Connectors
public import Foundation

/// One company's books as the emulator keeps them: groups (the reserved ones pre-seeded), ledgers and vouchers,
/// with Tally's identities: one MASTERID sequence for every object, one company-wide ALTERID bumped by every create,
/// alter and cancel, and GUIDs `<company GUID>-<MASTERID as 8 hex digits>` (platforms.md §4.3, §9.4).
///
/// The rules live in its extensions (`+Masters`, `+Vouchers`); each change is checked whole before anything is
/// written, so a refused object leaves the books as they were. Balances and bills are kept up to date as vouchers
/// change, so reads stay cheap with many vouchers.
public struct TallyCompany: Sendable {
    struct Group: Sendable {
        var name: String
        /// `nil` for a top-level group (Tally's `Primary`).
        var parent: String?
        var reserved: Bool
        var guid: String
        var masterID: Int
        var alterID: Int
        var remoteID: String?
        var fields: [TallyElement]
    }

    struct Ledger: Sendable {
        var name: String
        var parent: String
        var reserved: Bool
        var guid: String
        var masterID: Int
        var alterID: Int
        var remoteID: String?
        var opening: TallyAmount
        /// `ISBILLWISEON` as imported, when it was.
        var billWise: Bool?
        var fields: [TallyElement]
    }

    struct Entry: Sendable, Hashable {
        /// The ledger's MASTERID: a renamed ledger keeps its entries.
        var ledger: Int
        var amount: TallyAmount
        var isParty: Bool
        var bills: [TallyBillAllocation]
    }

    struct Voucher: Sendable {
        var guid: String
        var masterID: Int
        var alterID: Int
        var date: Int
        var type: String
        var number: String
        var party: Int?
        var narration: String
        var reference: String
        var placeOfSupply: String?
        var cancelled: Bool
        var entries: [Entry]
    }

    /// What a bill's allocations add up to, and whether a `New Ref` made it.
    struct BillState: Sendable {
        var name: String
        var pending: TallyAmount
        var newRefs: Int
    }

    /// Tally's predefined groups and their parents (`nil`: top level).
    static let reservedGroups: [(String, String?)] = [
        ("Branch / Divisions", nil), ("Capital Account", nil), ("Current Assets", nil),
        ("Current Liabilities", nil), ("Direct Expenses", nil), ("Direct Incomes", nil), ("Fixed Assets", nil),
        ("Indirect Expenses", nil), ("Indirect Incomes", nil), ("Investments", nil), ("Loans (Liability)", nil),
        ("Misc. Expenses (ASSET)", nil), ("Purchase Accounts", nil), ("Sales Accounts", nil), ("Suspense A/c", nil),
        ("Bank Accounts", "Current Assets"), ("Bank OD A/c", "Loans (Liability)"), ("Cash-in-Hand", "Current Assets"),
        ("Deposits (Asset)", "Current Assets"), ("Duties & Taxes", "Current Liabilities"),
        ("Loans & Advances (Asset)", "Current Assets"), ("Provisions", "Current Liabilities"),
        ("Reserves & Surplus", "Capital Account"), ("Secured Loans", "Loans (Liability)"),
        ("Stock-in-Hand", "Current Assets"), ("Sundry Creditors", "Current Liabilities"),
        ("Sundry Debtors", "Current Assets"), ("Unsecured Loans", "Loans (Liability)"),
    ]

    /// The voucher types a new company has.
    static let voucherTypes: [String] = [
        "Sales", "Receipt", "Credit Note", "Payment", "Journal", "Purchase", "Contra", "Debit Note",
    ]

    public let name: String
    public let guid: String
    public var stateName: String
    var groups: [String: Group] = [:]
    var groupOrder: [String] = []
    var ledgers: [Int: Ledger] = [:]
    var ledgerKeys: [String: Int] = [:]
    var vouchers: [Int: Voucher] = [:]
    var voucherGUIDs: [String: Int] = [:]
    /// Per ledger MASTERID: the sum of its entries in vouchers not cancelled.
    var movements: [Int: TallyAmount] = [:]
    /// Per ledger MASTERID, per lower-cased bill name.
    var bills: [Int: [String: BillState]] = [:]
    private(set) var lastMasterID = 0
    private(set) var lastAlterID = 0
    /// The ALTERID of the last change to a master (`AltMstId`) and to a voucher (`AltVchId`).
    private(set) var altMasterID = 0
    private(set) var altVoucherID = 0

    public init(name: String, guid: String = UUID().uuidString.lowercased(), stateName: String = "Karnataka") {
        self.name = name
        self.guid = guid
        self.stateName = stateName
        for (group, parent) in Self.reservedGroups {
            let id = nextMasterID()
            let alter = nextAlterID(master: true)
            groups[Self.key(group)] = Group(
                name: group, parent: parent, reserved: true, guid: objectGUID(id), masterID: id, alterID: alter,
                fields: [])
            groupOrder.append(Self.key(group))
        }
        for (ledger, parent) in [("Cash", "Cash-in-Hand"), ("Profit & Loss A/c", "Primary")] {
            let id = nextMasterID()
            ledgers[id] = Ledger(
                name: ledger, parent: parent, reserved: parent == "Primary", guid: objectGUID(id), masterID: id,
                alterID: nextAlterID(master: true), opening: .zero, billWise: nil, fields: [])
            ledgerKeys[Self.key(ledger)] = id
        }
    }

    /// Names are matched without regard to case, as Tally does.
    static func key(_ name: String) -> String { String(name.trimmingWhitespace).lowercased() }

    mutating func nextMasterID() -> Int {
        lastMasterID += 1
        return lastMasterID
    }

    mutating func nextAlterID(master: Bool) -> Int {
        lastAlterID += 1
        if master { altMasterID = lastAlterID } else { altVoucherID = lastAlterID }
        return lastAlterID
    }

    /// `<company GUID>-<MASTERID as 8 hex digits>`.
    func objectGUID(_ masterID: Int) -> String {
        let hex = String(masterID, radix: 16)
        return guid + "-" + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }

    // MARK: Lookups

    func group(_ name: String) -> Group? { groups[Self.key(name)] }

    func ledger(named name: String) -> Ledger? { ledgerKeys[Self.key(name)].flatMap { ledgers[$0] } }

    func ledger(remoteID: String) -> Ledger? { ledgers.values.first { $0.remoteID == remoteID || $0.guid == remoteID } }

    /// Whether `name` is under `ancestor` (or is it), following parents.
    func isGroup(_ name: String, under ancestor: String) -> Bool {
        var current: String? = name
        var steps = 0
        while let name = current, steps < 64 {
            if Self.key(name) == Self.key(ancestor) { return true }
            current = group(name)?.parent
            steps += 1
        }
        return false
    }

    /// The top-level group a group sits under.
    func primaryGroup(of name: String) -> String {
        var current = group(name)
        var steps = 0
        while let group = current, let parent = group.parent, steps < 64 {
            current = self.group(parent)
            steps += 1
        }
        return current?.name ?? name
    }

    func isBillWise(_ ledger: Ledger) -> Bool {
        ledger.billWise
            ?? (isGroup(ledger.parent, under: "Sundry Debtors") || isGroup(ledger.parent, under: "Sundry Creditors"))
    }

    // MARK: Read-outs

    /// Every ledger, in MASTERID order.
    public var allLedgers: [TallyLedger] {
        ledgers.values.sorted { $0.masterID < $1.masterID }.map(readOut)
    }

    func readOut(_ ledger: Ledger) -> TallyLedger {
        TallyLedger(
            name: ledger.name, parent: ledger.parent, guid: ledger.guid, remoteID: ledger.remoteID,
            masterID: ledger.masterID, alterID: ledger.alterID, closingBalance: closingBalance(ledger),
            isBillWise: isBillWise(ledger), fields: ledger.fields)
    }

    func closingBalance(_ ledger: Ledger) -> TallyAmount {
        ledger.opening + (movements[ledger.masterID] ?? .zero)
    }

    /// How many vouchers the company holds (cancelled ones included), without reading them out.
    public var voucherCount: Int { vouchers.count }

    /// How many ledgers sit directly under the group `parent`.
    public func ledgerCount(under parent: String) -> Int {
        ledgers.values.reduce(0) { $0 + (Self.key($1.parent) == Self.key(parent) ? 1 : 0) }
    }

    /// Every voucher, in ALTERID order.
    public var allVouchers: [TallyVoucher] {
        vouchers.values.sorted { $0.alterID < $1.alterID }.map(readOut)
    }

    func readOut(_ voucher: Voucher) -> TallyVoucher {
        TallyVoucher(
            guid: voucher.guid, masterID: voucher.masterID, alterID: voucher.alterID, date: voucher.date,
            type: voucher.type, number: voucher.number, partyLedger: voucher.party.flatMap { ledgers[$0]?.name },
            narration: voucher.narration, reference: voucher.reference, placeOfSupply: voucher.placeOfSupply,
            isCancelled: voucher.cancelled,
            entries: voucher.entries.map { entry in
                TallyEntry(
                    ledger: ledgers[entry.ledger]?.name ?? "", amount: entry.amount, isPartyLedger: entry.isParty,
                    bills: entry.bills)
            })
    }

    /// A party's bills still open (cancelled vouchers left out), by bill name.
    public func outstandingBills(party: String) -> [TallyBill] {
        guard let ledger = ledger(named: party) else { return [] }
        return (bills[ledger.masterID] ?? [:]).values.filter { $0.pending != .zero && $0.newRefs > 0 }
            .map { TallyBill(name: $0.name, pending: $0.pending) }.sorted { $0.name < $1.name }
    }

    /// A ledger's closing balance, in Tally's sign.
    public func closingBalance(ledger name: String) -> TallyAmount? {
        ledger(named: name).map(closingBalance)
    }

    // MARK: Keeping balances and bills

    /// Adds (`sign` 1) or takes away (`sign` -1) a voucher's entries from the balances and bills.
    mutating func post(_ voucher: Voucher, sign: Int) {
        guard !voucher.cancelled else { return }
        for entry in voucher.entries {
            let amount = sign > 0 ? entry.amount : -entry.amount
            movements[entry.ledger, default: .zero] = movements[entry.ledger, default: .zero] + amount
            for bill in entry.bills {
                let key = Self.key(bill.name)
                var state = bills[entry.ledger]?[key] ?? BillState(name: bill.name, pending: .zero, newRefs: 0)
                state.pending = state.pending + (sign > 0 ? bill.amount : -bill.amount)
                if bill.type.lowercased() == "new ref" { state.newRefs += sign }
                bills[entry.ledger, default: [:]][key] = state
            }
        }
    }
}

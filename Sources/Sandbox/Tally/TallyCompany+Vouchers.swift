import Connectors
import Foundation

extension TallyCompany {
    static let billTypes: [String] = ["New Ref", "Agst Ref", "Advance", "On Account"]

    /// Applies one `VOUCHER` of an import (or one a person enters); throws Tally's line error, the books untouched,
    /// when it is refused.
    ///
    /// A voucher is found by `REMOTEID` (its GUID), or by the attributes `DATE` + `TAGNAME` (`MasterId` or
    /// `VoucherNumber`) + `TAGVALUE` (+ `VCHTYPE` for a number). A Create whose `REMOTEID` exists alters that voucher.
    mutating func applyVoucher(_ element: TallyElement, result: inout TallyImportResult) throws(TallyRefusal) {
        let action = try Self.action(of: element)
        let remoteID = Self.remoteID(element)
        var existing: Voucher?
        if let remoteID, let id = voucherGUIDs[remoteID] {
            existing = vouchers[id]
        } else if action != .create {
            existing = try taggedVoucher(element)
        }
        if action != .create, existing == nil {
            let named = remoteID ?? element[attribute: "TAGVALUE"] ?? ""
            throw TallyRefusal("Voucher '\(named)' does not exist!")
        }
        switch action {
        case .delete:
            guard let voucher = existing else { return }
            post(voucher, sign: -1)
            vouchers[voucher.masterID] = nil
            voucherGUIDs[voucher.guid] = nil
            result.deleted += 1
            result.lastVoucherID = voucher.masterID
        case .cancel:
            guard var voucher = existing else { return }
            post(voucher, sign: -1)
            voucher.cancelled = true
            voucher.alterID = nextAlterID(master: false)
            vouchers[voucher.masterID] = voucher
            result.cancelled += 1
            result.lastVoucherID = voucher.masterID
        case .create, .alter:
            var voucher = try draft(element, base: existing, remoteID: remoteID)
            if let old = existing {
                post(old, sign: -1)
                voucher.alterID = nextAlterID(master: false)
                result.altered += 1
            } else {
                voucher.masterID = nextMasterID()
                voucher.guid = remoteID ?? objectGUID(voucher.masterID)
                voucher.alterID = nextAlterID(master: false)
                voucherGUIDs[voucher.guid] = voucher.masterID
                result.created += 1
            }
            post(voucher, sign: 1)
            vouchers[voucher.masterID] = voucher
            result.lastVoucherID = voucher.masterID
        }
    }

    /// The voucher the `DATE`/`TAGNAME`/`TAGVALUE` attributes name, if any.
    func taggedVoucher(_ element: TallyElement) throws(TallyRefusal) -> Voucher? {
        guard let tag = element[attribute: "TAGNAME"], let value = element[attribute: "TAGVALUE"] else { return nil }
        let date = element[attribute: "DATE"].flatMap { Self.date(String($0.trimmingWhitespace)) }
        let tagValue = String(value.trimmingWhitespace)
        switch tag.replacingOccurrences(of: " ", with: "").lowercased() {
        case "masterid":
            guard let id = Int(tagValue), let voucher = vouchers[id] else { return nil }
            return date == nil || voucher.date == date ? voucher : nil
        case "vouchernumber":
            let type = element[attribute: "VCHTYPE"].map(Self.key)
            return vouchers.values.first { voucher in
                voucher.number == tagValue && (date == nil || voucher.date == date)
                    && (type == nil || Self.key(voucher.type) == type)
            }
        default:
            throw TallyRefusal("Unknown TAGNAME '\(tag)'")
        }
    }

    /// The voucher `element` describes, on top of `base` when it alters one; every rule checked.
    func draft(_ element: TallyElement, base: Voucher?, remoteID: String?) throws(TallyRefusal) -> Voucher {
        let typeName = element.value("VOUCHERTYPENAME") ?? element[attribute: "VCHTYPE"] ?? base?.type ?? ""
        let number = element.value("VOUCHERNUMBER") ?? base?.number ?? ""
        let dateText = element.value("DATE")
        let date: Int
        if let dateText, let parsed = Self.date(dateText) {
            date = parsed
        } else if dateText == nil, let base {
            date = base.date
        } else {
            let named = remoteID ?? (number.isEmpty ? "" : number)
            throw TallyRefusal("Voucher date is missing for '\(typeName)' voucher \(named).")
        }
        guard let type = Self.voucherTypes.first(where: { Self.key($0) == Self.key(typeName) }) else {
            throw TallyRefusal("Voucher Type '\(typeName)' does not exist!")
        }
        var party = base?.party
        if let name = element.value("PARTYLEDGERNAME"), !name.isEmpty {
            guard let ledger = ledger(named: name) else { throw TallyRefusal("Ledger '\(name)' does not exist!") }
            party = ledger.masterID
        }
        let lines = element.children.filter { $0.name == "ALLLEDGERENTRIES.LIST" || $0.name == "LEDGERENTRIES.LIST" }
        var entries: [Entry] = []
        if lines.isEmpty, let base {
            entries = base.entries
        } else {
            for line in lines { entries.append(try entry(line)) }
        }
        guard !entries.isEmpty else { throw TallyRefusal("No entries in '\(type)' voucher \(remoteID ?? number).") }
        try checkTotals(entries)
        try checkBills(entries, excluding: base)
        return Voucher(
            guid: base?.guid ?? "", masterID: base?.masterID ?? 0, alterID: base?.alterID ?? 0, date: date,
            type: type, number: number.isEmpty && base == nil ? nextNumber(type) : number, party: party,
            narration: element.value("NARRATION") ?? base?.narration ?? "",
            reference: element.value("REFERENCE") ?? base?.reference ?? "",
            placeOfSupply: element.value("PLACEOFSUPPLY") ?? base?.placeOfSupply,
            cancelled: base?.cancelled ?? false, entries: entries)
    }

    /// Tally numbers a voucher entered without a number: the next of its type.
    func nextNumber(_ type: String) -> String {
        String(vouchers.values.count { $0.type == type } + 1)
    }

    func entry(_ line: TallyElement) throws(TallyRefusal) -> Entry {
        guard let name = line.value("LEDGERNAME"), !name.isEmpty else {
            throw TallyRefusal("Ledger name is missing in a ledger entry!")
        }
        guard let ledger = ledger(named: name) else { throw TallyRefusal("Ledger '\(name)' does not exist!") }
        let text = line.value("AMOUNT") ?? ""
        guard let amount = TallyAmount(parsing: text) else {
            throw TallyRefusal("Invalid amount '\(text)' for ledger '\(ledger.name)'")
        }
        if let deemed = Self.yesNo(line.value("ISDEEMEDPOSITIVE")), amount != .zero, deemed != amount.isNegative {
            throw TallyRefusal(
                "ISDEEMEDPOSITIVE is \(deemed ? "Yes" : "No") but the amount \(amount) of ledger '\(ledger.name)' is "
                    + (amount.isNegative ? "a debit" : "a credit"))
        }
        var bills: [TallyBillAllocation] = []
        for allocation in line.children("BILLALLOCATIONS.LIST") {
            guard let billName = allocation.value("NAME"), !billName.isEmpty else {
                throw TallyRefusal("Bill name is missing for ledger '\(ledger.name)'")
            }
            let typeText = allocation.value("BILLTYPE") ?? ""
            guard let type = Self.billTypes.first(where: { Self.key($0) == Self.key(typeText) }) else {
                throw TallyRefusal("Unknown bill type '\(typeText)' for bill '\(billName)'")
            }
            let amountText = allocation.value("AMOUNT") ?? ""
            guard let billAmount = TallyAmount(parsing: amountText) else {
                throw TallyRefusal("Invalid amount '\(amountText)' for bill '\(billName)'")
            }
            bills.append(TallyBillAllocation(name: billName, type: type, amount: billAmount))
        }
        return Entry(
            ledger: ledger.masterID, amount: amount, isParty: Self.yesNo(line.value("ISPARTYLEDGER")) ?? false,
            bills: bills)
    }

    /// The zero sum: debits (negative) and credits (positive) must cancel, or Tally answers
    /// `Voucher totals do not match! Dr: ₹ … Dr Cr: ₹ … Cr Diff: ₹ … Dr|Cr` (TallyConnector issue #44).
    func checkTotals(_ entries: [Entry]) throws(TallyRefusal) {
        var debit = TallyAmount.zero
        var credit = TallyAmount.zero
        for entry in entries {
            if entry.amount.isNegative { debit = debit + (-entry.amount) } else { credit = credit + entry.amount }
        }
        guard debit != credit else { return }
        let difference = debit > credit ? debit + (-credit) : credit + (-debit)
        throw TallyRefusal(
            "Voucher totals do not match! Dr: ₹ \(debit.grouped) Dr Cr: ₹ \(credit.grouped) Cr "
                + "Diff: ₹ \(difference.grouped) \(debit > credit ? "Dr" : "Cr")")
    }

    /// Bills only on bill-wise ledgers, adding up to the entry's amount; an `Agst Ref` names a bill the party has.
    func checkBills(_ entries: [Entry], excluding base: Voucher?) throws(TallyRefusal) {
        for entry in entries where !entry.bills.isEmpty {
            guard let ledger = ledgers[entry.ledger] else { continue }
            guard isBillWise(ledger) else {
                throw TallyRefusal("Bill-wise details are not maintained for ledger '\(ledger.name)'")
            }
            let total = entry.bills.reduce(TallyAmount.zero) { $0 + $1.amount }
            guard total == entry.amount else {
                throw TallyRefusal(
                    "Bill allocations of ledger '\(ledger.name)' total \(total), not the entry's \(entry.amount)")
            }
            for bill in entry.bills where bill.type == "Agst Ref" {
                var newRefs = bills[ledger.masterID]?[Self.key(bill.name)]?.newRefs ?? 0
                if let base, !base.cancelled {
                    for old in base.entries where old.ledger == entry.ledger {
                        newRefs -= old.bills.count { $0.type == "New Ref" && Self.key($0.name) == Self.key(bill.name) }
                    }
                }
                newRefs += entries.filter { $0.ledger == entry.ledger }.flatMap(\.bills).count {
                    $0.type == "New Ref" && Self.key($0.name) == Self.key(bill.name)
                }
                guard newRefs > 0 else {
                    throw TallyRefusal("Bill '\(bill.name)' of ledger '\(ledger.name)' does not exist for Agst Ref!")
                }
            }
        }
    }

    /// A `yyyymmdd` date that exists.
    static func date(_ text: String) -> Int? {
        guard text.count == 8, text.allSatisfy(\.isASCIIDigit), let value = Int(text) else { return nil }
        let year = value / 10_000
        let month = value / 100 % 100
        let day = value % 100
        guard (1900...2200).contains(year), (1...12).contains(month), day >= 1 else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days ? value : nil
    }
}

import Connectors

extension TallyCompany {
    /// What Tally writes for a top-level parent: a `&#4;` control reference, then ` Primary`. The XML writer leaves
    /// control characters out, so the element carries this private-use stand-in, swapped for `&#4;` when the answer
    /// is written (`TallySandbox.answer`).
    static let primary = "\u{E004} Primary"

    /// The objects of a collection `TYPE` (Group, Ledger, Voucher) that satisfy every formula, in ALTERID order, as
    /// Tally exports them; `nil` for a type the emulator does not hold.
    func collection(type: String, filters: [TallyFormula]) -> [TallyElement]? {
        let accept = { (value: (String) -> TallyFormula.Value?) in filters.allSatisfy { $0.holds(value) } }
        switch type.lowercased() {
        case "group":
            return groups.values.sorted { $0.alterID < $1.alterID }
                .filter { group in accept { formulaValue(group, $0) } }.map(element)
        case "ledger":
            return ledgers.values.sorted { $0.alterID < $1.alterID }
                .filter { ledger in accept { formulaValue(ledger, $0) } }.map(element)
        case "voucher":
            return vouchers.values.sorted { $0.alterID < $1.alterID }
                .filter { voucher in accept { formulaValue(voucher, $0) } }.map(element)
        default:
            return nil
        }
    }

    func formulaValue(_ group: Group, _ field: String) -> TallyFormula.Value? {
        switch field {
        case "AlterID": .number(Int64(group.alterID))
        case "MasterID": .number(Int64(group.masterID))
        case "GUID": .text(group.guid)
        case "Parent": .text(group.parent ?? "Primary")
        case "Name": .text(group.name)
        default: nil
        }
    }

    func formulaValue(_ ledger: Ledger, _ field: String) -> TallyFormula.Value? {
        switch field {
        case "AlterID": .number(Int64(ledger.alterID))
        case "MasterID": .number(Int64(ledger.masterID))
        case "GUID": .text(ledger.guid)
        case "Parent": .text(ledger.parent)
        case "Name": .text(ledger.name)
        default: nil
        }
    }

    func formulaValue(_ voucher: Voucher, _ field: String) -> TallyFormula.Value? {
        switch field {
        case "AlterID": .number(Int64(voucher.alterID))
        case "MasterID": .number(Int64(voucher.masterID))
        case "GUID": .text(voucher.guid)
        case "VoucherTypeName": .text(voucher.type)
        case "VoucherNumber": .text(voucher.number)
        case "Date": .number(Int64(voucher.date))
        case "IsCancelled": .text(voucher.cancelled ? "Yes" : "No")
        default: nil
        }
    }

    /// `<COMPANY NAME="…">` with the fields the company list asks for.
    var companyElement: TallyElement {
        TallyElement(
            "COMPANY", attributes: [.init("NAME", name)],
            children: [
                .leaf("NAME", name), .leaf("GUID", guid), .leaf("ALTMSTID", "\(altMasterID)"),
                .leaf("ALTVCHID", "\(altVoucherID)"), .leaf("STATENAME", stateName),
            ])
    }

    func element(_ group: Group) -> TallyElement {
        TallyElement(
            "GROUP", attributes: [.init("NAME", group.name), .init("RESERVEDNAME", group.reserved ? group.name : "")],
            children: [
                TallyElement("NAME.LIST", children: [.leaf("NAME", group.name)]),
                .leaf("PARENT", group.parent ?? Self.primary),
            ] + group.fields + [
                .leaf("GUID", group.guid), .leaf("MASTERID", "\(group.masterID)"),
                .leaf("ALTERID", "\(group.alterID)"),
            ])
    }

    func element(_ ledger: Ledger) -> TallyElement {
        TallyElement(
            "LEDGER",
            attributes: [.init("NAME", ledger.name), .init("RESERVEDNAME", ledger.reserved ? ledger.name : "")],
            children: [
                TallyElement("NAME.LIST", children: [.leaf("NAME", ledger.name)]),
                .leaf("PARENT", ledger.parent == "Primary" ? Self.primary : ledger.parent),
            ] + ledger.fields + [
                .leaf("GUID", ledger.guid), .leaf("MASTERID", "\(ledger.masterID)"),
                .leaf("ALTERID", "\(ledger.alterID)"), .leaf("CLOSINGBALANCE", "\(closingBalance(ledger))"),
            ])
    }

    func element(_ voucher: Voucher) -> TallyElement {
        var children: [TallyElement] = [
            .leaf("DATE", "\(voucher.date)"), .leaf("GUID", voucher.guid), .leaf("VOUCHERTYPENAME", voucher.type),
            .leaf("VOUCHERNUMBER", voucher.number),
        ]
        if let party = voucher.party.flatMap({ ledgers[$0] }) { children.append(.leaf("PARTYLEDGERNAME", party.name)) }
        children += [.leaf("NARRATION", voucher.narration), .leaf("REFERENCE", voucher.reference)]
        if let place = voucher.placeOfSupply { children.append(.leaf("PLACEOFSUPPLY", place)) }
        children += [
            .leaf("PERSISTEDVIEW", "Accounting Voucher View"), .leaf("ISCANCELLED", voucher.cancelled ? "Yes" : "No"),
            .leaf("ALTERID", "\(voucher.alterID)"), .leaf("MASTERID", "\(voucher.masterID)"),
        ]
        for entry in voucher.entries {
            children.append(
                TallyElement(
                    "ALLLEDGERENTRIES.LIST",
                    children: [
                        .leaf("LEDGERNAME", ledgers[entry.ledger]?.name ?? ""),
                        .leaf("ISDEEMEDPOSITIVE", entry.amount.isNegative ? "Yes" : "No"),
                        .leaf("ISPARTYLEDGER", entry.isParty ? "Yes" : "No"), .leaf("AMOUNT", "\(entry.amount)"),
                    ]
                        + entry.bills.map { bill in
                            TallyElement(
                                "BILLALLOCATIONS.LIST",
                                children: [
                                    .leaf("NAME", bill.name), .leaf("BILLTYPE", bill.type),
                                    .leaf("AMOUNT", "\(bill.amount)"),
                                ])
                        }))
        }
        let key = objectGUID(voucher.masterID) + ":" + String(repeating: "0", count: 8)
        return TallyElement(
            "VOUCHER",
            attributes: [
                .init("REMOTEID", voucher.guid), .init("VCHKEY", key), .init("VCHTYPE", voucher.type),
                .init("ACTION", "Create"), .init("OBJVIEW", "Accounting Voucher View"),
            ], children: children)
    }

    /// Groups (in the order they were made) then ledgers, as List of Accounts exports them.
    var masterElements: [TallyElement] {
        groupOrder.compactMap { groups[$0] }.map(element)
            + ledgers.values.sorted { $0.masterID < $1.masterID }.map(element)
    }

    /// Vouchers dated from `from` to `to` (`yyyymmdd`, either open), by date then MASTERID, as Day Book lists them.
    func dayBook(from: Int?, to: Int?) -> [TallyElement] {
        vouchers.values.filter { ($0.date >= from ?? 0) && ($0.date <= to ?? Int.max) }
            .sorted { ($0.date, $0.masterID) < ($1.date, $1.masterID) }.map(element)
    }

    /// Trial Balance lines: each top-level group with a balance, and (exploded) each ledger under it with one; Tally's
    /// `DSPACCNAME`/`DSPACCINFO` pairs, a debit negative in `DSPCLDRAMTA`, a credit in `DSPCLCRAMTA`.
    func trialBalance(explode: Bool) -> [TallyElement] {
        var byPrimary: [String: [Ledger]] = [:]
        for ledger in ledgers.values {
            let primary = ledger.parent == "Primary" ? ledger.name : primaryGroup(of: ledger.parent)
            byPrimary[primary, default: []].append(ledger)
        }
        var lines: [TallyElement] = []
        let order = groupOrder.compactMap { groups[$0] }.filter { $0.parent == nil }.map(\.name)
        let extra = byPrimary.keys.filter { !order.contains($0) }.sorted()
        for name in order + extra {
            let members = (byPrimary[name] ?? []).sorted { $0.masterID < $1.masterID }
            let total = members.reduce(TallyAmount.zero) { $0 + closingBalance($1) }
            guard total != .zero else { continue }
            lines += Self.trialLine(name, total)
            if explode, !(members.count == 1 && members[0].name == name) {
                for ledger in members where closingBalance(ledger) != .zero {
                    lines += Self.trialLine(ledger.name, closingBalance(ledger))
                }
            }
        }
        return lines
    }

    static func trialLine(_ name: String, _ balance: TallyAmount) -> [TallyElement] {
        [
            TallyElement("DSPACCNAME", children: [.leaf("DSPDISPNAME", name)]),
            TallyElement(
                "DSPACCINFO",
                children: [
                    TallyElement(
                        "DSPCLDRAMT", children: [.leaf("DSPCLDRAMTA", balance.isNegative ? "\(balance)" : "")]),
                    TallyElement(
                        "DSPCLCRAMT", children: [.leaf("DSPCLCRAMTA", balance.isNegative ? "" : "\(balance)")]),
                ]),
        ]
    }
}

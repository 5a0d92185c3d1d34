import Connectors

extension TallyCompany {
    /// Elements the emulator computes or keeps apart; the rest of a master's elements are kept as imported.
    static let computedFields: Set<String> = ["NAME.LIST", "PARENT", "GUID", "MASTERID", "ALTERID", "CLOSINGBALANCE"]

    enum Action: String {
        case create, alter, delete, cancel
    }

    static func action(of element: TallyElement) throws(TallyRefusal) -> Action {
        let text = String((element[attribute: "ACTION"] ?? "Create").trimmingWhitespace).lowercased()
        guard let action = Action(rawValue: text.isEmpty ? "create" : text) else {
            throw TallyRefusal("Unknown ACTION '\(element[attribute: "ACTION"] ?? "")' for \(element.name)")
        }
        return action
    }

    /// The name a master element gives itself: `NAME.LIST/NAME`, else its `NAME` attribute.
    static func masterName(_ element: TallyElement) -> String? {
        let listed = element.child("NAME.LIST")?.value("NAME")
        let name = (listed?.isEmpty == false ? listed : nil) ?? element[attribute: "NAME"]
        guard let name, !name.trimmingWhitespace.isEmpty else { return nil }
        return String(name.trimmingWhitespace)
    }

    static func remoteID(_ element: TallyElement) -> String? {
        guard let id = element[attribute: "REMOTEID"]?.trimmingWhitespace, !id.isEmpty else { return nil }
        return String(id)
    }

    /// `fields` with every element named in `changes` replaced by the ones there.
    static func merged(_ fields: [TallyElement], _ changes: [TallyElement]) -> [TallyElement] {
        let replaced = Set(changes.map(\.name))
        return fields.filter { !replaced.contains($0.name) } + changes
    }

    /// Whether a master other than the ledger `exceptLedger` or group `exceptGroup` already has `name`: ledgers and
    /// groups share one namespace in Tally.
    func nameTaken(_ name: String, exceptLedger: Int? = nil, exceptGroup: String? = nil) -> Bool {
        if let id = ledgerKeys[Self.key(name)], id != exceptLedger { return true }
        if let group = group(name), Self.key(group.name) != exceptGroup.map(Self.key) { return true }
        return false
    }

    // MARK: Ledgers

    /// Applies one `LEDGER` of an import; throws Tally's line error, the books untouched, when it is refused.
    mutating func applyLedger(_ element: TallyElement, result: inout TallyImportResult) throws(TallyRefusal) {
        let action = try Self.action(of: element)
        guard let name = Self.masterName(element) else { throw TallyRefusal("Ledger name is missing!") }
        let remoteID = Self.remoteID(element)
        let fields = element.children.filter { !Self.computedFields.contains($0.name) }
        var existing: Ledger?
        if let remoteID { existing = ledger(remoteID: remoteID) }
        if existing == nil, action != .create {
            existing = ledger(named: element[attribute: "NAME"] ?? name)
        }
        switch action {
        case .cancel:
            throw TallyRefusal("Unknown ACTION 'Cancel' for LEDGER")
        case .delete:
            guard let ledger = existing else { throw TallyRefusal("Ledger '\(name)' does not exist!") }
            guard !ledger.reserved else { throw TallyRefusal("Ledger '\(ledger.name)' cannot be deleted!") }
            guard !vouchers.values.contains(where: { $0.entries.contains { $0.ledger == ledger.masterID } }) else {
                throw TallyRefusal("Ledger '\(ledger.name)' has vouchers and cannot be deleted!")
            }
            ledgers[ledger.masterID] = nil
            ledgerKeys[Self.key(ledger.name)] = nil
            movements[ledger.masterID] = nil
            bills[ledger.masterID] = nil
            result.deleted += 1
            result.lastMasterID = ledger.masterID
        case .create where existing == nil:
            guard !nameTaken(name) else { throw TallyRefusal("Ledger '\(name)' already exists!") }
            guard let parentName = element.value("PARENT"), !parentName.isEmpty else {
                throw TallyRefusal("Parent of Ledger '\(name)' is missing!")
            }
            guard let parent = group(parentName) else { throw TallyRefusal("Group '\(parentName)' does not exist!") }
            let opening = try Self.opening(element)
            let id = nextMasterID()
            ledgers[id] = Ledger(
                name: name, parent: parent.name, reserved: false, guid: remoteID ?? objectGUID(id), masterID: id,
                alterID: nextAlterID(master: true), remoteID: remoteID, opening: opening ?? .zero,
                billWise: Self.yesNo(element.value("ISBILLWISEON")), fields: fields)
            ledgerKeys[Self.key(name)] = id
            result.created += 1
            result.lastMasterID = id
        case .create, .alter:
            guard var ledger = existing else { throw TallyRefusal("Ledger '\(name)' does not exist!") }
            if Self.key(name) != Self.key(ledger.name) {
                guard !ledger.reserved else { throw TallyRefusal("Ledger '\(ledger.name)' cannot be renamed!") }
                guard !nameTaken(name, exceptLedger: ledger.masterID) else {
                    throw TallyRefusal("Ledger '\(name)' already exists!")
                }
            }
            if let parentName = element.value("PARENT"), !parentName.isEmpty {
                guard let parent = group(parentName) else {
                    throw TallyRefusal("Group '\(parentName)' does not exist!")
                }
                ledger.parent = parent.name
            }
            if let opening = try Self.opening(element) { ledger.opening = opening }
            if let billWise = Self.yesNo(element.value("ISBILLWISEON")) { ledger.billWise = billWise }
            ledgerKeys[Self.key(ledger.name)] = nil
            ledger.name = name
            ledgerKeys[Self.key(name)] = ledger.masterID
            ledger.fields = Self.merged(ledger.fields, fields)
            ledger.alterID = nextAlterID(master: true)
            ledgers[ledger.masterID] = ledger
            result.altered += 1
            result.lastMasterID = ledger.masterID
        }
    }

    static func opening(_ element: TallyElement) throws(TallyRefusal) -> TallyAmount? {
        guard let text = element.value("OPENINGBALANCE"), !text.isEmpty else { return nil }
        guard let amount = TallyAmount(parsing: text) else {
            throw TallyRefusal("Invalid amount '\(text)' in OPENINGBALANCE")
        }
        return amount
    }

    static func yesNo(_ text: String?) -> Bool? {
        switch text?.lowercased() {
        case "yes": true
        case "no": false
        default: nil
        }
    }

    // MARK: Groups

    /// Applies one `GROUP` of an import; throws Tally's line error, the books untouched, when it is refused.
    mutating func applyGroup(_ element: TallyElement, result: inout TallyImportResult) throws(TallyRefusal) {
        let action = try Self.action(of: element)
        guard let name = Self.masterName(element) else { throw TallyRefusal("Group name is missing!") }
        let remoteID = Self.remoteID(element)
        let fields = element.children.filter { !Self.computedFields.contains($0.name) }
        var existing: Group?
        if let remoteID { existing = groups.values.first { $0.remoteID == remoteID || $0.guid == remoteID } }
        if existing == nil, action != .create { existing = group(element[attribute: "NAME"] ?? name) }
        var parentName: String?
        if let given = element.value("PARENT"), !given.isEmpty, Self.key(given) != "primary" {
            guard let parent = group(given) else { throw TallyRefusal("Group '\(given)' does not exist!") }
            parentName = parent.name
        }
        switch action {
        case .cancel:
            throw TallyRefusal("Unknown ACTION 'Cancel' for GROUP")
        case .delete:
            guard let group = existing else { throw TallyRefusal("Group '\(name)' does not exist!") }
            guard !group.reserved else { throw TallyRefusal("Group '\(group.name)' cannot be deleted!") }
            let key = Self.key(group.name)
            guard !groups.values.contains(where: { $0.parent.map(Self.key) == key }),
                !ledgers.values.contains(where: { Self.key($0.parent) == key })
            else { throw TallyRefusal("Group '\(group.name)' has masters under it and cannot be deleted!") }
            groups[key] = nil
            groupOrder.removeAll { $0 == key }
            result.deleted += 1
            result.lastMasterID = group.masterID
        case .create where existing == nil:
            guard !nameTaken(name) else { throw TallyRefusal("Group '\(name)' already exists!") }
            let id = nextMasterID()
            groups[Self.key(name)] = Group(
                name: name, parent: parentName, reserved: false, guid: remoteID ?? objectGUID(id), masterID: id,
                alterID: nextAlterID(master: true), remoteID: remoteID, fields: fields)
            groupOrder.append(Self.key(name))
            result.created += 1
            result.lastMasterID = id
        case .create, .alter:
            guard var group = existing else { throw TallyRefusal("Group '\(name)' does not exist!") }
            let oldKey = Self.key(group.name)
            if Self.key(name) != oldKey {
                guard !group.reserved else { throw TallyRefusal("Group '\(group.name)' cannot be renamed!") }
                guard !nameTaken(name, exceptGroup: group.name) else {
                    throw TallyRefusal("Group '\(name)' already exists!")
                }
            }
            if let parentName {
                guard !isGroup(parentName, under: group.name) else {
                    throw TallyRefusal("Group '\(group.name)' cannot be under itself!")
                }
                guard !group.reserved || group.parent == parentName else {
                    throw TallyRefusal("Group '\(group.name)' cannot be moved!")
                }
                group.parent = parentName
            }
            group.fields = Self.merged(group.fields, fields)
            group.alterID = nextAlterID(master: true)
            if Self.key(name) != oldKey {
                for (key, var child) in groups where child.parent.map(Self.key) == oldKey {
                    child.parent = name
                    groups[key] = child
                }
                for (id, var ledger) in ledgers where Self.key(ledger.parent) == oldKey {
                    ledger.parent = name
                    ledgers[id] = ledger
                }
                groups[oldKey] = nil
                groupOrder = groupOrder.map { $0 == oldKey ? Self.key(name) : $0 }
            }
            group.name = name
            groups[Self.key(name)] = group
            result.altered += 1
            result.lastMasterID = group.masterID
        }
    }
}

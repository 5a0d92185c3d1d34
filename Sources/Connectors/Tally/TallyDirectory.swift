import Accounting
import Foundation
import Synchronization

/// What the connector remembers of one Tally company between calls: its ledgers (Tally names masters, vouchers name
/// ledgers by name, and Ledgerwire links them by GUID) and the bills of the vouchers it wrote. It is a cache: whatever
/// is missing is read from Tally again (ledgers changed since the last read, by ALTERID), so a restart costs one read.
actor TallyDirectory {
    struct Ledger: Sendable, Hashable {
        var guid: String
        var name: String
        var parent: String
        var state: String?
        var gstin: String?
        var element: TallyElement
    }

    private(set) var ledgers: [String: Ledger] = [:]
    private var guidsByName: [String: String] = [:]
    /// The highest ALTERID of the ledgers read.
    private(set) var ledgerAlterID = 0
    /// Whether the ledgers were ever read from Tally.
    private(set) var loaded = false
    /// The bill each voucher is allocated to, by GUID, and the document voucher of each bill (its `New Ref`).
    private var billsByGUID: [String: String] = [:]
    private var guidsByBill: [String: String] = [:]

    func ledger(guid: String) -> Ledger? { ledgers[guid] }

    func ledger(named name: String) -> Ledger? {
        guidsByName[name.lowercased()].flatMap { ledgers[$0] }
    }

    /// Takes ledgers read from Tally (`ALTERID` order), or written by Ledgerwire.
    func remember(_ read: [Ledger], alterID: Int?) {
        for ledger in read {
            if let old = ledgers[ledger.guid], old.name.lowercased() != ledger.name.lowercased() {
                guidsByName[old.name.lowercased()] = nil
            }
            ledgers[ledger.guid] = ledger
            guidsByName[ledger.name.lowercased()] = ledger.guid
        }
        if let alterID {
            ledgerAlterID = max(ledgerAlterID, alterID)
            loaded = true
        }
    }

    func bill(guid: String) -> String? { billsByGUID[guid] }

    func document(bill: String) -> String? { guidsByBill[bill] }

    /// The bill voucher `guid` is allocated to; `isNew` when the bill is the voucher's own (`New Ref`), so the bill's
    /// name leads back to it.
    func remember(bill: String, guid: String, isNew: Bool) {
        billsByGUID[guid] = bill
        if isNew { guidsByBill[bill] = guid }
    }
}

/// One `TallyDirectory` per integration, company and address.
final class TallyDirectories: Sendable {
    private let directories = Mutex<[String: TallyDirectory]>([:])

    func directory(integrationID: String, settings: TallySettings) -> TallyDirectory {
        let key =
            "\(integrationID)|\(settings.endpoint(integrationID: integrationID).absoluteString)|\(settings.company)"
        return directories.withLock { directories in
            if let directory = directories[key] { return directory }
            let directory = TallyDirectory()
            directories[key] = directory
            return directory
        }
    }
}

extension TallyDirectory.Ledger {
    /// A ledger as Tally exports it, or `nil` without a name or GUID.
    init?(exported element: TallyElement) {
        guard element.name == "LEDGER",
            let name = element[attribute: "NAME"] ?? element.child("NAME.LIST")?.value("NAME"),
            let guid = element.value("GUID") ?? element[attribute: "REMOTEID"], !guid.isEmpty
        else { return nil }
        self.init(
            guid: guid, name: name, parent: TallyDirectory.Ledger.clean(element.value("PARENT") ?? ""),
            state: element.value("LEDSTATENAME").flatMap { $0.isEmpty ? nil : $0 },
            gstin: element.value("PARTYGSTIN").flatMap { $0.isEmpty ? nil : $0 }, element: element)
    }

    /// A group name as Tally exports it: `&#4; Primary` reads as ` Primary` once the reference is dropped.
    static func clean(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    var party: TallyMapping.Party { TallyMapping.Party(guid: guid, name: name, state: state) }
}

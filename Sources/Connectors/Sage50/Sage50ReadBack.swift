public import Accounting

/// What an uploaded Sage 50 audit trail says about the records Ledgerwire exported, worked out without I/O.
///
/// A transaction whose `Ex.Ref` is the key of an exported record (`Sage50Export.key`) confirms it, with the number
/// of its first line as its remote id; an invoice whose lines (deleted ones left out) add up to another net or VAT
/// than Sage's copy had is a change heard from the books; a receipt typed in Sage (`SR`, or an `SA` allocated)
/// against invoices Ledgerwire exported is a payment heard from the books; a document whose every line was deleted in
/// Sage is heard as deleted. Every other line is reported, never guessed at.
public struct Sage50ReadBack: Sendable {
    /// A record Ledgerwire exported or confirmed, by its key.
    public struct Known: Sendable, Hashable {
        public var recordID: String
        public var recordType: RecordType
        public var localID: String
        /// The link's status: `exported` or `synced`.
        public var status: String
        /// Sage's transaction number, once confirmed.
        public var remoteID: String?

        public init(recordID: String, recordType: RecordType, localID: String, status: String, remoteID: String?) {
            self.recordID = recordID
            self.recordType = recordType
            self.localID = localID
            self.status = status
            self.remoteID = remoteID
        }
    }

    /// A record the audit trail confirms: its Sage transaction number and that copy's version.
    public struct Confirmation: Sendable, Hashable {
        public var recordID: String
        public var remoteID: String
        public var remoteVersion: String
    }

    /// A line left alone, and why.
    public struct Unknown: Sendable, Hashable {
        public var row: Int
        public var number: Int
        public var reason: String
    }

    public var confirmations: [Confirmation] = []
    /// Documents and receipts as the books hold them, for the engine's change handling.
    public var changes: [RemoteRecord] = []
    public var unknown: [Unknown] = []

    /// Works out `lines` against `known` (by key) and `accounts` (the A/Cs of billing's customers), at `now`.
    public init(lines: [Sage50Upload.Line], known: [String: Known], accounts: Set<String>, at now: Timestamp) {
        var byKey: [String: [Sage50Upload.Line]] = [:]
        var keyOfNumber: [Int: String] = [:]
        for line in lines where !line.isDeleted {
            guard known[line.extraReference] != nil else { continue }
            byKey[line.extraReference, default: []].append(line)
            keyOfNumber[line.number] = line.extraReference
        }
        var remoteIDOfKey: [String: String] = [:]
        for (key, group) in byKey {
            guard let record = known[key], let first = group.min(by: { $0.number < $1.number }) else { continue }
            let remoteID = String(first.number)
            remoteIDOfKey[key] = remoteID
            let net = group.reduce(Int64(0)) { $0 + $1.net }
            let tax = group.reduce(Int64(0)) { $0 + $1.tax }
            let version = "\(Self.amount(net))+\(Self.amount(tax))"
            if record.status == "exported" {
                confirmations.append(
                    Confirmation(recordID: record.recordID, remoteID: remoteID, remoteVersion: version))
            }
            if record.recordType == .invoice || record.recordType == .creditNote {
                let data: [String: JSONValue] = [
                    "id": .string(remoteID), "currency": "GBP", "customer_id": .string(first.account),
                    "number": .string(first.reference), "issue_date": .string(first.date.description),
                    "subtotal": .string(Self.amount(net)), "tax_total": .string(Self.amount(tax)),
                    "total": .string(Self.amount(net + tax)),
                ]
                changes.append(
                    RemoteRecord(
                        recordType: record.recordType, remoteID: remoteID, remoteVersion: version, updatedAt: now,
                        deleted: false, data: .object(data)))
            }
        }
        // A document Sage holds whose every line is now deleted in Sage (Transactions → Delete) is heard as deleted.
        var deletedKeys: Set<String> = []
        for line in lines where line.isDeleted && byKey[line.extraReference] == nil {
            deletedKeys.insert(line.extraReference)
        }
        for key in deletedKeys.sorted() {
            guard let record = known[key], record.status == "synced", let remoteID = record.remoteID,
                record.recordType == .invoice || record.recordType == .creditNote
            else { continue }
            changes.append(
                RemoteRecord(
                    recordType: record.recordType, remoteID: remoteID, remoteVersion: "deleted", updatedAt: now,
                    deleted: true, data: ["id": .string(remoteID)]))
        }
        for line in lines {
            if known[line.extraReference] != nil {
                if line.isDeleted, !byKey.keys.contains(line.extraReference),
                    known[line.extraReference]?.status == "exported"
                {
                    unknown.append(
                        Unknown(
                            row: line.row, number: line.number, reason: "deleted in Sage 50 before it was confirmed"))
                }
                continue
            }
            if line.isDeleted { continue }
            guard line.type == "SR" || line.type == "SA" else {
                unknown.append(
                    Unknown(row: line.row, number: line.number, reason: "not a transaction Ledgerwire exported"))
                continue
            }
            guard accounts.contains(line.account) else {
                unknown.append(
                    Unknown(row: line.row, number: line.number, reason: "a receipt from an A/C billing does not know"))
                continue
            }
            var allocations: [JSONValue] = []
            for (number, amount) in line.allocations {
                guard let key = keyOfNumber[number], known[key]?.recordType == .invoice,
                    let invoice = remoteIDOfKey[key]
                else { continue }
                allocations.append(["invoice_id": .string(invoice), "amount": .string(Self.amount(amount))])
            }
            guard !allocations.isEmpty else {
                unknown.append(
                    Unknown(
                        row: line.row, number: line.number,
                        reason: "a receipt not allocated to an invoice Ledgerwire exported"))
                continue
            }
            let allocated = line.allocations.reduce(Int64(0)) { $0 + $1.amount }
            changes.append(
                RemoteRecord(
                    recordType: .payment, remoteID: String(line.number),
                    remoteVersion: "\(Self.amount(line.net))/\(Self.amount(allocated))", updatedAt: now, deleted: false,
                    data: [
                        "id": .string(String(line.number)), "currency": "GBP", "customer_id": .string(line.account),
                        "amount": .string(Self.amount(line.net)), "received_at": .string(line.date.description),
                        "reference": .string(line.reference), "deposit_account_id": .string(line.nominal),
                        "allocations": .array(allocations),
                    ]))
        }
        unknown.sort { $0.row < $1.row }
    }

    /// `-12.50`, `1234.05` from pence.
    static func amount(_ pence: Int64) -> String {
        let magnitude = pence.magnitude
        let rest = magnitude % 100
        return "\(pence < 0 ? "-" : "")\(magnitude / 100).\(rest < 10 ? "0" : "")\(rest)"
    }
}

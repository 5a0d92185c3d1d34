import Accounting
public import Foundation

/// An import file a person loads into Tally by hand (*Import → Transactions*), for a Tally Ledgerwire cannot reach:
/// the same ledgers and vouchers, with the same `REMOTEID`s, that the connector would send. Once it is imported, the
/// connector's own writes of those records alter them in place (a `REMOTEID` Tally knows), so nothing is duplicated
/// when Tally is reachable again.
public enum TallyExport {
    /// What a file holds.
    public struct File: Sendable {
        /// The XML document, in the integration's encoding and dialect.
        public var document: Data
        /// Records written in it.
        public var written: Int
        /// Records left out, each with why (an unmapped code, a customer not in the file nor in Tally).
        public var refused: [(localID: String, reason: String)]
    }

    /// The file of `requests` (customers first, then documents, as given). `parties`: the party ledger of every
    /// customer GUID the documents name that is not itself in `requests`; `bills`: the bill of every document GUID a
    /// payment, credit note or refund names that is not itself in `requests`.
    public static func file(
        _ requests: [PushRequest], parties known: [String: TallyMapping.Party], bills knownBills: [String: String],
        settings: TallySettings
    ) -> File {
        var parties = known
        var bills = knownBills
        var masters: [TallyElement] = []
        var vouchers: [TallyElement] = []
        var refused: [(String, String)] = []
        var documents = 0
        let ordered = requests.filter { $0.recordType == .customer } + requests.filter { $0.recordType != .customer }
        for request in ordered {
            let guid =
                request.remoteID
                ?? TallyMapping.remoteID(
                    tenantID: request.tenantID, recordType: request.recordType, localID: request.localID)
            do {
                switch request.record {
                case .customer(let customer):
                    guard request.action != .void else { continue }
                    // Tally takes a ledger name once: a family whose name another's ledger has is named apart, as the
                    // connector names it (by e-mail, else by billing's id).
                    func taken(_ name: String) -> Bool {
                        parties.values.contains { $0.guid != guid && $0.name.lowercased() == name.lowercased() }
                    }
                    // Its ledger's name in Tally, when it is there already (its version carries it): one named apart
                    // keeps its name while billing's name stays the same, as the connector's own writes keep it.
                    let current = request.remoteVersion.flatMap(TallyMapping.ledgerName(inVersion:))
                    var name = customer.name
                    if let current, current != name, current.hasPrefix(name + " (") {
                        name = current
                    } else if taken(name) {
                        let byEmail = customer.email.map { "\(customer.name) (\($0))" }
                        name = byEmail.flatMap { taken($0) ? nil : $0 } ?? "\(customer.name) (\(request.localID))"
                    }
                    masters.append(
                        TallyMapping.ledger(customer, name: name, guid: guid, action: "Create", currentName: current))
                    parties[guid] = TallyMapping.Party(guid: guid, name: name, state: TallyMapping.state(of: customer))
                default:
                    var written = [
                        try voucher(for: request, guid: guid, parties: parties, bills: bills, settings: settings)
                    ]
                    if request.action == .void, request.remoteID == nil {
                        // Issued and voided while Tally was away: never in Tally, so the voucher goes first and the
                        // cancellation after it, as the connector's own create and cancel leave it (a cancelled
                        // voucher, kept in Tally's books).
                        var created = request
                        created.action = .create
                        written.insert(
                            try voucher(for: created, guid: guid, parties: parties, bills: bills, settings: settings),
                            at: 0)
                    }
                    vouchers += written
                    documents += 1
                    if let bill = written[0].child("ALLLEDGERENTRIES.LIST")?.child("BILLALLOCATIONS.LIST")?.value(
                        "NAME")
                    {
                        bills[guid] = bill
                    }
                }
            } catch {
                refused.append((request.localID, error.message))
            }
        }
        let envelope = TallyEnvelope.importing(
            masters + vouchers, into: settings.company, report: .vouchers, version: settings.version)
        return File(
            document: TallyXML.document(envelope, encoding: settings.encoding), written: masters.count + documents,
            refused: refused)
    }

    private static func voucher(
        for request: PushRequest, guid: String, parties: [String: TallyMapping.Party], bills: [String: String],
        settings: TallySettings
    ) throws(ConnectorError) -> TallyElement {
        func party(_ customerID: String) throws(ConnectorError) -> TallyMapping.Party {
            guard let reference = request.references[RecordReference(.customer, customerID)],
                let party = parties[reference]
            else {
                throw ConnectorError.validation(
                    code: "tally_unlinked",
                    message: "billing's customer \(customerID) is neither in Tally nor in the file")
            }
            return party
        }
        func bill(_ type: RecordType, _ id: String?) throws(ConnectorError) -> String? {
            guard let id else { return nil }
            guard let reference = request.references[RecordReference(type, id)], let bill = bills[reference] else {
                throw ConnectorError.validation(
                    code: "tally_unlinked",
                    message: "billing's \(type.rawValue) \(id) is neither in Tally nor in the file")
            }
            return bill
        }
        if request.action == .void, let type = TallyMapping.voucherType(request.recordType) {
            let date: String
            switch request.record {
            case .invoice(let invoice): date = TallyDate.text(invoice.issueDate)
            case .creditNote(let note): date = TallyDate.text(note.issueDate)
            case .payment(let payment): date = settings.date(of: payment.receivedAt)
            case .refund(let refund): date = settings.date(of: refund.refundedAt)
            case .customer: date = ""
            }
            return TallyVoucherRecord.cancellation(guid: guid, type: type, date: date)
        }
        let mappings = request.mappings
        let record: TallyVoucherRecord
        switch request.record {
        case .invoice(let invoice):
            record = try TallyMapping.salesVoucher(
                invoice, guid: guid, party: party(invoice.customerID.rawValue), settings: settings, mappings: mappings)
        case .creditNote(let note):
            record = try TallyMapping.document(
                guid: guid, type: "Credit Note", number: note.number, date: note.issueDate, currency: note.currency,
                lines: note.lines, total: note.total, party: party(note.customerID.rawValue),
                againstBill: bill(.invoice, note.invoiceID?.rawValue), settings: settings, mappings: mappings)
        case .payment(let payment):
            guard let bank = mappings.remoteID(.depositAccount, for: payment.depositAccount) else {
                throw ConnectorError.missingMapping([.init(.depositAccount, payment.depositAccount)])
            }
            var allocated: [(name: String, amount: Money)] = []
            for allocation in payment.allocations {
                guard let name = try bill(.invoice, allocation.invoiceID.rawValue) else { continue }
                allocated.append((name, allocation.amount))
            }
            record = try TallyMapping.receipt(
                guid: guid, payment: payment, party: party(payment.customerID.rawValue), bank: bank, bills: allocated,
                settings: settings)
        case .refund(let refund):
            guard let bank = mappings.remoteID(.depositAccount, for: refund.depositAccount) else {
                throw ConnectorError.missingMapping([.init(.depositAccount, refund.depositAccount)])
            }
            record = try TallyMapping.payment(
                guid: guid, refund: refund, party: party(refund.customerID.rawValue), bank: bank,
                againstBill: bill(.creditNote, refund.creditNoteID?.rawValue), settings: settings)
        case .customer:
            throw ConnectorError.validation(code: "tally_internal", message: "a customer is a ledger")
        }
        return record.element(action: "Create")
    }
}

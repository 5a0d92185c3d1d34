import Accounting
import Foundation

/// One call's work with one Tally company: builds the objects to import, sends them, and reads each one's outcome.
struct TallySession {
    let client: TallyClient
    let directory: TallyDirectory
    let tenantID: String

    var settings: TallySettings { client.settings }

    /// One object to import and what its success means.
    struct Write {
        var element: TallyElement
        var report: TallyEnvelope.ImportReport
        var result: PushResult
        /// What to remember once Tally took it: the ledger written, or the document's bill.
        var ledger: TallyDirectory.Ledger?
        /// The bill its party entry is allocated to; `isNew` for a document's own bill (`New Ref`).
        var bill: (name: String, guid: String, isNew: Bool)?
    }

    func remoteID(of request: PushRequest) -> String {
        TallyMapping.remoteID(tenantID: tenantID, recordType: request.recordType, localID: request.localID)
    }

    /// The object that writes `request`, or `nil` when nothing is to be written. `named`: the ledger names the same
    /// import creates before it (lower-cased), to which a customer's new ledger's name is added.
    func write(for request: PushRequest, named: inout Set<String>) async throws -> Write? {
        let guid = request.remoteID ?? remoteID(of: request)
        if case .customer(let customer) = request.record {
            guard request.action != .void else { return nil }
            let write = try await ledgerWrite(customer, guid: guid, request: request, named: named)
            if let name = write.ledger?.name { named.insert(name.lowercased()) }
            return write
        }
        guard let type = TallyMapping.voucherType(request.recordType) else { return nil }
        if request.action == .void {
            let date = try await date(of: request.record)
            let element = TallyVoucherRecord.cancellation(guid: guid, type: type, date: date)
            var cancelled = TallyVoucherRecord(guid: guid, type: type, date: date, entries: [])
            cancelled.isCancelled = true
            cancelled.number = number(of: request.record)
            return Write(
                element: element, report: .vouchers,
                result: PushResult(remoteID: guid, remoteVersion: nil), ledger: nil, bill: nil)
        }
        let voucher = try await voucher(for: request, guid: guid)
        let action = request.action == .update && request.remoteID != nil ? "Alter" : "Create"
        return Write(
            element: voucher.element(action: action), report: .vouchers,
            result: PushResult(remoteID: guid, remoteVersion: voucher.fingerprint), ledger: nil,
            bill: voucher.entries.first(where: \.isParty)?.bills.first.map { ($0.name, guid, $0.type == "New Ref") })
    }

    private func ledgerWrite(_ customer: Customer, guid: String, request: PushRequest, named: Set<String>)
        async throws -> Write
    {
        let current = await directory.ledger(guid: guid)
        var name = customer.name
        // A ledger of that name is another billing customer's (in Tally, or made by this same import): this one gets
        // a name of its own.
        if request.notAdoptable.contains(where: { $0.matchedBy == "name" })
            || (current == nil && named.contains(customer.name.lowercased()))
        {
            let byEmail = customer.email.map { "\(customer.name) (\($0))" }
            if let byEmail, await directory.ledger(named: byEmail) == nil, !named.contains(byEmail.lowercased()) {
                name = byEmail
            } else {
                name = "\(customer.name) (\(request.localID))"
            }
        } else if let current, request.action == .update, current.name != customer.name,
            current.name.hasPrefix(customer.name + " (")
        {
            name = current.name
        }
        let state = TallyMapping.state(of: customer)
        let action = request.remoteID != nil && request.action == .update ? "Alter" : "Create"
        let element = TallyMapping.ledger(
            customer, name: name, guid: guid, action: action, currentName: current?.name)
        let ledger = TallyDirectory.Ledger(
            guid: guid, name: name, parent: "Sundry Debtors", state: state, gstin: customer.taxID, element: element)
        return Write(
            element: element, report: .masters,
            result: PushResult(
                remoteID: guid, remoteVersion: TallyMapping.fingerprint(name: name, state: state, gstin: customer.taxID)
            ),
            ledger: ledger, bill: nil)
    }

    private func voucher(for request: PushRequest, guid: String) async throws -> TallyVoucherRecord {
        let mappings = request.mappings
        switch request.record {
        case .invoice(let invoice):
            let party = try await party(for: request, customerID: invoice.customerID.rawValue)
            return try TallyMapping.salesVoucher(
                invoice, guid: guid, party: party, settings: settings, mappings: mappings)
        case .creditNote(let note):
            let party = try await party(for: request, customerID: note.customerID.rawValue)
            var against: String?
            if let invoiceID = note.invoiceID,
                let invoiceGUID = request.references[RecordReference(.invoice, invoiceID.rawValue)]
            {
                against = try await bill(of: invoiceGUID)
            }
            return try TallyMapping.document(
                guid: guid, type: "Credit Note", number: note.number, date: note.issueDate, currency: note.currency,
                lines: note.lines, total: note.total, party: party, againstBill: against, settings: settings,
                mappings: mappings)
        case .payment(let payment):
            let party = try await party(for: request, customerID: payment.customerID.rawValue)
            guard let bank = mappings.remoteID(.depositAccount, for: payment.depositAccount) else {
                throw ConnectorError.missingMapping([.init(.depositAccount, payment.depositAccount)])
            }
            var bills: [(name: String, amount: Money)] = []
            for allocation in payment.allocations {
                guard let invoiceGUID = request.references[RecordReference(.invoice, allocation.invoiceID.rawValue)]
                else { throw unlinked("invoice \(allocation.invoiceID.rawValue)") }
                bills.append((try await bill(of: invoiceGUID), allocation.amount))
            }
            return try TallyMapping.receipt(
                guid: guid, payment: payment, party: party, bank: bank, bills: bills, settings: settings)
        case .refund(let refund):
            let party = try await party(for: request, customerID: refund.customerID.rawValue)
            guard let bank = mappings.remoteID(.depositAccount, for: refund.depositAccount) else {
                throw ConnectorError.missingMapping([.init(.depositAccount, refund.depositAccount)])
            }
            var against: String?
            if let noteID = refund.creditNoteID,
                let noteGUID = request.references[RecordReference(.creditNote, noteID.rawValue)]
            {
                against = try await bill(of: noteGUID)
            }
            return try TallyMapping.payment(
                guid: guid, refund: refund, party: party, bank: bank, againstBill: against, settings: settings)
        case .customer:
            throw ConnectorError.validation(code: "tally_internal", message: "a customer is a ledger, not a voucher")
        }
    }

    /// The party ledger of the record's customer.
    private func party(for request: PushRequest, customerID: String) async throws -> TallyMapping.Party {
        guard let guid = request.references[RecordReference(.customer, customerID)] else {
            throw unlinked("customer \(customerID)")
        }
        if let ledger = await directory.ledger(guid: guid) { return ledger.party }
        try await refreshLedgers()
        guard let ledger = await directory.ledger(guid: guid) else {
            throw ConnectorError.validation(
                code: "tally_party_missing",
                message: "the ledger of billing's customer \(customerID) (GUID \(guid)) is no longer in Tally's "
                    + "company \(settings.company)")
        }
        return ledger.party
    }

    private func unlinked(_ what: String) -> ConnectorError {
        .validation(code: "tally_unlinked", message: "billing's \(what) is not in Tally yet")
    }

    /// The bill the voucher `guid` is allocated to (an invoice's own number; a credit note's invoice, or its own number
    /// when it stands alone): remembered, or read from Tally.
    func bill(of guid: String) async throws -> String {
        if let bill = await directory.bill(guid: guid) { return bill }
        let vouchers = try await client.collection(
            TallyEnvelope.collection(
                of: "Voucher", company: settings.company, filters: ["$GUID = \(TallyEnvelope.quoted(guid))"]))
        guard let voucher = vouchers.lazy.compactMap(TallyVoucherRecord.init(exported:)).first,
            let number = voucher.entries.first(where: \.isParty)?.bills.first?.name ?? voucher.number
        else {
            throw ConnectorError.validation(
                code: "tally_document_missing",
                message: "the voucher \(guid) is no longer in Tally's company \(settings.company)")
        }
        await directory.remember(bill: number, guid: guid, isNew: false)
        return number
    }

    /// The date of the voucher a record was written as.
    private func date(of record: CanonicalRecord) async throws -> String {
        switch record {
        case .invoice(let invoice): TallyDate.text(invoice.issueDate)
        case .creditNote(let note): TallyDate.text(note.issueDate)
        case .payment(let payment): settings.date(of: payment.receivedAt)
        case .refund(let refund): settings.date(of: refund.refundedAt)
        case .customer: ""
        }
    }

    private func number(of record: CanonicalRecord) -> String? {
        switch record {
        case .invoice(let invoice): invoice.number
        case .creditNote(let note): note.number
        default: nil
        }
    }

    /// Reads the ledgers changed since the last read (all of them the first time).
    func refreshLedgers() async throws(ConnectorError) {
        let since = await directory.ledgerAlterID
        let elements = try await client.collection(
            TallyEnvelope.collection(of: "Ledger", company: settings.company, filters: ["$AlterID > \(since)"]))
        let ledgers = elements.compactMap(TallyDirectory.Ledger.init(exported:))
        let highest = elements.compactMap { $0.value("ALTERID").flatMap { Int($0) } }.max() ?? since
        await directory.remember(ledgers, alterID: highest)
    }
}

import Accounting

/// Tally's ledgers and vouchers as canonical records (`RemoteRecord`), for the change feed and `pull`. References
/// hold Tally's GUIDs: a party ledger's for `customer_id`, the Sales voucher of a bill for `allocations[].invoice_id`.
enum TallyReading {
    static func customer(_ ledger: TallyDirectory.Ledger, at now: Timestamp) -> RemoteRecord {
        var data: [String: JSONValue] = ["id": .string(ledger.guid), "name": .string(ledger.name)]
        if let email = ledger.element.value("EMAIL"), !email.isEmpty { data["email"] = .string(email) }
        if let gstin = ledger.gstin { data["tax_id"] = .string(gstin) }
        return RemoteRecord(
            recordType: .customer, remoteID: ledger.guid,
            remoteVersion: TallyMapping.fingerprint(name: ledger.name, state: ledger.state, gstin: ledger.gstin),
            updatedAt: now, deleted: false, data: .object(data))
    }

    /// The record a voucher is, or `nil` for a voucher of a type Ledgerwire does not keep (a journal, a purchase).
    static func record(_ voucher: TallyVoucherRecord, session: TallySession, at now: Timestamp) async throws
        -> RemoteRecord?
    {
        let recordType: RecordType
        switch voucher.type {
        case "Sales": recordType = .invoice
        case "Credit Note": recordType = .creditNote
        case "Receipt": recordType = .payment
        case "Payment": recordType = .refund
        default: return nil
        }
        let partyEntry =
            voucher.entries.first(where: \.isParty)
            ?? voucher.entries.first { entry in voucher.party.map { $0 == entry.ledger } ?? false }
        var data: [String: JSONValue] = ["id": .string(voucher.guid), "currency": "INR"]
        if let partyName = voucher.party ?? partyEntry?.ledger,
            let party = try await ledger(named: partyName, session: session)
        {
            data["customer_id"] = .string(party.guid)
        }
        let day = TallyDate.iso(voucher.date).map(JSONValue.string)
        let amount = partyEntry.map { Money(minorUnits: abs($0.amount.minorUnits), currency: .inr).decimalString }
        if voucher.isCancelled { data["voided"] = true }
        switch recordType {
        case .invoice, .creditNote:
            data["number"] = voucher.number.map(JSONValue.string)
            data["issue_date"] = day
            data["total"] = amount.map(JSONValue.string)
            if recordType == .creditNote,
                let bill = partyEntry?.bills.first(where: { $0.type == "Agst Ref" }),
                let invoice = try await document(bill: bill.name, session: session)
            {
                data["invoice_id"] = .string(invoice)
            }
        case .payment, .refund:
            data["amount"] = amount.map(JSONValue.string)
            data["received_at"] = day
            data["reference"] = voucher.reference.map(JSONValue.string)
            if let bank = voucher.entries.first(where: { !$0.isParty && $0.ledger != partyEntry?.ledger }) {
                data["deposit_account_id"] = .string(bank.ledger)
            }
            var allocations: [JSONValue] = []
            for bill in partyEntry?.bills ?? [] where bill.type == "Agst Ref" {
                guard let document = try await document(bill: bill.name, session: session) else { continue }
                let key = recordType == .payment ? "invoice_id" : "credit_note_id"
                allocations.append(
                    [
                        key: .string(document),
                        "amount": .string(Money(minorUnits: abs(bill.amount.minorUnits), currency: .inr).decimalString),
                    ])
            }
            if recordType == .payment {
                data["allocations"] = .array(allocations)
            } else if let first = allocations.first {
                data["credit_note_id"] = first["credit_note_id"]
            }
        case .customer:
            break
        }
        return RemoteRecord(
            recordType: recordType, remoteID: voucher.guid, remoteVersion: voucher.fingerprint, updatedAt: now,
            deleted: false, data: .object(data.filter { $0.value != .null }))
    }

    /// The ledger named `name`, read again from Tally when not known.
    private static func ledger(named name: String, session: TallySession) async throws -> TallyDirectory.Ledger? {
        if let ledger = await session.directory.ledger(named: name) { return ledger }
        try await session.refreshLedgers()
        return await session.directory.ledger(named: name)
    }

    /// The GUID of the document voucher (Sales or Credit Note) whose bill is `bill`: remembered, or read from Tally.
    static func document(bill: String, session: TallySession) async throws -> String? {
        if let guid = await session.directory.document(bill: bill) { return guid }
        let filter =
            "$VoucherNumber = \(TallyEnvelope.quoted(bill)) AND $VoucherTypeName = \"Sales\" OR "
            + "$VoucherNumber = \(TallyEnvelope.quoted(bill)) AND $VoucherTypeName = \"Credit Note\""
        let vouchers = try await session.client.collection(
            TallyEnvelope.collection(of: "Voucher", company: session.settings.company, filters: [filter]))
        guard let voucher = vouchers.compactMap(TallyVoucherRecord.init(exported:)).first(where: { !$0.isCancelled })
        else {
            return nil
        }
        await session.directory.remember(bill: bill, guid: voucher.guid, isNew: true)
        return voucher.guid
    }
}

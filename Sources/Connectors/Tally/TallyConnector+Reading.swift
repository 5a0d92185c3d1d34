public import Accounting
import Foundation

extension TallyConnector {
    /// Connected once Tally answers and lists the company among those loaded.
    public func checkConnection(context: ConnectorContext) async throws(ConnectorError) -> ConnectionCheck {
        let session = try session(context)
        let companies: [TallyElement]
        do {
            companies = try await session.client.collection(TallyEnvelope.collection(of: "Company", company: nil))
        } catch .unreachable(_, let message) {
            return .disconnected(reason: message)
        }
        let names = companies.compactMap { $0[attribute: "NAME"] ?? $0.value("NAME") }
        guard names.contains(where: { $0.caseInsensitiveCompare(session.settings.company) == .orderedSame }) else {
            let loaded = names.isEmpty ? "no company is loaded" : "loaded: \(names.joined(separator: ", "))"
            return .disconnected(
                reason: "\(session.settings.whereabouts) does not have the company \(session.settings.company) "
                    + "loaded (\(loaded))")
        }
        return .connected
    }

    /// What changed in the company since `cursor` (`tally1:<ALTERID>`): vouchers and party ledgers, a page of ALTERIDs
    /// at a time. The first read starts at the company's present ALTERID: the books' history is not news.
    public func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        let session = try session(context)
        let company = try await companyCounters(session)
        let highest = max(company.masters, company.vouchers)
        guard let cursor, cursor.hasPrefix("tally1:"), let since = Int(cursor.dropFirst(7)) else {
            return ChangePage(changes: [], nextCursor: "tally1:\(highest)", hasMore: false)
        }
        // Tally numbers its alterations anew when a company is rebuilt: a cursor past them reads from the start.
        let from = since > highest ? 0 : since
        guard highest > from else { return ChangePage(changes: [], nextCursor: "tally1:\(from)", hasMore: false) }
        let upTo = min(highest, from + Self.changePage)
        let window = ["$AlterID > \(from)", "$AlterID <= \(upTo)"]
        var changes: [RemoteRecord] = []
        let now = context.now()
        if company.masters > from {
            try await session.refreshLedgers()
            let ledgers = try await session.client.collection(
                TallyEnvelope.collection(of: "Ledger", company: session.settings.company, filters: window))
            for element in ledgers {
                guard let ledger = TallyDirectory.Ledger(exported: element),
                    ledger.parent.caseInsensitiveCompare("Sundry Debtors") == .orderedSame
                else { continue }
                changes.append(TallyReading.customer(ledger, at: now))
            }
        }
        if company.vouchers > from {
            let elements = try await session.client.collection(
                TallyEnvelope.collection(of: "Voucher", company: session.settings.company, filters: window))
            for voucher in elements.compactMap(TallyVoucherRecord.init(exported:)) {
                if let record = try await TallyReading.record(voucher, session: session, at: now) {
                    changes.append(record)
                }
            }
        }
        return ChangePage(changes: changes, nextCursor: "tally1:\(upTo)", hasMore: upTo < highest)
    }

    /// ALTERIDs read per page of changes.
    static let changePage = 1_000

    /// The company's last master and voucher ALTERIDs.
    func companyCounters(_ session: TallySession) async throws(ConnectorError) -> (masters: Int, vouchers: Int) {
        let companies = try await session.client.collection(TallyEnvelope.collection(of: "Company", company: nil))
        guard
            let company = companies.first(where: {
                ($0[attribute: "NAME"] ?? $0.value("NAME") ?? "").caseInsensitiveCompare(session.settings.company)
                    == .orderedSame
            })
        else {
            throw ConnectorError.unreachable(
                code: "company_not_loaded",
                message: "\(session.settings.whereabouts) does not have the company \(session.settings.company) loaded")
        }
        return (
            company.value("ALTMSTID").flatMap { Int($0) } ?? 0, company.value("ALTVCHID").flatMap { Int($0) } ?? 0
        )
    }

    public func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord?
    {
        let session = try session(context)
        let filter = ["$GUID = \(TallyEnvelope.quoted(remoteID))"]
        if recordType == .customer {
            let ledgers = try await session.client.collection(
                TallyEnvelope.collection(of: "Ledger", company: session.settings.company, filters: filter))
            return ledgers.compactMap(TallyDirectory.Ledger.init(exported:)).first.map {
                TallyReading.customer($0, at: context.now())
            }
        }
        let vouchers = try await session.client.collection(
            TallyEnvelope.collection(of: "Voucher", company: session.settings.company, filters: filter))
        guard let voucher = vouchers.compactMap(TallyVoucherRecord.init(exported:)).first else { return nil }
        return try await TallyReading.record(voucher, session: session, at: context.now())
    }

    public func existing(recordType: RecordType, remoteIDs: [String], context: ConnectorContext) async throws
        -> Set<String>
    {
        guard !remoteIDs.isEmpty else { return [] }
        let session = try session(context)
        let filter = Set(remoteIDs).sorted().map { "$GUID = \(TallyEnvelope.quoted($0))" }.joined(separator: " OR ")
        let type = recordType == .customer ? "Ledger" : "Voucher"
        let elements = try await session.client.collection(
            TallyEnvelope.collection(of: type, company: session.settings.company, filters: [filter]))
        return Set(
            elements.compactMap { element in
                element.value("ISCANCELLED")?.lowercased() == "yes" ? nil : element.value("GUID")
            })
    }
}

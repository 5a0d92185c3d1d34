public import Accounting
import Foundation

/// Sage → Ledgerwire: one record, the change feed, the businesses a grant opens and the chart.
extension SageBusinessCloudConnector {
    public func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord?
    {
        guard SageBusinessCloudSession.isRecordID(remoteID) else { return nil }
        let session = try await SageBusinessCloudSession(context: context)
        let (plural, _) = SageBusinessCloudMapping.resource(recordType)
        return try await existing("\(plural)/\(remoteID)", session: session).flatMap {
            SageBusinessCloudMapping.remoteRecord(recordType, $0)
        }
    }

    /// Changes since the cursor, one page at a time: sales invoices, credit notes and contact payments changed
    /// (`updated_or_created_since`), then those deleted (`deleted_since`). Each list is read since the latest instant
    /// Sage showed in it before (Sage's own clock, so no drift between the two sides loses a change; the bound is
    /// inclusive, and the record at it comes again as an echo the engine recognises by its `updated_at`). From no
    /// cursor, everything.
    public func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        let session = try await SageBusinessCloudSession(context: context)
        var position = SageFeedPosition(cursor) ?? SageFeedPosition()
        let feed = SageFeedPosition.feeds[position.step]
        let (plural, _) = SageBusinessCloudMapping.resource(feed.recordType)
        var query: [(String, String)] = [
            ("attributes", "all"), ("items_per_page", "200"), ("page", String(position.page)),
        ]
        let since = position.since[position.step]
        if feed.deleted {
            query.append(("deleted_since", SageTime.parameter(since ?? 0)))
        } else if let since {
            query.append(("updated_or_created_since", SageTime.parameter(since)))
        }
        let answer = try await session.get(plural, query: query)
        let items = answer["$items"]?.arrayValue ?? []
        var records: [RemoteRecord] = []
        for item in items {
            let instant = SageTime.seconds((feed.deleted ? item["deleted_at"] : item["updated_at"])?.stringValue)
            if let instant { position.latest = max(position.latest ?? instant, instant) }
            if feed.deleted {
                // A deleted contact payment says no more than its id: it is read as a receipt.
                if let record = SageBusinessCloudMapping.deletedRecord(feed.recordType, item) { records.append(record) }
            } else if feed.recordType == .payment {
                guard let type = SageBusinessCloudMapping.paymentType(item) else { continue }
                if let record = SageBusinessCloudMapping.remoteRecord(type, item) { records.append(record) }
            } else if let record = SageBusinessCloudMapping.remoteRecord(feed.recordType, item) {
                records.append(record)
            }
        }
        if answer["$next"]?.stringValue != nil, position.page < SageBusinessCloudSession.maximumPages {
            position.page += 1
            return ChangePage(changes: records, nextCursor: position.cursor, hasMore: true)
        }
        if let latest = position.latest {
            position.since[position.step] = max(position.since[position.step] ?? latest, latest)
        }
        position.latest = nil
        position.page = 1
        position.step = (position.step + 1) % SageFeedPosition.feeds.count
        return ChangePage(changes: records, nextCursor: position.cursor, hasMore: position.step != 0)
    }

    /// Reads the business (`GET /businesses/{id}`) with the token: Sage answers 404 or 403 for a business the token's
    /// user does not have.
    public func confirmsAccess(to remoteTenantID: String, context: ConnectorContext) async throws(ConnectorError)
        -> Bool
    {
        guard SageBusinessCloudSession.isBusinessID(remoteTenantID) else { return false }
        var confirming = context
        confirming.credentials = FixedCredentials(
            accessToken: try await context.credentials.accessToken(), remoteTenantID: remoteTenantID)
        let session = try await SageBusinessCloudSession(context: confirming)
        do {
            return try await session.get("businesses/\(remoteTenantID)")["id"]?.stringValue == remoteTenantID
        } catch {
            switch error {
            case .authentication, .credentialsRefused, .validation("sage_404", _): return false
            default: throw error
            }
        }
    }

    /// The businesses the grant opens (`GET /businesses`, by the token alone: it takes no `X-Business`), the lead one
    /// first.
    public func companies(context: ConnectorContext) async throws(ConnectorError) -> [RemoteCompany]? {
        let token = try await context.credentials.accessToken()
        let url = Self.apiBaseURL(settings: context.settings).appendingPathComponent("businesses")
        let request = TransportRequest(
            method: "GET", url: url,
            headers: [(name: "Authorization", value: "Bearer \(token)"), (name: "Accept", value: "application/json")],
            body: nil, timeout: .seconds(60))
        let response: TransportResponse
        do {
            response = try await context.transport.send(request)
        } catch {
            throw .noAnswer(error, from: "Sage")
        }
        let answer = try SageBusinessCloudSession.answer(response)
        var companies: [RemoteCompany] = []
        for business in (answer["$items"]?.arrayValue ?? []).prefix(1000) {
            guard let id = business["id"]?.stringValue, SageBusinessCloudSession.isBusinessID(id) else { continue }
            let name = (business["name"] ?? business["displayed_as"])?.stringValue.map { String($0.prefix(255)) } ?? id
            if !companies.contains(where: { $0.id == id }) { companies.append(RemoteCompany(id: id, name: name)) }
        }
        return companies
    }

    /// The business's ledger accounts, tax rates, bank accounts and services, each with what it can be mapped as:
    /// a sales or other-income ledger account is a revenue account (`ledger_account_id` of a line), a bank account a
    /// deposit account (`bank_account_id` of a payment), a visible tax rate a tax rate, an active service an item.
    public func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        let session = try await SageBusinessCloudSession(context: context)
        let accounts = try await session.list("ledger_accounts")
        let taxRates = try await session.list("tax_rates")
        let banks = try await session.list("bank_accounts")
        let services = try await session.list("services")
        var entries: [RemoteChart.Entry] = accounts.compactMap { account in
            guard let id = account["id"]?.stringValue else { return nil }
            let type = account["ledger_account_type"]?["id"]?.stringValue
            let code = account["nominal_code"].flatMap(SageBusinessCloudMapping.decimal)?.stringValue
            let income = ["SALES", "OTHER_INCOME"].contains(type) || account["visible_in_sales"]?.boolValue == true
            return RemoteChart.Entry(
                id: id, name: (account["name"] ?? account["displayed_as"])?.stringValue ?? id, code: code,
                active: account["included_in_chart"]?.boolValue ?? true, type: type,
                classification: account["ledger_account_classification"]?["id"]?.stringValue,
                uses: income ? [.account] : [])
        }
        entries += banks.compactMap { bank in
            guard let id = bank["id"]?.stringValue else { return nil }
            return RemoteChart.Entry(
                id: id, name: bank["displayed_as"]?.stringValue ?? id,
                code: bank["nominal_code"].flatMap(SageBusinessCloudMapping.decimal)?.stringValue, active: true,
                type: "BANK_ACCOUNT", subType: bank["bank_account_type"]?["id"]?.stringValue, uses: [.depositAccount])
        }
        return RemoteChart(
            accounts: entries,
            taxCodes: taxRates.compactMap { rate in
                guard let id = rate["id"]?.stringValue else { return nil }
                return RemoteChart.Entry(
                    id: id, name: (rate["displayed_as"] ?? rate["name"])?.stringValue ?? id, code: id,
                    active: rate["is_visible"]?.boolValue ?? true, uses: [.taxCode])
            },
            items: services.compactMap { service in
                guard let id = service["id"]?.stringValue else { return nil }
                return RemoteChart.Entry(
                    id: id, name: (service["description"] ?? service["displayed_as"])?.stringValue ?? id,
                    code: service["item_code"]?.stringValue, active: service["active"]?.boolValue ?? true,
                    type: "SERVICE", uses: [.item])
            },
            books: "Sage business")
    }
}

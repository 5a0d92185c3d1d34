public import Accounting
public import Foundation
import Logging

/// QuickBooks Online (Accounting API v3).
///
/// Writes: customers are found by `DisplayName` or email (`find`), and adopted by the engine unless linked to
/// another billing customer, in which case the new customer's `DisplayName` is billing's name followed by billing's
/// id; invoices and credit memos carry billing's number as `DocNumber`. Creates carry a `requestid` derived from the
/// job's idempotency key; a create whose outcome is unknown (a later attempt) is found first — by `DocNumber`,
/// `DisplayName`, or Ledgerwire's marker in `PrivateNote` — so nothing is written twice. Updates
/// carry the `SyncToken` last known; a stale one (Fault 5010) is re-read and the update made once more. Bulk work
/// goes through `batch`, 30 operations a call.
///
/// Reads: one entity (`pull`), the change feed (CDC from a cursor, 30 days back at most; from no cursor, a listing
/// of every entity), the chart of accounts, tax codes and items.
public struct QuickBooksOnlineConnector: Connector {
    public static let minorVersion = 75
    public static let scope = "com.intuit.quickbooks.accounting"
    public static let productionAPI = URL(string: "https://quickbooks.api.intuit.com")!
    public static let sandboxAPI = URL(string: "https://sandbox-quickbooks.api.intuit.com")!
    /// How far back CDC reaches.
    public static let changeWindow: Duration = .seconds(30 * 86_400)
    /// The entities Ledgerwire syncs, as CDC and webhooks name them.
    static let syncedEntities = ["Customer", "Invoice", "Payment", "CreditMemo", "RefundReceipt"]

    public let platform: Platform = .quickBooksOnline
    /// QuickBooks' limits per realm: 500 requests a minute, 10 at once, 40 batches a minute. The windows are kept a
    /// second longer than QuickBooks' so that requests arriving late cannot crowd into one of its minutes.
    public static let limits = RateLimitPolicy(
        windows: [.init(limit: 500, period: .seconds(61)), .init(name: "batch", limit: 40, period: .seconds(61))],
        maxConcurrent: 10)
    public let capabilities: ConnectorCapabilities
    /// Whether a create whose outcome is unknown is looked for in the books (by `DocNumber` or Ledgerwire's marker)
    /// before it is sent again. Always on in service; tests turn it off to show that `requestid` alone keeps a
    /// resent create from being made twice. Customers are found by name either way.
    let findsUncertainWrites: Bool

    /// - Parameters:
    ///   - limits: QuickBooks' own unless testing against an emulator given other limits.
    ///   - findsUncertainWrites: `false` only in tests that prove `requestid` on its own.
    public init(limits: RateLimitPolicy = Self.limits, findsUncertainWrites: Bool = true) {
        self.findsUncertainWrites = findsUncertainWrites
        capabilities = ConnectorCapabilities(
            webhooks: true, maximumBatchSize: 30, changeFeed: true, rateLimit: limits,
            mappingKinds: Self.mappingKinds, adoptsExisting: [.customer, .invoice, .creditNote],
            recordTypes: [.customer, .invoice, .payment, .creditNote, .refund])
    }

    /// `api_base_url` from the settings, else the documented host of the `environment` (production by default).
    public static func apiBaseURL(settings: JSONValue) -> URL {
        if let url = settings["api_base_url"]?.stringValue.flatMap(URL.init(string:)) { return url }
        return settings["environment"]?.stringValue == "sandbox" ? sandboxAPI : productionAPI
    }

    public func authentication(settings: JSONValue) -> AuthenticationScheme {
        .oauth2(
            OAuthEndpoints(
                authorizeURL: URL(string: "https://appcenter.intuit.com/connect/oauth2")!,
                tokenURL: URL(string: "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer")!,
                revokeURL: URL(string: "https://developer.api.intuit.com/v2/oauth2/tokens/revoke")!,
                // Intuit documents no PKCE for its confidential (server) clients; the client secret authenticates us.
                scopes: [Self.scope], usesPKCE: false, revocationBody: .json
            ).overridden(by: settings))
    }

    // MARK: Writes

    public func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult {
        let session = try await QuickBooksOnlineSession(context: context)
        return try await push(request, session: session)
    }

    private func push(_ request: PushRequest, session: QuickBooksOnlineSession) async throws(ConnectorError)
        -> PushResult
    {
        switch request.action {
        case .void:
            return try await void(request, session: session)
        case .update where request.remoteID != nil:
            return try await update(request, session: session)
        case .create, .update:
            return try await create(request, body: Self.body(for: request), session: session)
        }
    }

    /// The entity billing's record becomes; a customer whose name a customer of another billing record holds is
    /// named apart (`distinctName`).
    static func body(for request: PushRequest) throws(ConnectorError) -> QuickBooksOnlineMapping.Object {
        var body = try QuickBooksOnlineMapping.body(for: request)
        if request.recordType == .customer, request.notAdoptable.contains(where: { $0.matchedBy == "DisplayName" }),
            let name = body["DisplayName"]?.stringValue
        {
            body["DisplayName"] = .string(distinctName(name, localID: request.localID))
        }
        return body
    }

    /// The `DisplayName` of a customer whose name is already another billing customer's in the books (QuickBooks
    /// takes a display name once across customers, vendors and employees): the name, then billing's id.
    static func distinctName(_ name: String, localID: String) -> String { "\(name) (\(localID))" }

    private func create(_ request: PushRequest, body: QuickBooksOnlineMapping.Object, session: QuickBooksOnlineSession)
        async throws(ConnectorError) -> PushResult
    {
        let entity = QuickBooksOnlineMapping.entity(request.recordType)
        do {
            let answer = try await session.post(
                entity.lowercased(), query: [("requestid", QuickBooksOnlineSession.requestID(request.idempotencyKey))],
                body: .object(body))
            return try written(answer[entity], for: request)
        } catch {
            throw Self.alreadyInBooks(error, request: request) ?? error
        }
    }

    /// A create refused because the name or number is taken (6240, 6140): made while this job looked, or this very
    /// create's write whose answer was lost. The next attempt finds it (`find`) and adopts it if it is no other billing
    /// record's.
    static func alreadyInBooks(_ error: ConnectorError, request: PushRequest) -> ConnectorError? {
        guard let code = QuickBooksOnlineSession.faultCode(error), code == "6240" || code == "6140" else { return nil }
        return .retryable(
            code: "already_in_books",
            message: "QuickBooks already has a \(QuickBooksOnlineMapping.entity(request.recordType)) with this "
                + (code == "6240" ? "name" : "number") + " (fault \(code)); the next attempt looks for it first",
            retryAfter: nil)
    }

    /// A sparse update with the `SyncToken` last known (read first when none is); a stale one is read again and the
    /// update made once more.
    private func update(_ request: PushRequest, session: QuickBooksOnlineSession) async throws(ConnectorError)
        -> PushResult
    {
        let entity = QuickBooksOnlineMapping.entity(request.recordType)
        guard let id = request.remoteID else { throw .validation(code: "no_remote_id", message: "nothing to update") }
        var body = try Self.body(for: request)
        body["Id"] = .string(id)
        body["sparse"] = true
        var token = request.remoteVersion
        var (named, reread) = (false, false)
        for _ in 0..<3 {
            if token == nil { token = try await current(entity, id: id, session: session)["SyncToken"]?.stringValue }
            body["SyncToken"] = token.map(JSONValue.string) ?? .null
            do {
                let answer = try await session.post(entity.lowercased(), body: .object(body))
                return try written(answer[entity], for: request)
            } catch {
                // A customer named apart keeps its distinct name when billing's name is another customer's.
                if request.recordType == .customer, !named, QuickBooksOnlineSession.faultCode(error) == "6240",
                    let name = body["DisplayName"]?.stringValue
                {
                    body["DisplayName"] = .string(Self.distinctName(name, localID: request.localID))
                    named = true
                    continue
                }
                guard QuickBooksOnlineSession.faultCode(error) == "5010", !reread else { throw error }
                reread = true
                session.context.logger.info(
                    "stale SyncToken; reading the current one",
                    metadata: ["integration.id": "\(request.integrationID)", "remote.id": "\(id)"])
                token = nil
            }
        }
        throw .retryable(code: "stale_object", message: "QuickBooks kept refusing the SyncToken", retryAfter: nil)
    }

    /// `?operation=void` with the current `SyncToken` (payments move an invoice's, so it is read first).
    private func void(_ request: PushRequest, session: QuickBooksOnlineSession) async throws(ConnectorError)
        -> PushResult
    {
        let entity = QuickBooksOnlineMapping.entity(request.recordType)
        guard request.recordType == .invoice || request.recordType == .payment else {
            throw .validation(code: "void_unsupported", message: "QuickBooks cannot void a \(entity)")
        }
        guard let id = request.remoteID else {
            throw .validation(code: "no_remote_id", message: "the \(request.recordType.rawValue) is not in QuickBooks")
        }
        for attempt in 0..<2 {
            let current = try await current(entity, id: id, session: session)
            if current["PrivateNote"]?.stringValue == "Voided" {
                return PushResult(remoteID: id, remoteVersion: current["SyncToken"]?.stringValue)
            }
            do {
                let answer = try await session.post(
                    entity.lowercased(), query: [("operation", "void")],
                    body: ["Id": .string(id), "SyncToken": current["SyncToken"] ?? .null])
                return PushResult(remoteID: id, remoteVersion: answer[entity]?["SyncToken"]?.stringValue)
            } catch {
                guard QuickBooksOnlineSession.faultCode(error) == "5010", attempt == 0 else { throw error }
            }
        }
        throw .retryable(code: "stale_object", message: "QuickBooks kept refusing the SyncToken", retryAfter: nil)
    }

    private func current(_ entity: String, id: String, session: QuickBooksOnlineSession) async throws(ConnectorError)
        -> JSONValue
    {
        let answer = try await session.get("\(entity.lowercased())/\(id)")
        guard let object = answer[entity] else {
            throw .validation(code: "not_found", message: "\(entity) \(id) is no longer in QuickBooks")
        }
        return object
    }

    /// For each create, what is already in the books that it could be: customers by `DisplayName` (billing's name, and
    /// the distinct name it would have been given) and, for a single customer not found by name, by email; invoices
    /// and credit memos by `DocNumber`, payments and refunds by Ledgerwire's marker (see `looksUp`). One query per
    /// entity for the names and numbers of the whole chunk.
    public func find(matching requests: [PushRequest], context: ConnectorContext) async throws -> [[RemoteMatch]] {
        let session = try await QuickBooksOnlineSession(context: context)
        var matches = [[RemoteMatch]](repeating: [], count: requests.count)
        var bodies: [Int: QuickBooksOnlineMapping.Object] = [:]
        for (index, request) in requests.enumerated()
        where Self.looksUp(request, among: requests.count) && (request.recordType == .customer || findsUncertainWrites)
        {
            // A body that cannot be made (a mapping missing) finds nothing: the push says what is wrong.
            bodies[index] = try? QuickBooksOnlineMapping.body(for: request)
        }
        func match(_ object: JSONValue, by field: String, _ request: PushRequest) -> RemoteMatch? {
            guard let id = object["Id"]?.stringValue else { return nil }
            return RemoteMatch(
                remoteID: id, matchedBy: field,
                adoption: Result { () throws(ConnectorError) in try written(object, for: request) })
        }
        let literal = QuickBooksOnlineSession.literal
        for (type, field) in [
            (RecordType.customer, "DisplayName"), (.invoice, "DocNumber"), (.creditNote, "DocNumber"),
        ] {
            let indices = bodies.keys.sorted().filter { requests[$0].recordType == type }
            var wanted: [Int: [String]] = [:]
            for index in indices {
                guard let value = bodies[index]?[field]?.stringValue else { continue }
                wanted[index] =
                    type == .customer
                    ? [value, Self.distinctName(value, localID: requests[index].localID)] : [value]
            }
            let values = Set(wanted.values.joined())
            guard !values.isEmpty else { continue }
            let list = values.sorted().map(literal).joined(separator: ", ")
            // Customers made inactive too: QuickBooks leaves them out of a query that does not name `Active`, yet
            // counts their names as taken (6240), and one made inactive in the books is still Ledgerwire's customer.
            let found = try await session.query(
                QuickBooksOnlineMapping.entity(type),
                where: "\(field) IN (\(list))" + (type == .customer ? " AND \(Self.activeOrNot)" : ""))
            var byValue: [String: [JSONValue]] = [:]
            for object in found {
                if let value = object[field]?.stringValue { byValue[value.lowercased(), default: []].append(object) }
            }
            for (index, values) in wanted {
                matches[index] = values.flatMap { byValue[$0.lowercased()] ?? [] }.compactMap {
                    match($0, by: field, requests[index])
                }
            }
        }
        for (index, request) in requests.enumerated() {
            guard let body = bodies[index] else { continue }
            switch request.recordType {
            case .customer where requests.count == 1 && matches[index].isEmpty:
                guard let email = body["PrimaryEmailAddr"]?["Address"]?.stringValue else { continue }
                matches[index] = try await session.query(
                    "Customer", where: "PrimaryEmailAddr = \(literal(email)) AND \(Self.activeOrNot)"
                ).compactMap { match($0, by: "PrimaryEmailAddr", request) }
            case .payment, .refund:
                guard let customer = body["CustomerRef"]?["value"]?.stringValue else { continue }
                var condition = "CustomerRef = \(literal(customer))"
                if let date = body["TxnDate"]?.stringValue { condition += " AND TxnDate = \(literal(date))" }
                let marker = QuickBooksOnlineMapping.marker(request)
                matches[index] = try await session.query(
                    QuickBooksOnlineMapping.entity(request.recordType), where: condition
                )
                .filter { $0["PrivateNote"]?.stringValue == marker }
                .compactMap { match($0, by: "PrivateNote", request) }
            default:
                continue
            }
        }
        return matches
    }

    /// Whether `find` looks for a create in the books: a customer always (one kept by hand is adopted); a document
    /// in a batch (a history the school typed in by hand is adopted, for one query per batch) or on a later attempt
    /// (its earlier write's outcome unknown); a lone document on its first attempt is billing's new one, not looked for
    /// (a query for each would double the calls of a steady stream). Documents only when `findsUncertainWrites`.
    static func looksUp(_ request: PushRequest, among count: Int) -> Bool {
        switch request.recordType {
        case .customer: true
        case .invoice, .creditNote: request.attempt > 1 || count > 1
        case .payment, .refund: request.attempt > 1
        }
    }

    /// The result of a write, once QuickBooks' amounts are checked against billing's: an invoice or credit memo
    /// whose total differs by a cent fails the job loudly (a tax code mapped to the wrong rate, usually).
    private func written(_ object: JSONValue?, for request: PushRequest) throws(ConnectorError) -> PushResult {
        guard let object, let id = object["Id"]?.stringValue else {
            throw .retryable(code: "unexpected_answer", message: "QuickBooks' answer has no entity", retryAfter: nil)
        }
        let billing: String?
        switch request.record {
        case .invoice(let invoice): billing = invoice.total.decimalString
        case .creditNote(let note): billing = note.total.decimalString
        case .payment(let payment): billing = payment.amount.decimalString
        case .refund(let refund): billing = refund.amount.decimalString
        case .customer: billing = nil
        }
        if let billing, request.action != .void {
            let theirs = QuickBooksOnlineMapping.canonical(request.recordType, object)
            let total = theirs["total"] ?? theirs["amount"]
            guard PlatformNumbers.sameAmount(billing, total) else {
                throw .validation(
                    code: "total_mismatch",
                    message: "QuickBooks has \(total?.stringValue ?? "nothing") for \(request.recordType.rawValue) "
                        + "\(request.localID) (\(QuickBooksOnlineMapping.entity(request.recordType)) \(id)) but billing's "
                        + "total is \(billing): check the tax code and account mappings")
            }
        }
        return PushResult(remoteID: id, remoteVersion: object["SyncToken"]?.stringValue)
    }

    // MARK: Batches

    public func push(batch requests: [PushRequest], context: ConnectorContext) async throws -> [Result<
        PushResult, ConnectorError
    >] {
        let session = try await QuickBooksOnlineSession(context: context)
        var results = [Result<PushResult, ConnectorError>?](repeating: nil, count: requests.count)
        var bodies: [Int: QuickBooksOnlineMapping.Object] = [:]
        var singles: [Int] = []
        for (index, request) in requests.enumerated() {
            let batchable =
                request.action == .create
                && [.customer, .invoice, .creditNote].contains(request.recordType)
                || request.action == .update && request.remoteID != nil && request.remoteVersion != nil
            guard batchable else {
                singles.append(index)
                continue
            }
            do {
                var body = try Self.body(for: request)
                if request.action == .update {
                    body["Id"] = .string(request.remoteID!)
                    body["SyncToken"] = .string(request.remoteVersion!)
                    body["sparse"] = true
                }
                bodies[index] = body
            } catch {
                results[index] = .failure(error)
            }
        }
        let batched = bodies.keys.sorted()
        if !batched.isEmpty {
            var items: [JSONValue] = []
            for index in batched {
                let entity = QuickBooksOnlineMapping.entity(requests[index].recordType)
                items.append([
                    "bId": .string(String(index)), "operation": .string(requests[index].action.rawValue),
                    entity: .object(bodies[index]!),
                ])
            }
            let key = batched.map { requests[$0].idempotencyKey }.joined(separator: "|")
            let answer = try await session.post(
                "batch", query: [("requestid", QuickBooksOnlineSession.requestID(key))],
                body: ["BatchItemRequest": .array(items)], windows: ["batch"])
            var answers: [String: JSONValue] = [:]
            for item in answer["BatchItemResponse"]?.arrayValue ?? [] {
                if let id = item["bId"]?.stringValue { answers[id] = item }
            }
            for index in batched {
                let request = requests[index]
                let entity = QuickBooksOnlineMapping.entity(request.recordType)
                guard let item = answers[String(index)] else {
                    singles.append(index)
                    continue
                }
                if let fault = QuickBooksOnlineSession.Fault(item["Fault"]) {
                    // A stale SyncToken is re-read, a renamed customer's name taken is named apart: both as a single
                    // push. A create's name or number taken is found on the next attempt.
                    if fault.code == "5010" || fault.code == "6240" && request.action == .update {
                        singles.append(index)
                    } else {
                        results[index] = .failure(
                            Self.alreadyInBooks(fault.connectorError, request: request) ?? fault.connectorError)
                    }
                    continue
                }
                results[index] = Result { () throws(ConnectorError) in try written(item[entity], for: request) }
            }
        }
        for index in singles.sorted() {
            do {
                results[index] = .success(try await push(requests[index], session: session))
            } catch {
                if case .authentication = error { throw error }
                results[index] = .failure(error)
            }
        }
        return results.map { $0 ?? .failure(.retryable(code: "unanswered", message: "no answer", retryAfter: nil)) }
    }

    // MARK: Reads

    public func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord?
    {
        let session = try await QuickBooksOnlineSession(context: context)
        let entity = QuickBooksOnlineMapping.entity(recordType)
        do {
            let answer = try await session.get("\(entity.lowercased())/\(remoteID)")
            return answer[entity].flatMap { QuickBooksOnlineMapping.remoteRecord(recordType, $0) }
        } catch {
            if QuickBooksOnlineSession.faultCode(error) == "610" { return nil }
            throw error
        }
    }

    /// The condition that makes a query of a name list (customers) find inactive entries too.
    static let activeOrNot = "Active IN (true, false)"

    /// Records a person looks for, by QuickBooks' id (digits), and by what the entity is known by: a customer's
    /// `DisplayName` containing the text (any case, inactive ones too), a transaction's `DocNumber`. One query each
    /// (QuickBooks has no `OR`); a `%` typed is not a wildcard.
    public func search(recordType: RecordType, for text: String, limit: Int, context: ConnectorContext) async throws
        -> [RemoteRecord]
    {
        let term = text.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "%", with: "")
        guard limit > 0, !term.isEmpty, term.count <= 100 else { return [] }
        let session = try await QuickBooksOnlineSession(context: context)
        let entity = QuickBooksOnlineMapping.entity(recordType)
        let literal = QuickBooksOnlineSession.literal
        var conditions: [String] = []
        if term.count <= 20, term.allSatisfy({ $0.isASCII && $0.isNumber }) {
            conditions.append("Id = \(literal(term))")
        }
        conditions.append(
            recordType == .customer ? "DisplayName LIKE \(literal("%\(term)%"))" : "DocNumber = \(literal(term))")
        var found: [RemoteRecord] = []
        for condition in conditions where found.count < limit {
            let objects = try await session.query(
                entity, where: condition + (recordType == .customer ? " AND \(Self.activeOrNot)" : ""),
                maximum: limit)
            for record in objects.compactMap({ QuickBooksOnlineMapping.remoteRecord(recordType, $0) })
            where !record.deleted && !found.contains(where: { $0.remoteID == record.remoteID }) {
                found.append(record)
            }
        }
        return Array(found.prefix(limit))
    }

    /// Ids looked up `SELECT * FROM <Entity> WHERE Id IN (…)`, 200 at a time: the query goes in the URL, and 200 ids
    /// keep it well under the 8 KB that HTTP servers commonly accept (one page: QuickBooks answers up to 1000).
    public static let existenceQuerySize = 200

    /// The records of `remoteIDs` QuickBooks still holds (a deleted one is not found; a voided one is).
    public func existing(recordType: RecordType, remoteIDs: [String], context: ConnectorContext) async throws
        -> Set<String>
    {
        let session = try await QuickBooksOnlineSession(context: context)
        let entity = QuickBooksOnlineMapping.entity(recordType)
        // QuickBooks' ids are digits: anything else cannot be in the books, and is not put in a query.
        let ids = Set(remoteIDs).filter { !$0.isEmpty && $0.count <= 20 && $0.allSatisfy { $0.isASCII && $0.isNumber } }
        var found: Set<String> = []
        let sorted = ids.sorted()
        for start in stride(from: 0, to: sorted.count, by: Self.existenceQuerySize) {
            let chunk = sorted[start..<min(start + Self.existenceQuerySize, sorted.count)]
            let list = chunk.map(QuickBooksOnlineSession.literal).joined(separator: ", ")
            // A customer made inactive is still in the books: asked for with inactive ones.
            let condition = "Id IN (\(list))" + (recordType == .customer ? " AND \(Self.activeOrNot)" : "")
            for object in try await session.query(entity, where: condition) {
                if let id = object["Id"]?.stringValue, ids.contains(id) { found.insert(id) }
            }
        }
        return found
    }

    /// CDC from the cursor (an instant); from no cursor, every entity listed page by page, and then CDC from the
    /// instant the listing began. A cursor older than CDC's 30 days is `cursorExpired`.
    public func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        let session = try await QuickBooksOnlineSession(context: context)
        let position = FeedPosition(cursor) ?? .listing(entity: 0, start: 1, since: context.now())
        switch position {
        case .listing(let entityIndex, let start, let since):
            let entity = Self.syncedEntities[entityIndex]
            let pageSize = 1000
            let answer = try await session.get(
                "query", query: [("query", "SELECT * FROM \(entity) STARTPOSITION \(start) MAXRESULTS \(pageSize)")])
            let objects = answer["QueryResponse"]?[entity]?.arrayValue ?? []
            let type = QuickBooksOnlineMapping.recordType(entity: entity)!
            let records = objects.compactMap { QuickBooksOnlineMapping.remoteRecord(type, $0) }
            let next: FeedPosition =
                objects.count == pageSize
                ? .listing(entity: entityIndex, start: start + pageSize, since: since)
                : entityIndex + 1 < Self.syncedEntities.count
                    ? .listing(entity: entityIndex + 1, start: 1, since: since) : .changedSince(since)
            let more = if case .listing = next { true } else { false }
            return ChangePage(changes: records, nextCursor: next.cursor, hasMore: more)
        case .changedSince(let since):
            guard since >= context.now().adding(.zero - Self.changeWindow) else {
                throw ConnectorError.cursorExpired(
                    message: "QuickBooks' CDC reaches back 30 days; the cursor is from \(since.rfc3339)")
            }
            let answer = try await session.get(
                "cdc",
                query: [
                    ("entities", Self.syncedEntities.joined(separator: ",")),
                    ("changedSince", QuickBooksTime.format(since)),
                ])
            var records: [RemoteRecord] = []
            var latest = since
            var count = 0
            for response in answer["CDCResponse"]?.arrayValue ?? [] {
                for group in response["QueryResponse"]?.arrayValue ?? [] {
                    for entity in Self.syncedEntities {
                        guard let objects = group[entity]?.arrayValue,
                            let type = QuickBooksOnlineMapping.recordType(entity: entity)
                        else { continue }
                        for object in objects {
                            count += 1
                            guard let record = QuickBooksOnlineMapping.remoteRecord(type, object) else { continue }
                            records.append(record)
                            latest = max(latest, record.updatedAt)
                        }
                    }
                }
            }
            // CDC answers at most 1000 objects: when it is full, go on from the newest one seen (its versions are
            // stored once, so reading it again is harmless); else from the instant QuickBooks answered.
            if count >= 1000 {
                return ChangePage(changes: records, nextCursor: FeedPosition.changedSince(latest).cursor, hasMore: true)
            }
            let answered = answer["time"]?.stringValue.flatMap(QuickBooksTime.parse) ?? latest
            // A second's overlap: QuickBooks' instants are whole seconds.
            let next = max(since, answered.adding(.seconds(-1)))
            return ChangePage(changes: records, nextCursor: FeedPosition.changedSince(next).cursor, hasMore: false)
        }
    }

    /// Reads the company's `CompanyInfo` (`GET /v3/company/{realm}/companyinfo/{realm}`) with the token: QuickBooks
    /// answers 401 when the token was not granted for that realm.
    public func confirmsAccess(to remoteTenantID: String, context: ConnectorContext) async throws(ConnectorError)
        -> Bool
    {
        var confirming = context
        confirming.credentials = FixedCredentials(
            accessToken: try await context.credentials.accessToken(), remoteTenantID: remoteTenantID)
        let session = try await QuickBooksOnlineSession(context: confirming)
        do {
            let answer = try await session.get("companyinfo/\(remoteTenantID)")
            return answer["CompanyInfo"]?["Id"]?.stringValue == remoteTenantID
        } catch .authentication {
            return false
        }
    }

    /// Every sales line names an item (`ItemRef`) besides its income account and tax code; a refund receipt's line
    /// names the default item.
    static let mappingKinds = CodeMappings.commonKinds.union([.item])

    /// The company's accounts, tax codes and items, each with what it can be mapped as: an `Income` or
    /// `Other Income` account is a revenue account (`ItemAccountRef`); a `Bank` or `Other Current Asset` account
    /// (Undeposited Funds) a deposit account (`DepositToAccountRef`); a `Service` or `NonInventory` item an item.
    public func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        let session = try await QuickBooksOnlineSession(context: context)
        func entries(_ entity: String, code: String?, uses: (JSONValue) -> Set<CodeMappings.Kind>)
            async throws(ConnectorError) -> [RemoteChart.Entry]
        {
            try await session.query(entity).compactMap { object in
                guard let id = object["Id"]?.stringValue else { return nil }
                return RemoteChart.Entry(
                    id: id, name: object["Name"]?.stringValue ?? "", code: code.flatMap { object[$0]?.stringValue },
                    active: object["Active"]?.boolValue ?? true,
                    type: (object["AccountType"] ?? object["Type"])?.stringValue,
                    classification: object["Classification"]?.stringValue,
                    subType: object["AccountSubType"]?.stringValue,
                    incomeAccountID: object["IncomeAccountRef"]?["value"]?.stringValue, uses: uses(object))
            }
        }
        return RemoteChart(
            accounts: try await entries("Account", code: "AcctNum") { account in
                switch account["AccountType"]?.stringValue {
                case "Income", "Other Income": [.account]
                case "Bank", "Other Current Asset": [.depositAccount]
                default: []
                }
            },
            taxCodes: try await entries("TaxCode", code: nil) { _ in [.taxCode] },
            items: try await entries("Item", code: "Sku") { item in
                ["Service", "NonInventory"].contains(item["Type"]?.stringValue) ? [.item] : []
            },
            books: "QuickBooks company")
    }
}

/// Where the change feed is: listing entity `entity` from `start` (a first read), or CDC from an instant.
enum FeedPosition: Equatable {
    case listing(entity: Int, start: Int, since: Timestamp)
    case changedSince(Timestamp)

    init?(_ cursor: String?) {
        guard let cursor else { return nil }
        let parts = cursor.split(separator: ":", maxSplits: 3).map(String.init)
        if parts.count == 4, parts[0] == "list", let entity = Int(parts[1]), let start = Int(parts[2]),
            let micros = Int64(parts[3]), QuickBooksOnlineConnector.syncedEntities.indices.contains(entity),
            (1...Int(Int32.max)).contains(start)
        {
            self = .listing(entity: entity, start: start, since: Timestamp(microsecondsSinceEpoch: micros))
        } else if parts.count == 2, parts[0] == "cdc", let micros = Int64(parts[1]) {
            self = .changedSince(Timestamp(microsecondsSinceEpoch: micros))
        } else {
            return nil
        }
    }

    var cursor: String {
        switch self {
        case .listing(let entity, let start, let since): "list:\(entity):\(start):\(since.microsecondsSinceEpoch)"
        case .changedSince(let since): "cdc:\(since.microsecondsSinceEpoch)"
        }
    }
}

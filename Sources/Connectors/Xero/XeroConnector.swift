public import Accounting
public import Foundation
import Logging

/// Xero (Accounting API 2.0).
///
/// Writes: contacts carry billing's id as `ContactNumber` and are found by it, by `Name` and by email (`find`): a
/// contact kept by hand with billing's name (and no other email) is adopted, one linked to another billing customer
/// never is, and a new contact whose name another holds is named apart with billing's id. Invoices and credit notes
/// are approved (`AUTHORISED`) with billing's number, amounts exclusive of tax and billing's tax on each line; a
/// total that differs from billing's by a cent fails the job. A credit note is allocated to its invoice; a payment
/// pays one invoice and a refund pays out a credit note, both into the mapped bank account. Every write carries an
/// `Idempotency-Key` from the job's; an outcome left unknown is looked up (`InvoiceNumbers`, `ContactNumber`, the
/// marker in a payment's `Reference`) before it is written again. Creates go 50 to a call with
/// `summarizeErrors=false`, each element's own result read.
///
/// Reads: one record (`pull`), the change feed (`If-Modified-Since` on contacts, invoices, credit notes and
/// payments; payments have no webhooks), and the chart: accounts, tax rates and items.
public struct XeroConnector: Connector {
    public static let defaultAPI = URL(string: "https://api.xero.com/api.xro/2.0")!
    public static let defaultConnections = URL(string: "https://api.xero.com/connections")!
    /// `offline_access` for refresh tokens, and the accounting scopes the connector's calls need.
    public static let scopes = [
        "offline_access", "accounting.transactions", "accounting.contacts", "accounting.settings",
    ]
    /// The record types the change feed reads, in order.
    static let feedTypes: [RecordType] = [.customer, .invoice, .creditNote, .payment]
    /// Payments' place in `feedTypes`: the last, so a round of payments alone is that type.
    static let paymentsFeedType = feedTypes.count - 1
    /// Elements per write: Xero's recommendation.
    public static let batchSize = 50

    public let platform: Platform = .xero
    /// Xero's limits per organisation and app: 60 calls a minute, 5 at once, 5,000 a day. The windows are kept a
    /// second longer than Xero's so that requests arriving late cannot crowd into one of its windows.
    public static let limits = RateLimitPolicy(
        windows: [
            .init(limit: 60, period: .seconds(61)),
            .init(
                name: "day", limit: 5000, period: .seconds(86_401), countsEveryRequest: true,
                reserved: dayReserves, remainingHeader: "X-DayLimit-Remaining"),
        ],
        maxConcurrent: 5)
    /// The app's 10,000 calls a minute across every organisation it is connected to (by `client_id`); what Xero
    /// says is left of them (`X-AppMinLimit-Remaining`) counts the app's calls from elsewhere too.
    public static let appLimits = RateLimitPolicy(
        windows: [.init(limit: 10_000, period: .seconds(61), remainingHeader: "X-AppMinLimit-Remaining")],
        maxConcurrent: 10_000, throttleProblems: ["appminute"])
    /// The day's 5,000 calls, planned: polling keeps 600 (payments every 5 minutes and the hourly safety net, with
    /// pages to spare), live work 1,400 more (billing's events, what webhooks announce, people's calls), and a full
    /// sync takes the other 3,000 (150,000 records in batches of 50) — a bigger one goes on the next day.
    public static let dayReserves: [RateLimitShare: Int] = [.polling: 600, .live: 1400]
    public let capabilities: ConnectorCapabilities

    /// - Parameters:
    ///   - limits: Xero's own per organisation unless testing against an emulator given other limits.
    ///   - appLimits: Xero's own across the app's organisations, likewise.
    public init(limits: RateLimitPolicy = Self.limits, appLimits: RateLimitPolicy = Self.appLimits) {
        capabilities = ConnectorCapabilities(
            webhooks: true, maximumBatchSize: Self.batchSize, changeFeed: true, rateLimit: limits,
            mappingKinds: CodeMappings.commonKinds, adoptsExisting: [.customer, .invoice],
            recordTypes: [.customer, .invoice, .payment, .creditNote, .refund], paymentsInterval: .seconds(300),
            looksBeforeCreating: false, appRateLimit: appLimits)
    }

    /// `api_base_url` from the settings, else Xero's one host.
    public static func apiBaseURL(settings: JSONValue) -> URL {
        settings["api_base_url"]?.stringValue.flatMap(URL.init(string:)) ?? defaultAPI
    }

    /// `connections_url` from the settings, else Xero's.
    public static func connectionsURL(settings: JSONValue) -> URL {
        settings["connections_url"]?.stringValue.flatMap(URL.init(string:)) ?? defaultConnections
    }

    public func authentication(settings: JSONValue) -> AuthenticationScheme {
        .oauth2(
            OAuthEndpoints(
                authorizeURL: URL(string: "https://login.xero.com/identity/connect/authorize")!,
                tokenURL: URL(string: "https://identity.xero.com/connect/token")!,
                revokeURL: URL(string: "https://identity.xero.com/connect/revocation")!,
                scopes: Self.scopes, usesPKCE: false, revocationBody: .form
            ).overridden(by: settings))
    }

    // MARK: Writes

    public func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult {
        let session = try await XeroSession(context: context)
        return try await push(request, session: session)
    }

    private func push(_ request: PushRequest, session: XeroSession) async throws(ConnectorError) -> PushResult {
        switch request.action {
        case .void:
            return try await void(request, session: session)
        case .update where request.remoteID != nil:
            return try await update(request, session: session)
        case .create, .update:
            guard let result = try await create([request], session: session).first else {
                throw .retryable(code: "unanswered", message: "Xero's answer has no element", retryAfter: nil)
            }
            return try result.get()
        }
    }

    /// Creates records of one type, up to 50 to a call (`summarizeErrors=false`: each element's own result). A
    /// credit note is then allocated to its invoice. A contact whose name Xero finds taken is made once more under a
    /// distinct name; a document on a later attempt is first looked for by its number.
    private func create(_ requests: [PushRequest], session: XeroSession) async throws(ConnectorError) -> [Result<
        PushResult, ConnectorError
    >] {
        var results = [Result<PushResult, ConnectorError>?](repeating: nil, count: requests.count)
        var bodies: [(index: Int, body: XeroMapping.Object)] = []
        for (index, request) in requests.enumerated() {
            do {
                if request.recordType == .creditNote, request.attempt > 1,
                    let existing = try await creditNote(number: request, session: session)
                {
                    results[index] = .success(try await allocated(existing, for: request, session: session))
                    continue
                }
                bodies.append((index, try Self.body(for: request)))
            } catch {
                results[index] = .failure(error)
            }
        }
        for recordType in Set(bodies.map { requests[$0.index].recordType }).sorted(by: { $0.rawValue < $1.rawValue }) {
            let chunk = bodies.filter { requests[$0.index].recordType == recordType }
            for start in stride(from: 0, to: chunk.count, by: Self.batchSize) {
                let part = Array(chunk[start..<min(start + Self.batchSize, chunk.count)])
                let collection = XeroMapping.collection(recordType)
                let answer = try await session.write(
                    "PUT", collection, query: [("summarizeErrors", "false")],
                    body: [collection: .array(part.map { .object($0.body) })],
                    idempotencyKey: part.map { requests[$0.index].idempotencyKey }.joined(separator: "|"))
                let elements = answer[collection]?.arrayValue ?? []
                for (position, entry) in part.enumerated() {
                    let request = requests[entry.index]
                    guard position < elements.count else {
                        results[entry.index] = .failure(
                            .retryable(code: "unanswered", message: "Xero's answer lacks this element", retryAfter: nil)
                        )
                        continue
                    }
                    results[entry.index] = await outcome(
                        of: elements[position], body: entry.body, for: request, session: session)
                }
            }
        }
        return results.map { $0 ?? .failure(.retryable(code: "unanswered", message: "no answer", retryAfter: nil)) }
    }

    /// One element of a create's answer, as the push's result.
    private func outcome(
        of element: JSONValue, body: XeroMapping.Object, for request: PushRequest, session: XeroSession
    ) async -> Result<PushResult, ConnectorError> {
        do {
            if element["StatusAttributeString"]?.stringValue == "ERROR" || element["HasErrors"]?.boolValue == true {
                let messages = XeroSession.elementMessages(element)
                // Not looked for yet: the engine looks now, and adopts the record in the books or creates anew.
                if !request.lookedUp, request.action == .create,
                    request.recordType == .customer && messages.contains(where: Self.isNameTaken)
                        || request.recordType == .invoice && messages.contains(where: Self.isNumberTaken)
                {
                    throw ConnectorError.validation(
                        code: ConnectorError.duplicateCode,
                        message: "Xero refused \(request.recordType.rawValue) \(request.localID): "
                            + messages.joined(separator: "; "))
                }
                if request.recordType == .customer, messages.contains(where: Self.isNameTaken),
                    let name = body["Name"]?.stringValue, name != Self.distinctName(name, localID: request.localID)
                {
                    var renamed = body
                    renamed["Name"] = .string(Self.distinctName(name, localID: request.localID))
                    let collection = XeroMapping.collection(.customer)
                    let answer = try await session.write(
                        "PUT", collection, query: [("summarizeErrors", "false")],
                        body: [collection: [.object(renamed)]], idempotencyKey: request.idempotencyKey + ":named")
                    guard let again = answer[collection]?.arrayValue?.first else {
                        throw ConnectorError.retryable(
                            code: "unanswered", message: "Xero's answer has no contact", retryAfter: nil)
                    }
                    return await outcome(of: again, body: renamed, for: request, session: session)
                }
                throw ConnectorError.validation(
                    code: "xero_validation",
                    message: "Xero refused \(request.recordType.rawValue) \(request.localID): "
                        + (messages.isEmpty ? "no reason given" : messages.joined(separator: "; ")))
            }
            let written = try written(element, for: request)
            if request.recordType == .creditNote {
                return .success(try await allocated(element, for: request, session: session))
            }
            return .success(written)
        } catch let error as ConnectorError {
            return .failure(error)
        } catch {
            return .failure(.retryable(code: "unexpected", message: "\(error)", retryAfter: nil))
        }
    }

    /// Whether Xero's message says an invoice's number is another's ("Invoice # must be unique.").
    static func isNumberTaken(_ message: String) -> Bool {
        let lowered = message.lowercased()
        return lowered.contains("invoice #") && lowered.contains("unique")
    }

    /// Whether Xero's message says a contact's name is another's.
    static func isNameTaken(_ message: String) -> Bool {
        let lowered = message.lowercased()
        return lowered.contains("name") && (lowered.contains("already") || lowered.contains("unique"))
    }

    /// The `Name` of a contact whose name another contact holds (Xero takes a name once): the name, then billing's
    /// id.
    static func distinctName(_ name: String, localID: String) -> String { "\(name) (\(localID))" }

    /// The create's body; a customer whose name a contact of another billing record holds is named apart.
    static func body(for request: PushRequest) throws(ConnectorError) -> XeroMapping.Object {
        var body = try XeroMapping.body(for: request)
        if request.recordType == .customer, request.notAdoptable.contains(where: { $0.matchedBy == "Name" }),
            let name = body["Name"]?.stringValue
        {
            body["Name"] = .string(distinctName(name, localID: request.localID))
        }
        return body
    }

    /// A credit note with billing's number already in the books (an earlier attempt's write).
    private func creditNote(number request: PushRequest, session: XeroSession) async throws(ConnectorError)
        -> JSONValue?
    {
        guard case .creditNote(let note) = request.record else { return nil }
        let found = try await session.list(
            "CreditNotes",
            query: [("where", "CreditNoteNumber==\(XeroSession.literal(note.number)) AND Type==\"ACCRECCREDIT\"")])
        return found.first { $0["Status"]?.stringValue != "DELETED" && $0["Status"]?.stringValue != "VOIDED" }
    }

    /// A credit note allocated to the invoice it credits (as much of it as the invoice still owes), unless it is
    /// already: the result of its push.
    private func allocated(_ note: JSONValue, for request: PushRequest, session: XeroSession)
        async throws(ConnectorError) -> PushResult
    {
        let result = try written(note, for: request)
        guard case .creditNote(let canonical) = request.record, let invoiceID = canonical.invoiceID else {
            return result
        }
        let invoice = try XeroMapping.reference(request, .invoice, invoiceID.rawValue)
        let current = try await session.get("CreditNotes/\(result.remoteID)")["CreditNotes"]?.arrayValue?.first
        let allocations = current?["Allocations"]?.arrayValue ?? []
        if allocations.contains(where: { $0["Invoice"]?["InvoiceID"]?.stringValue == invoice }) { return result }
        let remaining =
            current?["RemainingCredit"].flatMap(XeroMapping.decimal)?.stringValue ?? canonical.total.decimalString
        let owed = try await session.get("Invoices/\(invoice)")["Invoices"]?.arrayValue?.first?["AmountDue"]
            .flatMap(XeroMapping.decimal)?.stringValue
        let amount = Self.smaller(remaining, owed ?? remaining)
        guard Self.isPositive(amount) else { return result }
        _ = try await session.write(
            "PUT", "CreditNotes/\(result.remoteID)/Allocations",
            body: [
                "Allocations": [
                    [
                        "Invoice": ["InvoiceID": .string(invoice)], "Amount": .number(amount),
                        "Date": .string(canonical.issueDate.description),
                    ]
                ]
            ], idempotencyKey: request.idempotencyKey + ":allocation")
        let after = try await session.get("CreditNotes/\(result.remoteID)")["CreditNotes"]?.arrayValue?.first
        return PushResult(
            remoteID: result.remoteID, remoteVersion: after?["UpdatedDateUTC"]?.stringValue ?? result.remoteVersion)
    }

    static func smaller(_ left: String, _ right: String) -> String {
        guard let a = Decimal(string: left), let b = Decimal(string: right) else { return left }
        return a <= b ? left : right
    }

    static func isPositive(_ amount: String) -> Bool { (Decimal(string: amount) ?? 0) > 0 }

    /// An update of the whole record (Xero has no optimistic locking: the last write wins). Xero cannot change a
    /// payment; billing's changed payment is voided and recorded there again by the void and the create that
    /// follow from billing.
    private func update(_ request: PushRequest, session: XeroSession) async throws(ConnectorError) -> PushResult {
        guard let id = request.remoteID else { throw .validation(code: "no_remote_id", message: "nothing to update") }
        guard ![.payment, .refund].contains(request.recordType) else {
            throw .validation(
                code: "payment_unchangeable",
                message:
                    "Xero cannot change a payment once made: void \(request.localID) in billing and record it again")
        }
        var body = try XeroMapping.body(for: request)
        body[XeroMapping.idField(request.recordType)] = .string(id)
        if request.recordType == .customer, let name = body["Name"]?.stringValue {
            // A contact named apart keeps its distinct name.
            let current = try await session.get("Contacts/\(id)")["Contacts"]?.arrayValue?.first
            if current?["Name"]?.stringValue == Self.distinctName(name, localID: request.localID) {
                body["Name"] = current?["Name"]
            }
        }
        let collection = XeroMapping.collection(request.recordType)
        let answer = try await session.write(
            "POST", "\(collection)/\(id)", body: [collection: [.object(body)]], idempotencyKey: request.idempotencyKey)
        return try written(answer[collection]?.arrayValue?.first, for: request)
    }

    /// A void: an approved document `VOIDED` (a draft `DELETED`), a payment `DELETED`, a contact `ARCHIVED`.
    private func void(_ request: PushRequest, session: XeroSession) async throws(ConnectorError) -> PushResult {
        guard let id = request.remoteID else {
            throw .validation(code: "no_remote_id", message: "the \(request.recordType.rawValue) is not in Xero")
        }
        let collection = XeroMapping.collection(request.recordType)
        let idField = XeroMapping.idField(request.recordType)
        let current = try await session.get("\(collection)/\(id)")[collection]?.arrayValue?.first
        let status = current?["Status"]?.stringValue ?? current?["ContactStatus"]?.stringValue
        if ["VOIDED", "DELETED", "ARCHIVED"].contains(status) {
            return PushResult(remoteID: id, remoteVersion: current?["UpdatedDateUTC"]?.stringValue)
        }
        let body: XeroMapping.Object
        switch request.recordType {
        case .customer: body = [idField: .string(id), "ContactStatus": "ARCHIVED"]
        case .payment, .refund: body = ["Status": "DELETED"]
        case .invoice, .creditNote:
            body = [idField: .string(id), "Status": ["DRAFT", "SUBMITTED"].contains(status) ? "DELETED" : "VOIDED"]
        }
        let answer = try await session.write(
            "POST", "\(collection)/\(id)", body: [collection: [.object(body)]], idempotencyKey: request.idempotencyKey)
        return PushResult(
            remoteID: id, remoteVersion: answer[collection]?.arrayValue?.first?["UpdatedDateUTC"]?.stringValue)
    }

    /// The result of a write, once Xero's amounts are checked against billing's: a document whose total differs by a
    /// cent fails the job loudly (a tax type mapped to the wrong rate, usually).
    private func written(_ object: JSONValue?, for request: PushRequest) throws(ConnectorError) -> PushResult {
        guard let object, let id = object[XeroMapping.idField(request.recordType)]?.stringValue else {
            throw .retryable(code: "unexpected_answer", message: "Xero's answer has no record", retryAfter: nil)
        }
        let billing: String?
        let theirs: JSONValue?
        switch request.record {
        case .invoice(let invoice): (billing, theirs) = (invoice.total.decimalString, object["Total"])
        case .creditNote(let note): (billing, theirs) = (note.total.decimalString, object["Total"])
        case .payment, .refund: (billing, theirs) = (nil, nil)
        case .customer: (billing, theirs) = (nil, nil)
        }
        if let billing, request.action != .void {
            guard PlatformNumbers.sameAmount(billing, theirs.flatMap(XeroMapping.decimal)) else {
                throw .validation(
                    code: "total_mismatch",
                    message: "Xero has \(theirs.flatMap(XeroMapping.decimal)?.stringValue ?? "nothing") for "
                        + "\(request.recordType.rawValue) \(request.localID) (\(id)) but billing's total is \(billing): "
                        + "check the tax type and account mappings")
            }
        }
        return PushResult(remoteID: id, remoteVersion: object["UpdatedDateUTC"]?.stringValue)
    }

    public func push(batch requests: [PushRequest], context: ConnectorContext) async throws -> [Result<
        PushResult, ConnectorError
    >] {
        let session = try await XeroSession(context: context)
        var results = [Result<PushResult, ConnectorError>?](repeating: nil, count: requests.count)
        let creates = requests.indices.filter {
            requests[$0].action == .create || requests[$0].action == .update && requests[$0].remoteID == nil
        }
        let created = try await create(creates.map { requests[$0] }, session: session)
        for (index, result) in zip(creates, created) { results[index] = result }
        for index in requests.indices where results[index] == nil {
            do {
                results[index] = .success(try await push(requests[index], session: session))
            } catch {
                if case .authentication = error { throw error }
                results[index] = .failure(error)
            }
        }
        return results.map { $0 ?? .failure(.retryable(code: "unanswered", message: "no answer", retryAfter: nil)) }
    }

    // MARK: Adoption and uncertain outcomes

    /// For each create, what is already in the books that it could be: contacts by `ContactNumber` (this create's
    /// own earlier write), by `Name` (billing's, and the distinct name it would have been given) when the emails do
    /// not disagree, and by email; invoices by `InvoiceNumbers`, of the invoice's own contact only (one a person made
    /// for another contact is another family's); payments and refunds on a later attempt by Ledgerwire's marker in
    /// `Reference`. One call per kind for the whole chunk.
    public func find(matching requests: [PushRequest], context: ConnectorContext) async throws -> [[RemoteMatch]] {
        let session = try await XeroSession(context: context)
        var matches = [[RemoteMatch]](repeating: [], count: requests.count)
        func match(_ object: JSONValue, by field: String, _ request: PushRequest) -> RemoteMatch? {
            guard let id = object[XeroMapping.idField(request.recordType)]?.stringValue else { return nil }
            return RemoteMatch(
                remoteID: id, matchedBy: field,
                adoption: Result { () throws(ConnectorError) in try written(object, for: request) })
        }
        let customers = requests.indices.filter { requests[$0].recordType == .customer }
        if !customers.isEmpty {
            var conditions: [String] = []
            var wanted: [Int: (names: [String], email: String?)] = [:]
            for index in customers {
                guard case .customer(let customer) = requests[index].record else { continue }
                let names = [customer.name, Self.distinctName(customer.name, localID: requests[index].localID)]
                wanted[index] = (names, customer.email?.lowercased())
                conditions.append("ContactNumber==\(XeroSession.literal(requests[index].localID))")
                conditions += names.map { "Name==\(XeroSession.literal($0))" }
                if let email = customer.email { conditions.append("EmailAddress==\(XeroSession.literal(email))") }
            }
            var found: [JSONValue] = []
            // A `where` long enough for the whole chunk is cut into parts a URL holds.
            var part: [String] = []
            for condition in conditions {
                part.append(condition)
                if part.count == 40 || condition == conditions.last {
                    found += try await session.list(
                        "Contacts", query: [("where", part.joined(separator: " OR ")), ("includeArchived", "true")])
                    part = []
                }
            }
            for index in customers {
                guard let (names, email) = wanted[index] else { continue }
                let request = requests[index]
                var list: [RemoteMatch] = []
                for object in found where object["ContactNumber"]?.stringValue == request.localID {
                    if let found = match(object, by: "ContactNumber", request) { list.append(found) }
                }
                for object in found {
                    guard let name = object["Name"]?.stringValue,
                        names.contains(where: { $0.lowercased() == name.lowercased() })
                    else { continue }
                    let theirs = object["EmailAddress"]?.stringValue?.lowercased()
                    guard theirs == nil || theirs == "" || email == nil || theirs == email else { continue }
                    if let found = match(object, by: "Name", request) { list.append(found) }
                }
                if let email {
                    for object in found where object["EmailAddress"]?.stringValue?.lowercased() == email {
                        if let found = match(object, by: "EmailAddress", request) { list.append(found) }
                    }
                }
                var seen: Set<String> = []
                matches[index] = list.filter { seen.insert($0.remoteID + $0.matchedBy).inserted }
            }
        }
        let invoices = requests.indices.filter { requests[$0].recordType == .invoice }
        var numbers: [Int: String] = [:]
        // The contact each invoice is for: an invoice of billing's number made for another contact is never its.
        var contacts: [Int: String] = [:]
        for index in invoices {
            guard case .invoice(let invoice) = requests[index].record else { continue }
            numbers[index] = invoice.number
            contacts[index] = requests[index].references[RecordReference(.customer, invoice.customerID.rawValue)]
        }
        let list = Array(Set(numbers.values)).sorted()
        for start in stride(from: 0, to: list.count, by: 40) {
            let part = list[start..<min(start + 40, list.count)]
            let found = try await session.list(
                "Invoices",
                query: [
                    ("InvoiceNumbers", part.joined(separator: ",")), ("Statuses", "DRAFT,SUBMITTED,AUTHORISED,PAID"),
                ])
            for (index, number) in numbers where part.contains(number) {
                matches[index] = found.filter {
                    $0["InvoiceNumber"]?.stringValue == number && $0["Type"]?.stringValue == "ACCREC"
                        && $0["Contact"]?["ContactID"]?.stringValue == contacts[index]
                }.compactMap { match($0, by: "InvoiceNumber", requests[index]) }
            }
        }
        for (index, request) in requests.enumerated()
        where [.payment, .refund].contains(request.recordType) && request.attempt > 1 {
            let marker = XeroMapping.marker(request)
            let found = try await session.list(
                "Payments", query: [("where", "Reference.StartsWith(\(XeroSession.literal(marker)))")])
            matches[index] = found.filter {
                guard let reference = $0["Reference"]?.stringValue, $0["Status"]?.stringValue != "DELETED" else {
                    return false
                }
                return reference == marker || reference.hasPrefix(marker + " ·")
            }.compactMap { match($0, by: "Reference", request) }
        }
        return matches
    }

    // MARK: Reads

    public func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord?
    {
        guard UUID(uuidString: remoteID) != nil else { return nil }
        let session = try await XeroSession(context: context)
        let collection = XeroMapping.collection(recordType)
        do {
            let answer = try await session.get("\(collection)/\(remoteID)")
            return answer[collection]?.arrayValue?.first.flatMap { XeroMapping.remoteRecord(recordType, $0) }
        } catch {
            if case .validation("xero_404", _) = error { return nil }
            throw error
        }
    }

    /// Records a person looks for: by Xero's id, a contact by the start of its name, a document by its number.
    public func search(recordType: RecordType, for text: String, limit: Int, context: ConnectorContext) async throws
        -> [RemoteRecord]
    {
        let term = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard limit > 0, !term.isEmpty, term.count <= 100 else { return [] }
        if UUID(uuidString: term) != nil {
            return try await pull(recordType: recordType, remoteID: term, context: context).map { [$0] } ?? []
        }
        let session = try await XeroSession(context: context)
        let literal = XeroSession.literal(term)
        let found: [JSONValue]
        switch recordType {
        case .customer:
            found = try await session.list("Contacts", query: [("searchTerm", term)])
        case .invoice:
            found = try await session.list("Invoices", query: [("InvoiceNumbers", term)])
        case .creditNote:
            found = try await session.list("CreditNotes", query: [("where", "CreditNoteNumber==\(literal)")])
        case .payment, .refund:
            found = try await session.list("Payments", query: [("where", "Reference==\(literal)")])
        }
        return Array(
            found.compactMap { XeroMapping.remoteRecord(recordType, $0) }.filter { !$0.deleted }.prefix(limit))
    }

    /// Which ids Xero still holds: one listing by `IDs` per 40 (a voided document is held; a deleted one is not).
    public func existing(recordType: RecordType, remoteIDs: [String], context: ConnectorContext) async throws
        -> Set<String>
    {
        let session = try await XeroSession(context: context)
        let collection = XeroMapping.collection(recordType)
        let ids = Set(remoteIDs).filter { UUID(uuidString: $0) != nil }.sorted()
        var found: Set<String> = []
        for start in stride(from: 0, to: ids.count, by: 40) {
            let part = ids[start..<min(start + 40, ids.count)]
            var query = [("IDs", part.joined(separator: ","))]
            if recordType == .customer { query.append(("includeArchived", "true")) }
            for object in try await session.list(collection, query: query) {
                guard let id = object[XeroMapping.idField(recordType)]?.stringValue,
                    object["Status"]?.stringValue != "DELETED"
                else { continue }
                found.insert(id)
            }
        }
        return found
    }

    /// Changes since the cursor, a round at a time: each feed type listed with `If-Modified-Since` where the last
    /// round of it began (less a second: Xero keeps milliseconds, clocks drift), page by page, then the next type.
    /// Payments, of which Xero sends no webhooks, are read every round (the scheduler runs one every 5 minutes);
    /// contacts, invoices and credit notes, which webhooks announce, only once the integration's interval has passed
    /// since they were last read (`ConnectorContext.feedInterval`). From no cursor, everything.
    public func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        let session = try await XeroSession(context: context)
        var position = XeroFeedPosition(cursor) ?? XeroFeedPosition()
        let began = position.began ?? context.now()
        if position.began == nil {
            position.began = began
            position.documents =
                position.documentsSince.map { began >= $0.adding(context.feedInterval - .seconds(1)) } ?? true
            position.type = position.documents ? 0 : Self.paymentsFeedType
            position.page = 1
        }
        let recordType = Self.feedTypes[position.type]
        let collection = XeroMapping.collection(recordType)
        var query = [("page", String(position.page)), ("pageSize", "100")]
        if recordType == .customer { query.append(("includeArchived", "true")) }
        let since = recordType == .payment ? position.paymentsSince : position.documentsSince
        let answer = try await session.get(collection, query: query, modifiedSince: since)
        let objects = answer[collection]?.arrayValue ?? []
        var records: [RemoteRecord] = []
        for object in objects {
            if recordType == .payment, object["PaymentType"]?.stringValue == "ARCREDITPAYMENT" {
                if let refund = XeroMapping.remoteRecord(.refund, object) { records.append(refund) }
            } else if let record = XeroMapping.remoteRecord(recordType, object) {
                records.append(record)
            }
        }
        var next = position
        if objects.count == 100, position.page < XeroSession.maximumPages {
            next.page += 1
        } else if position.type + 1 < Self.feedTypes.count {
            next.type += 1
            next.page = 1
        } else {
            // The round is over: the next reads what changed since it began.
            let mark = began.adding(.seconds(-1))
            next = XeroFeedPosition(
                documentsSince: position.documents ? mark : position.documentsSince, paymentsSince: mark)
            return ChangePage(changes: records, nextCursor: next.cursor, hasMore: false)
        }
        return ChangePage(changes: records, nextCursor: next.cursor, hasMore: true)
    }

    /// Reads the organisation (`GET /Organisation`) with the token and the tenant id: Xero answers 403 when the token
    /// was not granted that organisation.
    public func confirmsAccess(to remoteTenantID: String, context: ConnectorContext) async throws(ConnectorError)
        -> Bool
    {
        guard XeroSession.isTenantID(remoteTenantID) else { return false }
        var confirming = context
        confirming.credentials = FixedCredentials(
            accessToken: try await context.credentials.accessToken(), remoteTenantID: remoteTenantID)
        let session = try await XeroSession(context: confirming)
        do {
            let answer = try await session.get("Organisation")
            return answer["Organisations"]?.arrayValue?.isEmpty == false
        } catch .authentication, .credentialsRefused {
            return false
        }
    }

    /// The organisations the grant opens (`GET /connections`, organisations only), by the token alone: the
    /// connections endpoint takes no tenant id.
    public func companies(context: ConnectorContext) async throws(ConnectorError) -> [RemoteCompany]? {
        let token = try await context.credentials.accessToken()
        let request = TransportRequest(
            method: "GET", url: Self.connectionsURL(settings: context.settings),
            headers: [(name: "Authorization", value: "Bearer \(token)"), (name: "Accept", value: "application/json")],
            body: nil, timeout: .seconds(60))
        let response: TransportResponse
        do {
            response = try await context.transport.send(request)
        } catch {
            throw XeroSession.error(for: error)
        }
        let answer = try XeroSession.answer(response)
        var companies: [RemoteCompany] = []
        for connection in (answer.arrayValue ?? []).prefix(1000) {
            guard connection["tenantType"]?.stringValue == "ORGANISATION",
                let id = connection["tenantId"]?.stringValue, XeroSession.isTenantID(id)
            else { continue }
            let name = connection["tenantName"]?.stringValue.map { String($0.prefix(255)) } ?? id
            if !companies.contains(where: { $0.id == id }) { companies.append(RemoteCompany(id: id, name: name)) }
        }
        return companies
    }

    /// The organisation's accounts, tax rates and items, each with what it can be mapped as, by Xero's codes: a
    /// `REVENUE`/`SALES`/`OTHERINCOME` account is a revenue account (`AccountCode`), a `BANK` account or one taking
    /// payments a deposit account (`Account.Code` of a payment), an active tax rate a tax type, a sold item an item.
    public func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        let session = try await XeroSession(context: context)
        let accounts = try await session.get("Accounts")["Accounts"]?.arrayValue ?? []
        let taxRates = try await session.get("TaxRates")["TaxRates"]?.arrayValue ?? []
        // Items come whole, not in pages (`GET /Items` takes no `page`).
        let items = try await session.get("Items")["Items"]?.arrayValue ?? []
        return RemoteChart(
            accounts: accounts.compactMap { account in
                guard let code = account["Code"]?.stringValue, !code.isEmpty else { return nil }
                let type = account["Type"]?.stringValue
                var uses: Set<CodeMappings.Kind> = []
                if ["REVENUE", "SALES", "OTHERINCOME"].contains(type) { uses.insert(.account) }
                if type == "BANK" || account["EnablePaymentsToAccount"]?.boolValue == true {
                    uses.insert(.depositAccount)
                }
                return RemoteChart.Entry(
                    id: code, name: account["Name"]?.stringValue ?? code, code: code,
                    active: account["Status"]?.stringValue == "ACTIVE", type: type,
                    classification: account["Class"]?.stringValue, uses: uses)
            },
            taxCodes: taxRates.compactMap { rate in
                guard let type = rate["TaxType"]?.stringValue else { return nil }
                return RemoteChart.Entry(
                    id: type, name: rate["Name"]?.stringValue ?? type, code: type,
                    active: rate["Status"]?.stringValue == "ACTIVE", uses: [.taxCode])
            },
            items: items.compactMap { item in
                guard let code = item["Code"]?.stringValue else { return nil }
                return RemoteChart.Entry(
                    id: code, name: item["Name"]?.stringValue ?? code, code: code, active: true,
                    uses: item["IsSold"]?.boolValue == false ? [] : [.item])
            },
            books: "Xero organisation")
    }
}

/// Where the change feed is: what each part of it was last read since, and in a round under way, which feed type,
/// which page of it, when the round began and whether it reads the documents or only payments.
struct XeroFeedPosition: Equatable {
    var type = 0
    var page = 1
    /// Contacts, invoices and credit notes changed since this were not read yet (`nil`: none ever were).
    var documentsSince: Timestamp?
    /// Payments changed since this were not read yet.
    var paymentsSince: Timestamp?
    /// When the round under way began; `nil` between rounds.
    var began: Timestamp?
    /// Whether the round under way reads the documents too.
    var documents = true

    init(documentsSince: Timestamp? = nil, paymentsSince: Timestamp? = nil) {
        self.documentsSince = documentsSince
        self.paymentsSince = paymentsSince
    }

    init?(_ cursor: String?) {
        guard let cursor else { return nil }
        let parts = cursor.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 7, parts[0] == "xero2", let type = Int(parts[1]),
            XeroConnector.feedTypes.indices.contains(type), let page = Int(parts[2]),
            (1...XeroSession.maximumPages).contains(page), parts[6] == "d" || parts[6] == "p",
            let documentsSince = Self.instant(parts[3]), let paymentsSince = Self.instant(parts[4]),
            let began = Self.instant(parts[5])
        else { return nil }
        self.type = type
        self.page = page
        self.documentsSince = documentsSince
        self.paymentsSince = paymentsSince
        self.began = began
        self.documents = parts[6] == "d"
    }

    /// An instant of the cursor: microseconds since the epoch, or empty for none (`.some(nil)`); `nil` when it is
    /// neither.
    private static func instant(_ text: String) -> Timestamp?? {
        if text.isEmpty { return .some(nil) }
        guard let micros = Int64(text) else { return nil }
        return .some(Timestamp(microsecondsSinceEpoch: micros))
    }

    var cursor: String {
        let instants = [documentsSince, paymentsSince, began].map { $0.map { String($0.microsecondsSinceEpoch) } ?? "" }
        return "xero2:\(type):\(page):\(instants.joined(separator: ":")):\(documents ? "d" : "p")"
    }
}

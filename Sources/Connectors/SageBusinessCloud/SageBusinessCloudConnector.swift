public import Accounting
public import Foundation

/// Sage Business Cloud Accounting (API v3.1).
///
/// Writes: customers are `CUSTOMER` contacts carrying billing's id as `reference`; a contact kept by hand with
/// billing's name is adopted, one linked to another billing customer never is, and a new contact whose name such a
/// contact holds is named apart with billing's id. Invoices and credit notes are issued with billing's number in
/// `reference` (Sage numbers them itself), each line's mapped ledger account and tax rate, and billing's tax on each
/// line; a total Sage computes that differs from billing's by a cent fails the job. A credit note is then allocated to
/// its invoice (`contact_allocations`); a payment is a `CUSTOMER_RECEIPT` and a refund a `CUSTOMER_REFUND`, both into
/// the mapped bank account and allocated to their documents. Every create carries an `idempotency_id` from the job's
/// key; a create on a later attempt is first looked for by its `reference` (`find`). A void is `DELETE` with a
/// `void_reason`.
///
/// Reads: one record (`pull`), the change feed (`updated_or_created_since` and `deleted_since` on sales invoices,
/// credit notes and contact payments: Sage has no webhooks), and the chart: ledger accounts, tax rates, bank accounts
/// and services.
public struct SageBusinessCloudConnector: Connector {
    public static let defaultAPI = URL(string: "https://api.accounting.sage.com/v3.1")!
    /// `full_access`: the connector writes (`readonly` cannot).
    public static let scopes = ["full_access"]

    public let platform: Platform = .sageBusinessCloud
    /// Sage's limit: "200 calls per 60 seconds per business" (developer.sage.com, v3.0 "Making an API request";
    /// platforms.md §5.3). The window is kept a second longer than Sage's so that requests arriving late cannot crowd
    /// into one of its windows.
    public static let limits = limits(requestsPerMinute: 200)
    public let capabilities: ConnectorCapabilities

    /// The limits for a business allowed `requestsPerMinute` calls in Sage's 60-second window (an emulator given
    /// another limit, `sandbox sage-business-cloud --requests-per-minute`): Sage's own pacing, only the count differs.
    public static func limits(requestsPerMinute: Int) -> RateLimitPolicy {
        RateLimitPolicy(
            windows: [.init(limit: max(1, requestsPerMinute), period: .seconds(61))], maxConcurrent: 5,
            throttlePause: .seconds(60))
    }

    /// - Parameter limits: Sage's own per business unless testing against an emulator given other limits.
    public init(limits: RateLimitPolicy = Self.limits) {
        capabilities = ConnectorCapabilities(
            webhooks: false, maximumBatchSize: 1, changeFeed: true, rateLimit: limits,
            mappingKinds: CodeMappings.commonKinds, adoptsExisting: [.customer],
            recordTypes: [.customer, .invoice, .payment, .creditNote, .refund])
    }

    /// `api_base_url` from the settings, else Sage's one host.
    public static func apiBaseURL(settings: JSONValue) -> URL {
        settings["api_base_url"]?.stringValue.flatMap(URL.init(string:)) ?? defaultAPI
    }

    /// Sage's OAuth 2.0 (platforms.md §5.1): the central authorize page filtered to API v3.1, the token endpoint that
    /// rotates refresh tokens, `full_access`.
    public func authentication(settings: JSONValue) -> AuthenticationScheme {
        var endpoints = OAuthEndpoints(
            authorizeURL: URL(string: "https://www.sageone.com/oauth2/auth/central?filter=apiv3.1")!,
            tokenURL: URL(string: "https://oauth.accounting.sage.com/token")!,
            revokeURL: URL(string: "https://oauth.accounting.sage.com/revoke")!,
            scopes: Self.scopes, usesPKCE: false, revocationBody: .form)
        endpoints.clientCredentials = .form
        return .oauth2(endpoints.overridden(by: settings))
    }

    // MARK: Writes

    public func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult {
        let session = try await SageBusinessCloudSession(context: context)
        return try await push(request, session: session)
    }

    private func push(_ request: PushRequest, session: SageBusinessCloudSession) async throws(ConnectorError)
        -> PushResult
    {
        switch request.action {
        case .void:
            return try await void(request, session: session)
        case .update where request.remoteID != nil:
            return try await update(request, session: session)
        case .create, .update:
            return try await create(request, session: session)
        }
    }

    /// A create under the job's `idempotency_id`; a credit note is then allocated to its invoice.
    private func create(_ request: PushRequest, session: SageBusinessCloudSession) async throws(ConnectorError)
        -> PushResult
    {
        let (plural, singular) = SageBusinessCloudMapping.resource(request.recordType)
        // A credit note an earlier attempt made may still want its allocation: found by its number, it is allocated
        // now (its match is not offered to the engine, which would adopt it as it stands).
        if case .creditNote(let note) = request.record, request.attempt > 1,
            let made = try await documents(
                plural, number: note.number, customer: note.customerID, request, session: session
            ).first
        {
            return try await allocated(made, for: request, session: session)
        }
        let entity = try SageBusinessCloudMapping.entity(for: request)
        let answer = try await session.create(plural, singular, entity, idempotencyKey: request.idempotencyKey)
        if request.recordType == .creditNote { return try await allocated(answer, for: request, session: session) }
        return try written(answer, for: request)
    }

    /// A credit note allocated to the invoice it credits (as much as both still hold), unless it already is: the
    /// result of its push.
    private func allocated(_ note: JSONValue, for request: PushRequest, session: SageBusinessCloudSession)
        async throws(ConnectorError) -> PushResult
    {
        let result = try written(note, for: request)
        guard case .creditNote(let canonical) = request.record, let invoiceID = canonical.invoiceID else {
            return result
        }
        let invoice = try SageBusinessCloudMapping.reference(request, .invoice, invoiceID.rawValue)
        guard SageBusinessCloudSession.isRecordID(invoice), SageBusinessCloudSession.isRecordID(result.remoteID) else {
            throw .validation(code: "invalid_id", message: "a Sage id to allocate is not one")
        }
        let current = try await session.get("sales_credit_notes/\(result.remoteID)")
        let remaining = Self.amount(current["outstanding_amount"]) ?? 0
        let owed = Self.amount(try await session.get("sales_invoices/\(invoice)")["outstanding_amount"]) ?? 0
        let amount = min(remaining, owed)
        guard amount > 0, let contact = current["contact"]?["id"] else {
            return PushResult(remoteID: result.remoteID, remoteVersion: current["updated_at"]?.stringValue)
        }
        let text = "\(amount)"
        _ = try await session.create(
            "contact_allocations", "contact_allocation",
            [
                "transaction_type_id": "CUSTOMER_ALLOCATION", "contact_id": contact,
                "date": .string(canonical.issueDate.description),
                "allocated_artefacts": [
                    ["artefact_id": .string(invoice), "amount": .number(text)],
                    ["artefact_id": .string(result.remoteID), "amount": .number("-" + text)],
                ],
            ], idempotencyKey: request.idempotencyKey + ":allocation")
        let after = try await session.get("sales_credit_notes/\(result.remoteID)")
        return PushResult(remoteID: result.remoteID, remoteVersion: after["updated_at"]?.stringValue)
    }

    static func amount(_ value: JSONValue?) -> Decimal? {
        value.flatMap(SageBusinessCloudMapping.decimal)?.stringValue.flatMap { Decimal(string: $0) }
    }

    /// An update of the fields Ledgerwire writes (`PUT`: the others stay). Sage cannot change a payment through the
    /// API once made; billing's changed payment is voided and recorded there again by the void and the create that
    /// follow from billing.
    private func update(_ request: PushRequest, session: SageBusinessCloudSession) async throws(ConnectorError)
        -> PushResult
    {
        guard let id = request.remoteID, SageBusinessCloudSession.isRecordID(id) else {
            throw .validation(code: "no_remote_id", message: "nothing in Sage to update")
        }
        guard ![.payment, .refund].contains(request.recordType) else {
            throw .validation(
                code: "payment_unchangeable",
                message: "Sage's payments are not changed by Ledgerwire: void \(request.localID) in billing and "
                    + "record it again")
        }
        var entity = try SageBusinessCloudMapping.entity(for: request)
        let (plural, singular) = SageBusinessCloudMapping.resource(request.recordType)
        if request.recordType == .customer, case .customer(let customer) = request.record {
            // A contact named apart keeps its distinct name.
            let current = try await session.get("contacts/\(id)")
            let distinct = SageBusinessCloudMapping.distinctName(customer.name, localID: request.localID)
            if current["name"]?.stringValue == distinct { entity["name"] = .string(distinct) }
        }
        let answer = try await session.update(plural, singular, id: id, entity)
        return try written(answer, for: request)
    }

    /// A void: an issued invoice or credit note `DELETE`d with a `void_reason` (Sage keeps it, `VOID`), a payment
    /// or refund deleted, a contact deleted (Sage refuses while it has transactions).
    private func void(_ request: PushRequest, session: SageBusinessCloudSession) async throws(ConnectorError)
        -> PushResult
    {
        guard let id = request.remoteID, SageBusinessCloudSession.isRecordID(id) else {
            throw .validation(code: "no_remote_id", message: "the \(request.recordType.rawValue) is not in Sage")
        }
        let (plural, _) = SageBusinessCloudMapping.resource(request.recordType)
        switch request.recordType {
        case .invoice, .creditNote:
            guard let current = try await existing("\(plural)/\(id)", session: session) else {
                return PushResult(remoteID: id)
            }
            if current["status"]?["id"]?.stringValue == "VOID" {
                return PushResult(remoteID: id, remoteVersion: current["updated_at"]?.stringValue)
            }
            let answer = try await session.delete(
                "\(plural)/\(id)", query: [("void_reason", "Voided in billing (\(request.localID))")])
            return PushResult(remoteID: id, remoteVersion: answer["updated_at"]?.stringValue)
        case .customer, .payment, .refund:
            // Already gone: a void resent after its answer was lost.
            guard try await existing("\(plural)/\(id)", session: session) != nil else {
                return PushResult(remoteID: id)
            }
            _ = try await session.delete("\(plural)/\(id)")
            return PushResult(remoteID: id)
        }
    }

    /// The record at `path`, or `nil` when Sage has none (404).
    func existing(_ path: String, session: SageBusinessCloudSession) async throws(ConnectorError)
        -> JSONValue?
    {
        do {
            return try await session.get(path)
        } catch {
            if case .validation("sage_404", _) = error { return nil }
            throw error
        }
    }

    /// The result of a write, once Sage's computed total is checked against billing's: a document whose total
    /// differs by a cent fails the job loudly (a tax rate mapped to the wrong percentage, usually).
    func written(_ object: JSONValue, for request: PushRequest) throws(ConnectorError) -> PushResult {
        guard let id = object["id"]?.stringValue else {
            throw .retryable(code: "unexpected_answer", message: "Sage's answer has no record", retryAfter: nil)
        }
        let billing: String?
        switch request.record {
        case .invoice(let invoice): billing = invoice.total.decimalString
        case .creditNote(let note): billing = note.total.decimalString
        case .customer, .payment, .refund: billing = nil
        }
        if let billing, request.action != .void {
            let theirs = object["total_amount"].flatMap(SageBusinessCloudMapping.decimal)
            guard PlatformNumbers.sameAmount(billing, theirs) else {
                throw .validation(
                    code: "total_mismatch",
                    message: "Sage has a total_amount of \(theirs?.stringValue ?? "nothing") for "
                        + "\(request.recordType.rawValue) \(request.localID) (\(id)) but billing's total is "
                        + "\(billing): check the tax rate and ledger account mappings")
            }
        }
        return PushResult(remoteID: id, remoteVersion: object["updated_at"]?.stringValue)
    }

    // MARK: Adoption and uncertain outcomes

    /// For each create, what is already in the books that it could be: contacts with billing's id as `reference`
    /// (this create's own earlier write) and contacts of billing's name (or the distinct name it would have been
    /// given); invoices with billing's number as `reference`, of the invoice's own contact (a credit note is looked
    /// for by its push, which allocates it);
    /// payments and refunds with Ledgerwire's marker as `reference`, of the contact. Found with `search` (Sage's
    /// filter by reference or name) and checked field by field.
    public func find(matching requests: [PushRequest], context: ConnectorContext) async throws -> [[RemoteMatch]] {
        let session = try await SageBusinessCloudSession(context: context)
        var matches: [[RemoteMatch]] = []
        for request in requests {
            matches.append(try await find(request, session: session))
        }
        return matches
    }

    private func find(_ request: PushRequest, session: SageBusinessCloudSession) async throws(ConnectorError)
        -> [RemoteMatch]
    {
        switch request.record {
        case .customer(let customer):
            let names = [customer.name, SageBusinessCloudMapping.distinctName(customer.name, localID: request.localID)]
                .map { $0.lowercased() }
            // Sage's `search` matches a contact's name, company name or reference. By name always (the adoption
            // rule); by billing's id in the reference only on a later attempt, when an earlier one may have created
            // the contact and the answer was lost: on a first attempt nothing of this integration's can be there, and
            // at Sage's 200 calls a minute a look-up saved is a contact more a minute.
            var found: [JSONValue] = []
            if request.attempt > 1 {
                found += try await session.list(
                    "contacts", query: [("contact_type_id", "CUSTOMER"), ("search", request.localID)])
            }
            found += try await session.list(
                "contacts", query: [("contact_type_id", "CUSTOMER"), ("search", String(customer.name.prefix(100)))])
            var list: [RemoteMatch] = []
            for object in found where object["reference"]?.stringValue == request.localID {
                if let found = match(object, by: "reference", request) { list.append(found) }
            }
            let email = customer.email?.lowercased()
            for object in found {
                guard let name = object["name"]?.stringValue?.lowercased(), names.contains(name) else { continue }
                let theirs = (object["main_contact_person"]?["email"] ?? object["email"])?.stringValue?.lowercased()
                guard theirs == nil || theirs == "" || email == nil || theirs == email else { continue }
                if let found = match(object, by: "name", request) { list.append(found) }
            }
            var seen: Set<String> = []
            return list.filter { seen.insert($0.remoteID + $0.matchedBy).inserted }
        case .invoice(let invoice):
            return try await documents(
                "sales_invoices", number: invoice.number, customer: invoice.customerID, request, session: session
            ).compactMap { match($0, by: "reference", request) }
        case .creditNote:
            // Looked for by the push itself, which allocates one an earlier attempt made (`create`).
            return []
        case .payment(let payment):
            return try await payments(request, customer: payment.customerID, type: "CUSTOMER_RECEIPT", session: session)
                .compactMap { match($0, by: "reference", request) }
        case .refund(let refund):
            return try await payments(request, customer: refund.customerID, type: "CUSTOMER_REFUND", session: session)
                .compactMap { match($0, by: "reference", request) }
        }
    }

    /// A record in the books as a match for `request`: adopting it checks it as a write's answer is checked.
    private func match(_ object: JSONValue, by field: String, _ request: PushRequest) -> RemoteMatch? {
        guard let id = object["id"]?.stringValue else { return nil }
        let adoption: Result<PushResult, ConnectorError>
        do {
            adoption = .success(try written(object, for: request))
        } catch {
            adoption = .failure(error)
        }
        return RemoteMatch(remoteID: id, matchedBy: field, adoption: adoption)
    }

    /// Issued documents of the contact with billing's number as `reference`.
    private func documents(
        _ resource: String, number: String, customer: Customer.ID, _ request: PushRequest,
        session: SageBusinessCloudSession
    ) async throws(ConnectorError) -> [JSONValue] {
        guard let contact = request.references[RecordReference(.customer, customer.rawValue)] else { return [] }
        let found = try await session.list(resource, query: [("contact_id", contact), ("search", number)])
        return found.filter {
            $0["reference"]?.stringValue == number && $0["contact"]?["id"]?.stringValue == contact
                && $0["status"]?["id"]?.stringValue != "VOID"
        }
    }

    /// The contact's payments of `type` carrying this push's marker.
    private func payments(
        _ request: PushRequest, customer: Customer.ID, type: String, session: SageBusinessCloudSession
    ) async throws(ConnectorError) -> [JSONValue] {
        guard request.attempt > 1, let contact = request.references[RecordReference(.customer, customer.rawValue)]
        else { return [] }
        let marker = SageBusinessCloudMapping.marker(request)
        let found = try await session.list(
            "contact_payments", query: [("contact_id", contact), ("transaction_type_id", type)])
        return found.filter { $0["reference"]?.stringValue == marker }
    }
}

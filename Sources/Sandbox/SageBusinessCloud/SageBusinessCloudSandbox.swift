public import Accounting
public import Foundation

/// The Sage Business Cloud Accounting emulator's state: OAuth apps, the user's businesses (one of them the lead),
/// authorization codes and tokens, `idempotency_id` answers, and the per-business request limit with a count of every
/// request refused for going over it (platforms.md §5, §9.5).
///
/// The authorize page, `POST /token` and the Accounting API v3.1 share one loopback server (`router()`). Its own
/// clock (real time plus `advance(by:)`) lets tests expire codes and tokens and move the limit window without waiting.
public actor SageBusinessCloudSandbox {
    /// Sage's limit: "200 calls per 60 seconds per business" (developer.sage.com, v3.0 "Making an API request").
    public struct Limits: Sendable {
        /// Requests each business takes within `window` before answering 429.
        public var requestsPerWindow = 200
        /// The rolling window, in seconds.
        public var window: TimeInterval = 60
        /// Sage's limits.
        public init() {}
    }

    struct Client {
        let secret: String
        let redirectURIs: [String]
        let name: String
    }

    struct AccessToken {
        let clientID: String
        let scope: String
        let expires: Date
    }

    struct RefreshToken {
        let clientID: String
        let scope: String
        let expires: Date
    }

    public let limits: Limits
    /// Access tokens live five minutes (`expires_in: 300`).
    public let accessTokenLifetime: TimeInterval = 300
    /// Refresh tokens live 31 days (`refresh_token_expires_in: 2678400`).
    public let refreshTokenLifetime: TimeInterval = 2_678_400
    /// Authorization codes are single-use and live 60 seconds ("Frequently Raised Errors").
    public let codeLifetime: TimeInterval = 60
    private var offset: TimeInterval = 0
    private var clients: [String: Client] = [:]
    var businesses: [String: SageBusiness] = [:]
    /// Business ids in the order they were added; the lead business first unless another was made lead.
    private(set) var businessOrder: [String] = []
    /// The user's lead business: the one used when a request names none (`X-Business`).
    public private(set) var leadBusinessID: String?
    private var codes: [String: (clientID: String, redirectURI: String, scope: String, expires: Date)] = [:]
    private var accessTokens: [String: AccessToken] = [:]
    private var refreshTokens: [String: RefreshToken] = [:]
    private var idempotent: [String: JSONValue] = [:]
    private var arrivals: [String: [Date]] = [:]

    /// Requests refused with 429 for going over the per-business limit.
    public private(set) var limitViolations = 0
    /// API requests admitted, by business id.
    public private(set) var requestCounts: [String: Int] = [:]
    /// Refresh-token grants answered with a new pair.
    public private(set) var refreshGrants = 0
    /// API writes still to be made and then left unanswered, the connection dropped.
    public private(set) var droppedAnswers = 0
    /// API calls still to be answered 429 whatever their rate (Sage's doing, not a violation).
    public private(set) var injectedThrottles = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The emulator's clock: real time plus every `advance(by:)`.
    public var now: Date { Date().addingTimeInterval(offset) }

    /// Moves the emulator's clock on (codes and tokens expire, the limit window moves).
    public func advance(by seconds: TimeInterval) { offset += seconds }

    /// The next `count` API writes are made, and their connections dropped before any answer.
    public func dropAnswers(_ count: Int) { droppedAnswers = max(0, count) }

    /// The next `count` API calls are answered 429 whatever their rate.
    public func throttle(next count: Int) { injectedThrottles = max(0, count) }

    func takeDroppedAnswer() -> Bool {
        guard droppedAnswers > 0 else { return false }
        droppedAnswers -= 1
        return true
    }

    // MARK: Apps and businesses

    /// An app (OAuth client) Sage accepts: an authorize request and a code exchange must name one of
    /// `redirectURIs` exactly.
    public func registerClient(id: String, secret: String, redirectURIs: [String], name: String = "Ledgerwire") {
        clients[id] = Client(secret: secret, redirectURIs: redirectURIs, name: name)
    }

    /// A new business of the user, with its region's chart, tax rates, a bank account and catalogue items. The
    /// first business added is the lead one unless `lead` makes this one the lead.
    /// - Parameter country: `GB` or `IE`; anything else is refused (`nil`).
    /// - Returns: its id (32 hex digits).
    @discardableResult
    public func addBusiness(name: String, country: String = "GB", lead: Bool = false) -> String? {
        guard let region = SageBusiness.Region(rawValue: country.uppercased()) else { return nil }
        let id = SageBusiness.newID()
        businesses[id] = SageBusiness(id: id, name: name, region: region, now: now)
        businessOrder.append(id)
        if lead || leadBusinessID == nil { leadBusinessID = id }
        return id
    }

    /// The business's records of one resource (`"sales_invoices"`, `"contacts"`, …) as `attributes=all` answers
    /// them, oldest first.
    public func records(businessID: String, resource: String) -> [[String: JSONValue]] {
        businesses[businessID]?.all(resource) ?? []
    }

    /// One record, as `attributes=all` answers it.
    public func record(businessID: String, resource: String, id: String) -> [String: JSONValue]? {
        businesses[businessID]?.record(resource, id)
    }

    /// The id of a business's ledger account by nominal code (`4000`).
    public func ledgerAccountID(businessID: String, nominalCode: Int) -> String? {
        businesses[businessID]?.ledgerAccount(nominalCode: nominalCode)
    }

    /// The id of the business's first bank account.
    public func bankAccountID(businessID: String) -> String? {
        businesses[businessID]?.all("bank_accounts").first?["id"]?.stringValue
    }

    // MARK: A person in Sage

    /// A person enters a customer receipt against an invoice, into the business's first bank account.
    /// - Returns: the payment's id, or `nil` when Sage would refuse it (the invoice unknown, void, overpaid, …).
    @discardableResult
    public func enterReceipt(
        businessID: String, invoiceID: String, amount: Decimal, date: String? = nil, reference: String? = nil
    ) -> String? {
        let contact = businesses[businessID]?.record("sales_invoices", invoiceID)?["contact"]?["id"]
        var input: [String: JSONValue] = [
            "transaction_type_id": "CUSTOMER_RECEIPT", "contact_id": contact ?? .null,
            "bank_account_id": .string(bankAccountID(businessID: businessID) ?? ""),
            "date": .string(date ?? SageBusiness.day(now)), "total_amount": SageBusiness.money(amount),
            "allocated_artefacts": [["artefact_id": .string(invoiceID), "amount": SageBusiness.money(amount)]],
        ]
        if let reference { input["reference"] = .string(reference) }
        let payment = try? change(businessID: businessID) { business, now throws(SageBusinessCloudFailure) in
            try business.createPayment(input, now: now)
        }
        return payment?["id"]?.stringValue
    }

    /// A person edits an invoice: `changes` as a `PUT` would give them (`invoice_lines`, `notes`, `due_date`, …).
    /// - Returns: whether Sage took the change.
    @discardableResult
    public func editInvoice(businessID: String, invoiceID: String, changes: [String: JSONValue]) -> Bool {
        (try? change(businessID: businessID) { business, now throws(SageBusinessCloudFailure) in
            try business.saveArtefact(.invoice, changes, id: invoiceID, now: now)
        }) != nil
    }

    /// A person voids an invoice, giving a reason.
    /// - Returns: whether Sage took it (not with payments or allocations on the invoice).
    @discardableResult
    public func voidInvoice(businessID: String, invoiceID: String, reason: String = "Raised in error") -> Bool {
        (try? change(businessID: businessID) { business, now throws(SageBusinessCloudFailure) in
            try business.void(.invoice, invoiceID, reason: reason, now: now)
        }) != nil
    }

    /// Runs one change on a business, keeping it only when it succeeds.
    func change<T>(
        businessID: String, _ body: (inout SageBusiness, Date) throws(SageBusinessCloudFailure) -> T
    ) throws(SageBusinessCloudFailure) -> T {
        guard var business = businesses[businessID] else { throw .notFound }
        let result = try body(&business, now)
        businesses[businessID] = business
        return result
    }

    func business(_ id: String) -> SageBusiness? { businesses[id] }

    /// The user's businesses, the lead one first.
    func orderedBusinesses() -> [SageBusiness] {
        let lead = leadBusinessID.flatMap { businesses[$0] }
        return (lead.map { [$0] } ?? []) + businessOrder.filter { $0 != leadBusinessID }.compactMap { businesses[$0] }
    }

    // MARK: OAuth

    func client(_ id: String) -> Client? { clients[id] }

    /// A consent: its single-use code, valid 60 seconds.
    func authorize(clientID: String, redirectURI: String, scope: String) -> String {
        let code = Self.randomToken()
        codes[code] = (clientID, redirectURI, scope, now + codeLifetime)
        return code
    }

    enum TokenAnswer {
        case tokens(access: String, refresh: String, scope: String)
        case error(status: Int, code: String)
    }

    /// `POST /token`: a code (once, within 60 s, with the redirect URI it was issued for) or a refresh token (once:
    /// it rotates, and the one presented is refused from then on) for a new pair.
    func token(form: [String: String]) -> TokenAnswer {
        guard let clientID = form["client_id"], let client = clients[clientID],
            SageBusiness.constantTimeEqual(client.secret, form["client_secret"] ?? "")
        else { return .error(status: 401, code: "invalid_client") }
        switch form["grant_type"] {
        case "authorization_code":
            guard let code = form["code"], let grant = codes.removeValue(forKey: code), grant.clientID == clientID,
                grant.expires > now, grant.redirectURI == form["redirect_uri"]
            else { return .error(status: 400, code: "invalid_grant") }
            let (access, refresh) = mint(clientID: clientID, scope: grant.scope)
            return .tokens(access: access, refresh: refresh, scope: grant.scope)
        case "refresh_token":
            guard let presented = form["refresh_token"], let record = refreshTokens[presented],
                record.clientID == clientID, record.expires > now
            else { return .error(status: 400, code: "invalid_grant") }
            refreshTokens.removeValue(forKey: presented)
            refreshGrants += 1
            let (access, refresh) = mint(clientID: clientID, scope: record.scope)
            return .tokens(access: access, refresh: refresh, scope: record.scope)
        default:
            return .error(status: 400, code: "unsupported_grant_type")
        }
    }

    /// Gives an app a token pair directly, as if the person had consented.
    public func issueTokens(clientID: String, scope: String = "full_access") -> (access: String, refresh: String) {
        mint(clientID: clientID, scope: scope)
    }

    private func mint(clientID: String, scope: String) -> (String, String) {
        let access = Self.randomToken()
        let refresh = Self.randomToken()
        accessTokens[access] = AccessToken(clientID: clientID, scope: scope, expires: now + accessTokenLifetime)
        refreshTokens[refresh] = RefreshToken(clientID: clientID, scope: scope, expires: now + refreshTokenLifetime)
        return (access, refresh)
    }

    // MARK: Admission

    /// Authenticates a call, chooses its business (`X-Business`, else the lead one) and counts it against the
    /// business's limit.
    /// - Returns: the business's id.
    func admit(bearer: String?, business header: String?, write: Bool) throws(SageBusinessCloudFailure) -> String {
        guard let bearer, let token = accessTokens[bearer] else { throw .unauthorized() }
        guard token.expires > now else { throw .unauthorized("Access token has expired.") }
        guard let businessID = header ?? leadBusinessID, businesses[businessID] != nil else { throw .forbidden }
        if write, token.scope != "full_access" { throw .forbidden }
        let windowStart = now - limits.window
        var recent = arrivals[businessID, default: []].filter { $0 > windowStart }
        defer { arrivals[businessID] = recent }
        if injectedThrottles > 0 {
            injectedThrottles -= 1
            throw .throttled
        }
        guard recent.count < limits.requestsPerWindow else {
            limitViolations += 1
            throw .throttled
        }
        recent.append(now)
        requestCounts[businessID, default: 0] += 1
        return businessID
    }

    /// Seconds until the business's limit window admits another call.
    func retryAfter(businessID: String) -> Int {
        guard let oldest = arrivals[businessID]?.first else { return 1 }
        let seconds = (oldest + limits.window).timeIntervalSince(now)
        guard seconds.isFinite, seconds > 0 else { return 1 }
        return Int(min(seconds.rounded(.up), 3600))
    }

    // MARK: Idempotency

    /// The 201 answer stored for an `idempotency_id` of a business and resource.
    func idempotentAnswer(businessID: String, resource: String, key: String) -> JSONValue? {
        idempotent["\(businessID) \(resource) \(key)"]
    }

    func rememberIdempotent(businessID: String, resource: String, key: String, answer: JSONValue) {
        idempotent["\(businessID) \(resource) \(key)"] = answer
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<48).map { _ in characters[Int(generator.next() % UInt64(characters.count))] })
    }
}

public import Accounting
public import Foundation

/// The Xero emulator's state: OAuth apps, organisations (each with its own books), consents and the connections
/// they made, tokens, `Idempotency-Key` answers, and the per-(app, organisation) limits with a count of every request
/// refused for going over them (platforms.md §2, §9.2).
///
/// Identity, connections and the Accounting API share one loopback server (`router()`). Its own clock (real time plus
/// `advance(by:)`) lets tests expire tokens and move the rolling limit windows without waiting.
public actor XeroSandbox {
    /// Xero's limits (platforms.md §2.4): per app and organisation, and one minute limit across all organisations.
    public struct Limits: Sendable {
        public var concurrentRequests = 5
        public var requestsPerMinute = 60
        public var requestsPerDay = 5000
        public var appRequestsPerMinute = 10_000
        public init() {}
    }

    struct Client {
        let secret: String
        let redirectURIs: [String]
        let name: String
    }

    /// What a person granted on the consent page: an authentication event, with its scopes.
    struct Consent {
        let clientID: String
        let authEventID: String
        let scopes: [String]
        let redirectURI: String
    }

    struct AccessToken {
        let clientID: String
        let authEventID: String
        let expires: Date
    }

    struct RefreshToken {
        let clientID: String
        let authEventID: String
        let scopes: [String]
        /// Unused for 60 days, a refresh token expires.
        let expires: Date
        /// The pair it was exchanged for, and when: the same pair is answered again for 30 minutes.
        var rotated: (access: String, refresh: String, at: Date)?
    }

    /// One organisation connected to one app (`GET /connections`).
    struct Connection {
        let id: String
        let clientID: String
        let authEventID: String
        let tenantID: String
        let created: Date
    }

    public let limits: Limits
    /// Access tokens live 30 minutes (`expires_in: 1800`).
    public let accessTokenLifetime: TimeInterval = 1800
    /// A rotated refresh token still answers, with the same new pair, for 30 minutes.
    public let refreshGrace: TimeInterval = 1800
    /// Refresh tokens expire after 60 days unused.
    public let refreshTokenLifetime: TimeInterval = 60 * 86_400
    private var offset: TimeInterval = 0
    private var clients: [String: Client] = [:]
    var organisations: [String: XeroOrganisation] = [:]
    /// Organisation ids in the order they were added (the consent page lists them so).
    private(set) var organisationOrder: [String] = []
    private var codes: [String: (consent: Consent, tenants: [String], expires: Date)] = [:]
    private var accessTokens: [String: AccessToken] = [:]
    private var refreshTokens: [String: RefreshToken] = [:]
    private(set) var connections: [Connection] = []
    private var idempotent: [String: (fingerprint: String, status: Int, body: JSONValue)] = [:]
    private var arrivals: [String: [Date]] = [:]
    private var appArrivals: [String: [Date]] = [:]
    private var inFlight: [String: Int] = [:]
    private var pendingEvents: [XeroWebhookEvent] = []
    private var held: [CheckedContinuation<Void, Never>] = []
    private var holding = false

    /// Requests refused for going over a limit the client should have kept to (minute, day, concurrent, app minute).
    public private(set) var limitViolations = 0
    /// API requests answered, by tenant id.
    public private(set) var requestCounts: [String: Int] = [:]
    /// While set, every API call answers 503 (the organisation offline for maintenance).
    public private(set) var maintenance = false
    /// How long every API answer is held back (a slow Xero).
    public private(set) var responseDelay: Duration = .zero
    /// API writes still to be made and then left unanswered, the connection dropped.
    public private(set) var droppedAnswers = 0
    /// API calls still to be answered 429 whatever their rate (Xero's doing, not a violation).
    public private(set) var injectedThrottles = 0
    /// The limit those 429s name (`X-Rate-Limit-Problem`) and the `Retry-After` they give.
    private var injectedProblem = (name: "minute", retryAfter: 1)
    /// Refresh-token grants answered with a new pair.
    public private(set) var refreshGrants = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The emulator's clock: real time plus every `advance(by:)`.
    public var now: Date { Date().addingTimeInterval(offset) }

    /// Moves the emulator's clock on (tokens expire, rolling limit windows move).
    public func advance(by seconds: TimeInterval) { offset += seconds }

    public func setMaintenance(_ on: Bool) { maintenance = on }

    /// Holds every API answer back by `delay`.
    public func setResponseDelay(_ delay: Duration) { responseDelay = delay }

    /// The next `count` API writes are made, and their connections dropped before any answer.
    public func dropAnswers(_ count: Int) { droppedAnswers = count }

    /// The next `count` API calls are answered 429 whatever their rate, as when the app's budget for the organisation
    /// was spent elsewhere (another install of the app): `X-Rate-Limit-Problem: problem` (`minute`, `day`) with
    /// `Retry-After: retryAfter` seconds (at least 1).
    public func throttle(next count: Int, problem: String = "minute", retryAfter: Int = 1) {
        injectedThrottles = count
        injectedProblem = (problem, min(max(retryAfter, 1), 86_400))
    }

    /// From now on, admitted API calls wait before answering until `releaseAnswers()`: requests stay in flight, so
    /// tests can reach the concurrency limit without timing.
    public func holdAnswers() { holding = true }

    /// Lets every held answer go, and stops holding.
    public func releaseAnswers() {
        holding = false
        for waiting in held { waiting.resume() }
        held = []
    }

    /// API calls admitted and not yet answered, across organisations.
    public var requestsInFlight: Int { inFlight.values.reduce(0, +) }

    func waitIfHeld() async {
        guard holding else { return }
        await withCheckedContinuation { held.append($0) }
    }

    func takeDroppedAnswer() -> Bool {
        guard droppedAnswers > 0 else { return false }
        droppedAnswers -= 1
        return true
    }

    // MARK: Apps and organisations

    /// An app (OAuth client) Xero accepts: an authorize request must name one of `redirectURIs` exactly.
    /// `name` is the app's name on the consent page and the answers' `ProviderName`.
    public func registerClient(id: String, secret: String, redirectURIs: [String], name: String = "Ledgerwire") {
        clients[id] = Client(secret: secret, redirectURIs: redirectURIs, name: name)
    }

    /// A new organisation with its starting chart of accounts, its country's tax rates and its base currency.
    /// - Returns: its tenant id (a UUID).
    @discardableResult
    public func addOrganisation(name: String, baseCurrency: String = "GBP", countryCode: String = "GB") -> String {
        let tenantID = UUID().uuidString.lowercased()
        organisations[tenantID] = XeroOrganisation(
            tenantID: tenantID, name: name, baseCurrency: baseCurrency, countryCode: countryCode, now: now)
        organisationOrder.append(tenantID)
        return tenantID
    }

    /// Adds a currency to the organisation, with the rate Xero holds for it (units of it for one base-currency
    /// unit, as Xero's `CurrencyRate` is): an invoice in it without `CurrencyRate` gets that rate.
    public func addCurrency(tenantID: String, code: String, rate: Decimal) {
        organisations[tenantID]?.addCurrency(code, rate: rate, now: now)
    }

    /// Adds a tax rate to the organisation as a person does in Xero's settings (one component at `percent`).
    /// - Returns: its `TaxType`, which Xero names `TAX001`, `TAX002`, …; `nil` for an unknown organisation.
    @discardableResult
    public func addTaxRate(tenantID: String, name: String, percent: Decimal) -> String? {
        guard organisations[tenantID] != nil else { return nil }
        let time = now
        return organisations[tenantID]?.addTaxRate(name: name, components: [(name, percent)], now: time)
    }

    /// The organisation's objects of one collection (`"Invoices"`, `"Contacts"`, …), oldest first.
    public func objects(tenantID: String, collection: String) -> [[String: JSONValue]] {
        organisations[tenantID]?.all(collection) ?? []
    }

    /// How many objects of one collection the organisation holds (voided and deleted ones included).
    public func count(tenantID: String, collection: String) -> Int {
        organisations[tenantID]?.all(collection).count ?? 0
    }

    /// The webhook events of every change since the last call, oldest first, and forgets them.
    public func takeWebhookEvents() -> [XeroWebhookEvent] {
        defer { pendingEvents = [] }
        return pendingEvents
    }

    // MARK: A person in Xero

    /// A person enters a payment against an invoice into bank account `accountCode` (090 unless said).
    /// - Returns: the payment's id, or `nil` when Xero would refuse it (the invoice unknown, overpaid, …).
    @discardableResult
    public func enterPayment(
        tenantID: String, invoiceID: String, amount: Decimal, accountCode: String = "090", date: String? = nil
    ) -> String? {
        let day = date ?? String(XeroOrganisation.day(now))
        let input: [String: JSONValue] = [
            "Invoice": ["InvoiceID": .string(invoiceID)], "Account": ["Code": .string(accountCode)],
            "Amount": .number(NSDecimalNumber(decimal: amount).stringValue), "Date": .string(day),
        ]
        let object = try? change(tenantID: tenantID) { organisation, now throws(XeroValidation) in
            try organisation.createPayment(input, now: now)
        }
        return object?["PaymentID"]?.stringValue
    }

    /// A person replaces an invoice's lines (the totals computed again).
    /// - Returns: whether Xero took the change.
    @discardableResult
    public func editInvoiceLines(tenantID: String, invoiceID: String, lines: [[String: JSONValue]]) -> Bool {
        let input: [String: JSONValue] = ["LineItems": .array(lines.map(JSONValue.object))]
        return
            (try? change(tenantID: tenantID) { organisation, now throws(XeroValidation) in
                try organisation.saveInvoice(input, id: invoiceID, mode: .update, now: now)
            }) != nil
    }

    /// A person voids an invoice (`VOIDED`; a draft is `DELETED`).
    /// - Returns: whether Xero took the change (not with payments on it).
    @discardableResult
    public func voidInvoice(tenantID: String, invoiceID: String) -> Bool {
        (try? change(tenantID: tenantID) { organisation, now throws(XeroValidation) in
            let status = organisation.records["Invoices"]?[invoiceID]?["Status"]?.stringValue
            let target: JSONValue = status == "AUTHORISED" || status == "PAID" ? "VOIDED" : "DELETED"
            return try organisation.saveInvoice(["Status": target], id: invoiceID, mode: .update, now: now)
        }) != nil
    }

    /// Runs one change on an organisation, keeping it and its webhook events only when it succeeds.
    func change<T>(
        tenantID: String, _ body: (inout XeroOrganisation, Date) throws(XeroValidation) -> T
    ) throws(XeroValidation) -> T {
        guard var organisation = organisations[tenantID] else { throw XeroValidation("Organisation not found") }
        let result = try body(&organisation, now)
        commit(organisation)
        return result
    }

    /// Stores an organisation changed on a copy, moving its new events to the sender's queue.
    func commit(_ organisation: XeroOrganisation) {
        var organisation = organisation
        pendingEvents += organisation.events
        organisation.events = []
        organisations[organisation.tenantID] = organisation
    }

    // MARK: Identity

    func client(_ id: String) -> Client? { clients[id] }

    /// The organisations the person consenting may grant, as the consent page lists them.
    func consentOrganisations() -> [(tenantID: String, name: String)] {
        organisationOrder.compactMap { id in organisations[id].map { (id, $0.name) } }
    }

    /// A consent granting `tenants` to the app: its single-use code (valid five minutes).
    func authorize(clientID: String, redirectURI: String, scopes: [String], tenants: [String]) -> String {
        let consent = Consent(
            clientID: clientID, authEventID: UUID().uuidString.lowercased(), scopes: scopes, redirectURI: redirectURI)
        let code = Self.randomToken("")
        codes[code] = (consent, tenants, now + 300)
        return code
    }

    enum TokenAnswer {
        case tokens(access: String, refresh: String?, scopes: [String])
        case error(status: Int, code: String)
    }

    func token(clientID: String, secret: String, form: [String: String]) -> TokenAnswer {
        guard let client = clients[clientID], XeroOrganisation.constantTimeEqual(client.secret, secret) else {
            return .error(status: 400, code: "invalid_client")
        }
        switch form["grant_type"] {
        case "authorization_code":
            guard let code = form["code"], let grant = codes.removeValue(forKey: code),
                grant.consent.clientID == clientID, grant.expires > now,
                grant.consent.redirectURI == form["redirect_uri"]
            else { return .error(status: 400, code: "invalid_grant") }
            for tenant in grant.tenants {
                connections.removeAll { $0.clientID == clientID && $0.tenantID == tenant }
                connections.append(
                    Connection(
                        id: UUID().uuidString.lowercased(), clientID: clientID, authEventID: grant.consent.authEventID,
                        tenantID: tenant, created: now))
            }
            let (access, refresh) = mint(grant.consent)
            return .tokens(access: access, refresh: refresh, scopes: grant.consent.scopes)
        case "refresh_token":
            guard let presented = form["refresh_token"], var record = refreshTokens[presented],
                record.clientID == clientID
            else { return .error(status: 400, code: "invalid_grant") }
            if let rotated = record.rotated {
                guard now < rotated.at + refreshGrace else { return .error(status: 400, code: "invalid_grant") }
                return .tokens(access: rotated.access, refresh: rotated.refresh, scopes: record.scopes)
            }
            guard record.expires > now else { return .error(status: 400, code: "invalid_grant") }
            let consent = Consent(
                clientID: clientID, authEventID: record.authEventID, scopes: record.scopes, redirectURI: "")
            let (access, refresh) = mint(consent)
            record.rotated = (access, refresh ?? "", now)
            refreshTokens[presented] = record
            refreshGrants += 1
            return .tokens(access: access, refresh: refresh, scopes: record.scopes)
        default:
            return .error(status: 400, code: "unsupported_grant_type")
        }
    }

    /// `POST /connect/revocation`: the refresh token and every token of its consent stop working, and the
    /// connections that consent made are removed.
    func revoke(clientID: String, secret: String, token: String) -> Bool {
        guard let client = clients[clientID], XeroOrganisation.constantTimeEqual(client.secret, secret) else {
            return false
        }
        guard let record = refreshTokens[token], record.clientID == clientID else { return true }
        let event = record.authEventID
        refreshTokens = refreshTokens.filter { $0.value.authEventID != event }
        accessTokens = accessTokens.filter { $0.value.authEventID != event }
        connections.removeAll { $0.authEventID == event }
        return true
    }

    enum Bearer {
        case valid(AccessToken)
        case expired(Date)
        case invalid
    }

    func bearer(_ token: String?) -> Bearer {
        guard let token, let record = accessTokens[token] else { return .invalid }
        guard record.expires > now else { return .expired(record.expires) }
        return .valid(record)
    }

    func connections(clientID: String, authEventID: String?) -> [Connection] {
        connections.filter { $0.clientID == clientID && (authEventID == nil || $0.authEventID == authEventID) }
    }

    /// `DELETE /connections/{id}`: whether the app had that connection (it is gone now).
    func disconnect(clientID: String, connectionID: String) -> Bool {
        guard connections.contains(where: { $0.id == connectionID && $0.clientID == clientID }) else { return false }
        connections.removeAll { $0.id == connectionID }
        return true
    }

    func tenantName(_ tenantID: String) -> String { organisations[tenantID]?.name ?? "" }

    /// Gives an app tokens and a connection to `tenantIDs` directly, as if the consent had happened.
    public func issueTokens(clientID: String, tenantIDs: [String]) -> (access: String, refresh: String) {
        let code = authorize(
            clientID: clientID, redirectURI: "", scopes: Self.scopes.sorted(), tenants: tenantIDs)
        guard
            case .tokens(let access, let refresh, _) = token(
                clientID: clientID, secret: clients[clientID]?.secret ?? "",
                form: ["grant_type": "authorization_code", "code": code, "redirect_uri": ""])
        else { return ("", "") }
        return (access, refresh ?? "")
    }

    private func mint(_ consent: Consent) -> (String, String?) {
        let expires = now + accessTokenLifetime
        let access = Self.accessToken(consent: consent, expires: expires)
        accessTokens[access] = AccessToken(
            clientID: consent.clientID, authEventID: consent.authEventID, expires: expires)
        guard consent.scopes.contains("offline_access") else { return (access, nil) }
        let refresh = Self.randomToken("")
        refreshTokens[refresh] = RefreshToken(
            clientID: consent.clientID, authEventID: consent.authEventID, scopes: consent.scopes,
            expires: now + refreshTokenLifetime)
        return (access, refresh)
    }

    /// An access token shaped as Xero's (a JWT whose payload names the app, the consent's
    /// `authentication_event_id`, the scopes and `exp`); its signature is random, the emulator keeps the token.
    static func accessToken(consent: Consent, expires: Date) -> String {
        let header: JSONValue = ["alg": "RS256", "typ": "JWT"]
        let payload: JSONValue = [
            "client_id": .string(consent.clientID), "authentication_event_id": .string(consent.authEventID),
            "xero_userid": "6d5f5e0c-8c0f-4d3c-9d7e-3c1c8f3f0a11",
            "scope": .array(consent.scopes.map(JSONValue.string)),
            "exp": .number(String(Int64(expires.timeIntervalSince1970))), "jti": .string(randomToken("")),
        ]
        let encode = { (value: JSONValue) in
            Data(value.canonicalString.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return encode(header) + "." + encode(payload) + "." + randomToken("")
    }

    /// The scopes Xero knows (platforms.md §2.2).
    static let scopes: Set<String> = [
        "openid", "profile", "email", "offline_access", "accounting.transactions", "accounting.transactions.read",
        "accounting.contacts", "accounting.contacts.read", "accounting.settings", "accounting.settings.read",
        "accounting.reports.read", "accounting.journals.read", "accounting.attachments",
        "accounting.attachments.read", "accounting.budgets.read", "paymentservices",
    ]

    // MARK: Limits

    enum Admission {
        /// Admitted: what is left of the limits, and the (app, organisation) key `finish(key:)` releases.
        case admitted(remaining: Remaining, key: String)
        case refused(status: Int, body: JSONValue, problem: String?, retryAfter: Int?, remaining: Remaining?)
    }

    struct Remaining {
        var day: Int
        var minute: Int
        var appMinute: Int
    }

    /// Authenticates a call, checks its tenant, and counts it against the limits (one beyond them is a violation).
    func admit(bearer header: String?, tenantID: String?) -> Admission {
        let token: AccessToken
        switch bearer(header) {
        case .invalid:
            return .refused(
                status: 401, body: Self.problem(401, "Unauthorized", "AuthenticationUnsuccessful"), problem: nil,
                retryAfter: nil, remaining: nil)
        case .expired(let at):
            return .refused(
                status: 401,
                body: Self.problem(401, "Unauthorized", "TokenExpired: token expired at \(Self.expiryText(at))"),
                problem: nil, retryAfter: nil, remaining: nil)
        case .valid(let valid):
            token = valid
        }
        guard let tenantID, organisations[tenantID] != nil,
            connections.contains(where: { $0.clientID == token.clientID && $0.tenantID == tenantID })
        else {
            return .refused(
                status: 403, body: Self.problem(403, "Forbidden", "AuthenticationUnsuccessful"), problem: nil,
                retryAfter: nil, remaining: nil)
        }
        let key = "\(token.clientID) \(tenantID)"
        let minuteAgo = now - 60
        let dayAgo = now - 86_400
        var recent = arrivals[key, default: []].filter { $0 > dayAgo }
        let appRecent = appArrivals[token.clientID, default: []].filter { $0 > minuteAgo }
        let lastMinute = recent.filter { $0 > minuteAgo }
        var remaining = Remaining(
            day: limits.requestsPerDay - recent.count, minute: limits.requestsPerMinute - lastMinute.count,
            appMinute: limits.appRequestsPerMinute - appRecent.count)
        arrivals[key] = recent
        appArrivals[token.clientID] = appRecent
        if maintenance {
            return .refused(
                status: 503, body: Self.problem(503, "Service Unavailable", "The organisation is offline"),
                problem: nil, retryAfter: nil, remaining: remaining)
        }
        if injectedThrottles > 0 {
            injectedThrottles -= 1
            // The budget the 429 names is spent, and its header says so.
            if injectedProblem.name == "day" { remaining.day = 0 }
            if injectedProblem.name == "minute" { remaining.minute = 0 }
            return .refused(
                status: 429, body: Self.problem(429, "Too Many Requests", "Rate limit exceeded"),
                problem: injectedProblem.name, retryAfter: injectedProblem.retryAfter, remaining: remaining)
        }
        let over: (problem: String, retryAfter: Int)?
        if inFlight[key, default: 0] >= limits.concurrentRequests {
            over = ("concurrent", 1)
        } else if remaining.appMinute <= 0 {
            over = ("appminute", Self.secondsUntil(appRecent.first, window: 60, now: now))
        } else if remaining.minute <= 0 {
            over = ("minute", Self.secondsUntil(lastMinute.first, window: 60, now: now))
        } else if remaining.day <= 0 {
            over = ("day", Self.secondsUntil(recent.first, window: 86_400, now: now))
        } else {
            over = nil
        }
        if let over {
            limitViolations += 1
            return .refused(
                status: 429, body: Self.problem(429, "Too Many Requests", "Rate limit exceeded"),
                problem: over.problem, retryAfter: over.retryAfter, remaining: remaining)
        }
        recent.append(now)
        arrivals[key] = recent
        appArrivals[token.clientID, default: []].append(now)
        remaining.day -= 1
        remaining.minute -= 1
        remaining.appMinute -= 1
        inFlight[key, default: 0] += 1
        requestCounts[tenantID, default: 0] += 1
        return .admitted(remaining: remaining, key: key)
    }

    /// An admitted call answered (by its key, so a token revoked meanwhile still releases its place).
    func finish(key: String) { inFlight[key, default: 1] -= 1 }

    func providerName(bearer header: String?) -> String {
        header.flatMap { accessTokens[$0] }.flatMap { clients[$0.clientID]?.name } ?? "Ledgerwire"
    }

    // MARK: Idempotency

    /// The answer stored for `key` of this app and organisation: `.replay` for the same request, `.conflict` for
    /// another request under the same key.
    enum Idempotency {
        case fresh
        case replay(status: Int, body: JSONValue)
        case conflict
    }

    func idempotency(scope: String, key: String, fingerprint: String) -> Idempotency {
        guard let stored = idempotent["\(scope) \(key)"] else { return .fresh }
        guard stored.fingerprint == fingerprint else { return .conflict }
        return .replay(status: stored.status, body: stored.body)
    }

    func rememberIdempotent(scope: String, key: String, fingerprint: String, status: Int, body: JSONValue) {
        idempotent["\(scope) \(key)"] = (fingerprint, status, body)
    }

    // MARK: Helpers

    static func secondsUntil(_ oldest: Date?, window: TimeInterval, now: Date) -> Int {
        guard let oldest else { return 1 }
        let seconds = (oldest + window).timeIntervalSince(now)
        guard seconds.isFinite, seconds > 0 else { return 1 }
        return Int(min(seconds.rounded(.up), 86_400))
    }

    /// Xero's problem-details body (401, 403, 404, 429, 503).
    static func problem(_ status: Int, _ title: String, _ detail: String) -> JSONValue {
        [
            "Type": nil, "Title": .string(title), "Status": .number(String(status)), "Detail": .string(detail),
            "Instance": .string(UUID().uuidString.lowercased()), "Extensions": [:],
        ]
    }

    /// The expiry in `TokenExpired: token expired at 04/09/2023 05:16:59`.
    static func expiryText(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "MM/dd/yyyy HH:mm:ss"
        return formatter.string(from: date)
    }

    static func randomToken(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return prefix + String((0..<43).map { _ in characters[Int(generator.next() % UInt64(characters.count))] })
    }
}

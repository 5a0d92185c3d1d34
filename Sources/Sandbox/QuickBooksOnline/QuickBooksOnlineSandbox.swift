public import Accounting
public import Foundation

/// The QuickBooks Online emulator's state: companies, OAuth clients and tokens, `requestid` replies, and the
/// per-realm limits with a count of every request refused for going over them.
///
/// Its own clock (real time plus `advance(by:)`) lets tests expire tokens without waiting an hour.
public actor QuickBooksOnlineSandbox {
    public struct Limits: Sendable {
        public var requestsPerMinute = 500
        public var concurrentRequests = 10
        public var batchesPerMinute = 40
        public init() {}
    }

    struct Grant {
        let clientID: String
        let realmID: String
        let redirectURI: String
        let expires: Date
    }

    struct Token {
        let clientID: String
        let realmID: String
        let expires: Date
    }

    public let limits: Limits
    public let accessTokenLifetime: TimeInterval
    public let refreshTokenLifetime: TimeInterval
    private var offset: TimeInterval = 0
    private(set) var companies: [String: QBOCompany] = [:]
    private var clients: [String: String] = [:]
    /// Each app's name, as its consent page shows it.
    private var appNames: [String: String] = [:]
    /// Each app's registered redirect URIs; an app registered with none accepts loopback `http` ones.
    private var redirectURIs: [String: [String]] = [:]
    private var codes: [String: Grant] = [:]
    private var accessTokens: [String: Token] = [:]
    private var refreshTokens: [String: Token] = [:]
    /// Refresh tokens already exchanged: `invalid_grant` when used again.
    private var spentRefreshTokens: Set<String> = []
    private var replies: [String: (status: Int, body: JSONValue)] = [:]
    private var arrivals: [String: [Date]] = [:]
    private var batchArrivals: [String: [Date]] = [:]
    private var inFlight: [String: Int] = [:]
    /// Requests refused for going over a limit (requests a minute, concurrency, batches a minute).
    public private(set) var limitViolations = 0
    /// Requests answered, by realm.
    public private(set) var requestCounts: [String: Int] = [:]
    /// Batch requests answered, by realm (each also counted in `requestCounts`).
    public private(set) var batchCounts: [String: Int] = [:]
    /// While set, every API call answers 503 (a maintenance window).
    public private(set) var maintenance = false
    /// How long every API answer is held back (a slow QuickBooks).
    public private(set) var responseDelay: Duration = .zero
    /// API writes still to be done and then left unanswered, the connection dropped (the client cannot know).
    public private(set) var droppedAnswers = 0
    public private(set) var injectedThrottles = 0
    /// Refresh-token grants answered with new tokens.
    public private(set) var refreshGrants = 0
    /// The company the consent page offers first, and a consent that names none connects to.
    public private(set) var consentRealmID = "9341453474484455"
    /// Webhook notifications not yet sent, by realm, oldest first.
    var pendingNotifications: [String: [QuickBooksWebhookSender.Notification]] = [:]

    public init(
        limits: Limits = Limits(), accessTokenLifetime: TimeInterval = 3600,
        refreshTokenLifetime: TimeInterval = 100 * 86_400
    ) {
        self.limits = limits
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
    }

    public var now: Date { Date().addingTimeInterval(offset) }

    /// Moves the emulator's clock on (tokens expire, CDC windows move).
    public func advance(by seconds: TimeInterval) { offset += seconds }

    public func setMaintenance(_ on: Bool) { maintenance = on }

    /// The next `count` API calls are answered 429 `ThrottleExceeded` whatever their rate (the realm's limits spent
    /// by another app): QuickBooks' doing, not a violation by the client.
    public func throttle(next count: Int) { injectedThrottles = count }

    /// Holds every API answer back by `delay`.
    public func setResponseDelay(_ delay: Duration) { responseDelay = delay }

    /// The next `count` API writes are made, and their connections dropped before any answer.
    public func dropAnswers(_ count: Int) { droppedAnswers = count }

    /// Whether this write's answer is to be dropped (counting it).
    func takeDroppedAnswer() -> Bool {
        guard droppedAnswers > 0 else { return false }
        droppedAnswers -= 1
        return true
    }

    /// Webhook notifications for every change since the last call, by realm, and forgets them (the sender's
    /// queue).
    public func takeNotifications() -> [String: [QuickBooksWebhookSender.Notification]] {
        defer { pendingNotifications = [:] }
        return pendingNotifications
    }

    /// An OAuth client (app) the emulator accepts, with the redirect URIs listed on its keys tab: an authorize
    /// request must name one of them exactly. With none listed, any loopback `http` URI is accepted
    /// (`http://127.0.0.1…`, `http://localhost…`, `http://[::1]…`), as Intuit's development keys allow localhost.
    /// `name` is the app's name on its consent page (its client id when `nil`).
    public func registerClient(id: String, secret: String, redirectURIs: [String] = [], name: String? = nil) {
        clients[id] = secret
        self.redirectURIs[id] = redirectURIs
        appNames[id] = name
    }

    func knowsClient(_ clientID: String) -> Bool { clients[clientID] != nil }

    /// The app's name as its consent page shows it.
    func appName(clientID: String) -> String { appNames[clientID] ?? clientID }

    /// The companies the person consenting may connect, the consent realm first, then by realm id: every company
    /// the emulator holds (the sandbox's user is in all of them).
    func consentCompanies() -> [String] {
        [consentRealmID] + companies.keys.filter { $0 != consentRealmID }.sorted()
    }

    /// Whether `uri` is registered for the app (or, for an app with none listed, is a loopback `http` URI).
    func redirectAllowed(clientID: String, uri: String) -> Bool {
        let listed = redirectURIs[clientID] ?? []
        guard listed.isEmpty else { return listed.contains(uri) }
        guard let components = URLComponents(string: uri), components.scheme == "http", components.fragment == nil
        else { return false }
        return ["127.0.0.1", "localhost", "::1", "[::1]"].contains(components.host ?? "")
    }

    /// The scopes an app may ask for (platforms.md §1.2, `intuitlib/enums.py`).
    static let scopes: Set<String> = [
        "com.intuit.quickbooks.accounting", "com.intuit.quickbooks.payment", "openid", "profile", "email", "phone",
        "address",
    ]

    /// The consent page offers `realmID` first (created if new), and consents that name no company connect to it.
    public func setConsentRealm(_ realmID: String) {
        addCompany(realmID: realmID)
        consentRealmID = realmID
    }

    /// A company of `country` (India unless said), created with its starting chart of accounts, items, and the
    /// country's tax codes and rates; an existing company is left as it is.
    @discardableResult
    public func addCompany(realmID: String, country: QuickBooksCountry = .india) -> String {
        if companies[realmID] == nil { companies[realmID] = QBOCompany(realmID: realmID, country: country, now: now) }
        return realmID
    }

    /// The company wiped and started again with its starting chart, as QuickBooks' "reset company" of a sandbox
    /// company does: every transaction and customer gone, the connection (its tokens) kept, its preferences back
    /// to a new company's. Answers stored for `requestid`s go with it. With `country`, the company is started
    /// again as a company of that country (its home currency, tax codes and rates).
    public func resetCompany(realmID: String, country: QuickBooksCountry? = nil) {
        guard let company = companies[realmID] else { return }
        companies[realmID] = QBOCompany(realmID: realmID, country: country ?? company.country, now: now)
        replies = replies.filter { !$0.key.hasPrefix("\(realmID) ") }
    }

    /// The company's country (`nil` for a company the emulator does not hold).
    public func country(realmID: String) -> QuickBooksCountry? { companies[realmID]?.country }

    /// Switches `Preferences.SalesFormsPrefs.CustomTxnNumbers` (off in a new company): on, a second invoice,
    /// credit memo or refund receipt with a `DocNumber` already used is refused with Fault 6140 (unless the request
    /// says `include=allowduplicatedocnum`); off, a `DocNumber` is stored as sent, a duplicate too.
    public func setCustomTransactionNumbers(realmID: String, _ on: Bool) {
        companies[realmID]?.customTransactionNumbers = on
    }

    /// Turns multicurrency on (`Preferences.CurrencyPrefs.MultiCurrencyEnabled`; QuickBooks cannot turn it off
    /// again) and adds `rates`' currencies to the company's list, each with the rate QuickBooks holds for it: how
    /// many home-currency units one unit is worth (GBP 110.25 in an INR company). A transaction in one of them
    /// without `ExchangeRate` gets that rate.
    public func enableMulticurrency(realmID: String, rates: [String: Decimal] = [:]) {
        companies[realmID]?.multicurrencyEnabled = true
        for (currency, rate) in rates where currency != companies[realmID]?.homeCurrency {
            companies[realmID]?.exchangeRates[currency] = rate
        }
    }

    /// The company's `Preferences`, as `GET /preferences` answers them.
    public func preferences(realmID: String) -> [String: JSONValue]? {
        companies[realmID]?.preferences
    }

    /// The company's objects of one type (for tests and the CLI's summary).
    public func objects(realmID: String, entity: String) -> [[String: JSONValue]] {
        companies[realmID]?.all(entity) ?? []
    }

    /// How many objects of one type the company holds (voided ones included, deleted ones not).
    public func count(realmID: String, entity: String) -> Int {
        companies[realmID]?.entities[entity]?.count ?? 0
    }

    /// Gives a valid access token for a realm directly, as if the OAuth dance had happened.
    public func issueTokens(clientID: String, realmID: String) -> (access: String, refresh: String) {
        addCompany(realmID: realmID)
        return mintTokens(clientID: clientID, realmID: realmID)
    }

    // MARK: OAuth

    /// A consent to `chosen` (or the consent realm), created if new: its authorization code and the company it
    /// connects.
    func authorize(clientID: String, redirectURI: String, realmID chosen: String?) -> (code: String, realmID: String)? {
        guard clients[clientID] != nil else { return nil }
        let realmID = chosen ?? consentRealmID
        addCompany(realmID: realmID)
        let code = Self.randomToken("AB")
        codes[code] = Grant(clientID: clientID, realmID: realmID, redirectURI: redirectURI, expires: now + 600)
        return (code, realmID)
    }

    enum TokenAnswer {
        case tokens(access: String, refresh: String, realmID: String)
        case error(status: Int, code: String)
    }

    func token(
        clientID: String, secret: String, grantType: String, code: String?, redirectURI: String?,
        refreshToken: String?
    ) -> TokenAnswer {
        guard let expected = clients[clientID], Self.constantTimeEqual(expected, secret) else {
            return .error(status: 401, code: "invalid_client")
        }
        switch grantType {
        case "authorization_code":
            guard let code, let grant = codes.removeValue(forKey: code), grant.clientID == clientID,
                grant.expires > now, grant.redirectURI == redirectURI
            else { return .error(status: 400, code: "invalid_grant") }
            let (access, refresh) = mintTokens(clientID: clientID, realmID: grant.realmID)
            return .tokens(access: access, refresh: refresh, realmID: grant.realmID)
        case "refresh_token":
            guard let refreshToken, !spentRefreshTokens.contains(refreshToken),
                let token = refreshTokens.removeValue(forKey: refreshToken), token.clientID == clientID,
                token.expires > now
            else { return .error(status: 400, code: "invalid_grant") }
            spentRefreshTokens.insert(refreshToken)
            refreshGrants += 1
            let (access, refresh) = mintTokens(clientID: clientID, realmID: token.realmID)
            return .tokens(access: access, refresh: refresh, realmID: token.realmID)
        default:
            return .error(status: 400, code: "unsupported_grant_type")
        }
    }

    /// Tokens revoked through the revocation endpoint.
    public private(set) var revocations = 0

    /// How many refresh tokens of `realmID` still work: a grant an app holds until it is revoked or refused.
    public func liveGrants(realmID: String) -> Int {
        refreshTokens.values.filter { $0.realmID == realmID && $0.expires > now }.count
    }

    /// Whether an app's id and secret are the ones registered (the revocation endpoint authenticates the app, as
    /// the token endpoint does).
    func clientAuthenticates(clientID: String, secret: String) -> Bool {
        guard let expected = clients[clientID] else { return false }
        return Self.constantTimeEqual(expected, secret)
    }

    /// Revoking either token disconnects the app from the company: both stop working.
    func revoke(token: String) {
        let realm = accessTokens[token]?.realmID ?? refreshTokens[token]?.realmID
        guard let realm else { return }
        revocations += 1
        accessTokens = accessTokens.filter { $0.value.realmID != realm }
        refreshTokens = refreshTokens.filter { $0.value.realmID != realm }
    }

    /// The company's owner disconnects the app in QuickBooks: every token for the realm stops working.
    public func disconnect(realmID: String) {
        accessTokens = accessTokens.filter { $0.value.realmID != realmID }
        refreshTokens = refreshTokens.filter { $0.value.realmID != realmID }
    }

    private func mintTokens(clientID: String, realmID: String) -> (String, String) {
        let access = Self.randomToken("eyJ")
        let refresh = Self.randomToken("AB11")
        accessTokens[access] = Token(clientID: clientID, realmID: realmID, expires: now + accessTokenLifetime)
        refreshTokens[refresh] = Token(clientID: clientID, realmID: realmID, expires: now + refreshTokenLifetime)
        return (access, refresh)
    }

    // MARK: API calls

    enum Admission {
        case admitted
        case refused(status: Int, body: JSONValue)
    }

    /// Authenticates a call and counts it against the realm's limits (a refused one is a limit violation).
    func admit(realmID: String, bearer: String?, batch: Bool) -> Admission {
        let time = QBOCompany.time(now)
        guard let bearer, let token = accessTokens[bearer], token.realmID == realmID else {
            return .refused(
                status: 401,
                body: gatewayUnauthorizedBody(
                    detail: "Token invalid or not authorized for this realm", epochMillis: epochMillis))
        }
        guard token.expires > now else {
            return .refused(
                status: 401, body: gatewayUnauthorizedBody(detail: "Token expired", epochMillis: epochMillis))
        }
        guard companies[realmID] != nil else {
            return .refused(status: 400, body: QBOFault.notFound("Company", realmID).body(time: time))
        }
        if maintenance { return .refused(status: 503, body: QBOFault.maintenance.body(time: time)) }
        if injectedThrottles > 0 {
            injectedThrottles -= 1
            return .refused(status: 429, body: QBOFault.throttled.body(time: time))
        }
        let minuteAgo = now - 60
        var recent = arrivals[realmID, default: []].filter { $0 > minuteAgo }
        var recentBatches = batchArrivals[realmID, default: []].filter { $0 > minuteAgo }
        let overRate = recent.count >= limits.requestsPerMinute
        let overConcurrency = inFlight[realmID, default: 0] >= limits.concurrentRequests
        let overBatches = batch && recentBatches.count >= limits.batchesPerMinute
        recent.append(now)
        arrivals[realmID] = recent
        if batch {
            recentBatches.append(now)
            batchArrivals[realmID] = recentBatches
        }
        if overRate || overConcurrency || overBatches {
            limitViolations += 1
            return .refused(status: 429, body: QBOFault.throttled.body(time: time))
        }
        inFlight[realmID, default: 0] += 1
        requestCounts[realmID, default: 0] += 1
        if batch { batchCounts[realmID, default: 0] += 1 }
        return .admitted
    }

    func finish(realmID: String) { inFlight[realmID, default: 1] -= 1 }

    /// The stored answer to an earlier request of the same operation with the same `requestid`, if any.
    func reply(realmID: String, requestID: String?, operation: String) -> (status: Int, body: JSONValue)? {
        guard let requestID else { return nil }
        return replies["\(realmID) \(requestID) \(operation)"]
    }

    func remember(realmID: String, requestID: String?, operation: String, status: Int, body: JSONValue) {
        guard let requestID else { return }
        replies["\(realmID) \(requestID) \(operation)"] = (status, body)
    }

    /// Runs one operation on a company, returning its answer (a Fault for what QuickBooks refuses).
    func perform<T: Sendable>(
        realmID: String, _ operation: @Sendable (inout QBOCompany, Date) throws(QBOFault) -> T
    ) throws(QBOFault) -> T {
        guard var company = companies[realmID] else { throw .notFound("Company", realmID) }
        let before = company.changes.count
        let result = try operation(&company, now)
        for change in company.changes[before...] {
            pendingNotifications[realmID, default: []].append(
                .init(entity: change.entity, id: change.id, operation: change.operation, lastUpdated: change.at))
        }
        companies[realmID] = company
        return result
    }

    var epochMillis: Int64 { Int64(now.timeIntervalSince1970 * 1000) }

    static func randomToken(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return prefix + String((0..<40).map { _ in characters[Int(generator.next() % UInt64(characters.count))] })
    }

    static func constantTimeEqual(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

public import Accounting
public import Foundation
public import Logging

/// A platform adapter: everything the sync engine asks of an accounting platform.
///
/// One value per platform, stateless; what varies per integration (settings, credentials, limits) comes in the
/// `ConnectorContext`. Every call may throw a `ConnectorError` saying how the engine should react; any other error
/// is taken as a network failure (retryable).
public protocol Connector: Sendable {
    var platform: Platform { get }
    var capabilities: ConnectorCapabilities { get }

    /// Creates, updates or voids the record in the platform. Must be idempotent under `request.idempotencyKey`:
    /// the same key may come again after a timeout or a worker's crash, and must not make a second write.
    func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult

    /// Several pushes of one integration in as few calls as the platform allows (up to
    /// `capabilities.maximumBatchSize` each): one result per request, in order. A thrown error is every request's.
    func push(batch requests: [PushRequest], context: ConnectorContext) async throws -> [Result<
        PushResult, ConnectorError
    >]

    /// For each create in `requests`, the records already in the books it could be, best first: one made by hand
    /// before Ledgerwire (a customer of the same name), or this create's own write from an earlier attempt whose
    /// outcome is unknown (an invoice with billing's number, a payment with Ledgerwire's marker). One list per
    /// request, in order, found with as few calls as the platform allows.
    ///
    /// The engine asks before a create of a type in `capabilities.adoptsExisting`, and before any create that is
    /// not its first attempt; it adopts the first match not linked to another billing record (`Adoption`), and
    /// names the others in `PushRequest.notAdoptable`. The default finds nothing: for a platform whose own
    /// idempotency keys make a resent create safe.
    func find(matching requests: [PushRequest], context: ConnectorContext) async throws -> [[RemoteMatch]]

    /// The platform's current copy of one record, or `nil` when it no longer exists.
    func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord?

    /// Records of `recordType` in the books that a person's `text` names — the platform's id, a document number, a
    /// customer's name — for linking billing's record to one by hand: at most `limit`, best first, deleted ones left
    /// out. The default reads `text` as the platform's id (`pull`).
    func search(recordType: RecordType, for text: String, limit: Int, context: ConnectorContext) async throws
        -> [RemoteRecord]

    /// Which of `remoteIDs` (records of one type) the platform still holds: a full sync checks its links with it, and
    /// pushes again what the books lost (a company reset, records deleted there). Asked with at most a sync page of
    /// ids at a time; a connector makes as few calls as its platform allows (QuickBooks: one query per 200 ids). The
    /// default reads each one (`pull`).
    func existing(recordType: RecordType, remoteIDs: [String], context: ConnectorContext) async throws -> Set<String>

    /// What changed in the platform since `cursor` (`nil`: from the beginning), one page at a time.
    func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage

    /// The platform's chart of accounts, tax codes and items, for mapping billing's codes.
    func remoteChart(context: ConnectorContext) async throws -> RemoteChart

    /// How an integration with these settings is connected: OAuth 2.0 at the platform's endpoints (its documented
    /// URLs for the chosen `environment`, with the overrides applied), or another scheme with its own connect step.
    func authentication(settings: JSONValue) -> AuthenticationScheme

    /// Whether the platform answers for the integration now (`POST …/connect-check`): `.disconnected` with the
    /// reason in plain words when it does not (nothing at the address, the company not loaded). Thrown errors are
    /// failures to ask (a network error), not an answer: they leave the integration's status as it was.
    ///
    /// The default, for a platform whose tokens are the connection (OAuth): the credentials in `context` give an
    /// access token (refreshed first when expired; refused: `.disconnected`), and when they name a company, the
    /// platform confirms they open it (`confirmsAccess`, one cheap authenticated call).
    func checkConnection(context: ConnectorContext) async throws(ConnectorError) -> ConnectionCheck

    /// Whether the credentials in `context` open the platform company `remoteTenantID` (a QuickBooks realm, a Xero
    /// organisation). Asked before a company is claimed for an integration, so nobody claims a company their tokens
    /// cannot reach: `false` when the platform refuses them for it.
    func confirmsAccess(to remoteTenantID: String, context: ConnectorContext) async throws(ConnectorError) -> Bool

    /// The companies a new grant opens, when the platform names them only after the grant (Xero's connections): the
    /// one is chosen at once, among several a person chooses. `nil` where the authorization's redirect names the
    /// company itself (QuickBooks' `realmId`): the default.
    func companies(context: ConnectorContext) async throws(ConnectorError) -> [RemoteCompany]?
}

/// A company a grant opens (`Connector.companies`).
public struct RemoteCompany: Sendable, Hashable {
    /// The platform's id of it (a Xero tenant id).
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// Credentials given outright, for a call made before any are stored (confirming a company at connect time).
public struct FixedCredentials: CredentialProvider {
    let token: String
    let company: String?

    public init(accessToken: String, remoteTenantID: String?) {
        self.token = accessToken
        self.company = remoteTenantID
    }

    public func accessToken() async throws(ConnectorError) -> String { token }

    public func remoteTenantID() async throws(ConnectorError) -> String? { company }
}

extension Connector {
    public func checkConnection(context: ConnectorContext) async throws(ConnectorError) -> ConnectionCheck {
        let company: String?
        do {
            _ = try await context.credentials.accessToken()
            company = try await context.credentials.remoteTenantID()
        } catch .credentialsRefused(let message) {
            return .disconnected(reason: message)
        }
        guard let company else { return .connected }
        return try await confirmsAccess(to: company, context: context)
            ? .connected : .disconnected(reason: "the credentials do not open company \(company)")
    }

    public func find(matching requests: [PushRequest], context: ConnectorContext) async throws -> [[RemoteMatch]] {
        Array(repeating: [], count: requests.count)
    }

    public func companies(context: ConnectorContext) async throws(ConnectorError) -> [RemoteCompany]? { nil }

    /// The record whose platform id `text` is, if there is one.
    public func search(recordType: RecordType, for text: String, limit: Int, context: ConnectorContext) async throws
        -> [RemoteRecord]
    {
        guard limit > 0, let record = try await pull(recordType: recordType, remoteID: text, context: context),
            !record.deleted
        else { return [] }
        return [record]
    }

    /// One read per record, for a platform that cannot look up several at once.
    public func existing(recordType: RecordType, remoteIDs: [String], context: ConnectorContext) async throws
        -> Set<String>
    {
        var found: Set<String> = []
        for remoteID in Set(remoteIDs) {
            if let record = try await pull(recordType: recordType, remoteID: remoteID, context: context),
                !record.deleted
            {
                found.insert(remoteID)
            }
        }
        return found
    }

    /// One push after the other, for a platform without batches.
    public func push(batch requests: [PushRequest], context: ConnectorContext) async throws -> [Result<
        PushResult, ConnectorError
    >] {
        var results: [Result<PushResult, ConnectorError>] = []
        for request in requests {
            do {
                results.append(.success(try await push(request, context: context)))
            } catch let error as ConnectorError {
                if case .authentication = error { throw error }
                results.append(.failure(error))
            }
        }
        return results
    }
}

/// What a platform offers beyond the basics.
public struct ConnectorCapabilities: Sendable, Hashable {
    /// It sends change notifications (webhooks).
    public var webhooks: Bool
    /// It takes several writes in one call; `maximumBatchSize` per call.
    public var maximumBatchSize: Int
    /// It can list changes since a cursor (the safety net for missed webhooks).
    public var changeFeed: Bool
    /// Its limits per integration; every call through `ConnectorContext.transport` is kept within them.
    public var rateLimit: RateLimitPolicy?
    /// Its limits per app (one OAuth client, `settings.client_id`) across every integration using it: Xero's
    /// 10,000 calls a minute over all organisations.
    public var appRateLimit: RateLimitPolicy?
    /// The kinds of billing code its records need mapped before a push (`CodeMappings.requiredCodes`): the engine
    /// parks a job naming every one of them that is not mapped.
    public var mappingKinds: Set<CodeMappings.Kind>
    /// The record types whose every create first looks for a match already in the books (`Connector.find`): a
    /// customer the school kept by hand before Ledgerwire is adopted, not duplicated.
    public var adoptsExisting: Set<RecordType>
    /// How its calls reach it: over HTTP within the call, or through the job's mailbox (`ConnectorContext.mailbox`).
    public var channel: ExchangeChannel
    /// The record types it keeps in the books: a record of another type queues no push job for its integrations
    /// (`ConnectorRegistry.recordTypes`).
    public var recordTypes: Set<RecordType>
    /// How often the change feed is read for payments when the platform sends no webhooks for them (Xero): the
    /// scheduler reads the feed this often (or on the integration's `sync.payments_interval_seconds`), and the
    /// connector reads the rest of it only on the integration's own interval (`ConnectorContext.feedInterval`).
    /// `nil`: the whole feed on the integration's interval.
    public var paymentsInterval: Duration?
    /// Whether a create of an `adoptsExisting` type first looks for its match (`Connector.find`) — or goes at once,
    /// the engine looking only when the platform refuses it as a duplicate (`ConnectorError.duplicateCode`). Xero
    /// refuses a second contact of one name and a second invoice of one number, so its creates go first: a bulk sync
    /// costs one call for 50 records instead of two or more. A later attempt of a create always looks first.
    public var looksBeforeCreating: Bool
    /// How often, at the most, a platform out of reach is asked again while its jobs wait (`nil`: the engine's
    /// backoff, from half a minute to an hour). Tally, a desktop program closed at night and opened in the morning, is
    /// asked every minute, so the school's work lands minutes after someone opens it.
    public var unreachableRecheck: Duration? = nil
    /// How many of its batches an integration has claimed at once, at the most: the next ones are built while one is
    /// with the platform. Four by default. A platform with no rate limit that answers one request at a time (Tally)
    /// takes eight, so a queue of them is left while the next are claimed and built; a rate-limited platform keeps
    /// four, so that a round never needs more calls than a small share of its budget holds (its batches wait for room
    /// together, and a round bigger than the share would wait for ever).
    public var batchesInFlight = 4

    public init(
        webhooks: Bool, maximumBatchSize: Int, changeFeed: Bool, rateLimit: RateLimitPolicy? = nil,
        mappingKinds: Set<CodeMappings.Kind> = CodeMappings.commonKinds, adoptsExisting: Set<RecordType> = [],
        channel: ExchangeChannel = .direct,
        recordTypes: Set<RecordType> = Set(RecordType.allCases), paymentsInterval: Duration? = nil,
        looksBeforeCreating: Bool = true, appRateLimit: RateLimitPolicy? = nil
    ) {
        self.webhooks = webhooks
        self.maximumBatchSize = maximumBatchSize
        self.changeFeed = changeFeed
        self.rateLimit = rateLimit
        self.mappingKinds = mappingKinds
        self.adoptsExisting = adoptsExisting
        self.channel = channel
        self.recordTypes = recordTypes
        self.paymentsInterval = paymentsInterval
        self.looksBeforeCreating = looksBeforeCreating
        self.appRateLimit = appRateLimit
    }
}

/// One canonical change for a platform.
public struct PushRequest: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable {
        case create, update, void
    }

    public var integrationID: String
    public var tenantID: String
    /// Billing's id of the record.
    public var localID: String
    public var version: Int
    public var action: Action
    /// The canonical record, decoded once when its job was claimed (for a void: the record as it stood).
    public var record: CanonicalRecord
    /// The platform's id of the record, once it has one.
    public var remoteID: String?
    /// The platform's version of the record as last known (QuickBooks `SyncToken`, …): written by Ledgerwire, or
    /// heard from the platform, when a conflict was decided for billing's version.
    public var remoteVersion: String?
    /// The same for every attempt of this change: the platform's own idempotency key where it has one.
    public var idempotencyKey: String
    /// Which attempt this is, from 1. A later attempt may follow one whose outcome is unknown (a timeout after the
    /// request was sent, a worker that died): the record may already be in the books.
    public var attempt: Int
    /// Billing's codes mapped to the platform's ids (the integration's whole mapping, with its defaults). Every code
    /// the record needs (`CodeMappings.requiredCodes`) is mapped: the engine parks the job until it is.
    public var mappings: CodeMappings
    /// The platform's ids of the records this one refers to (its customer, the invoices a payment is allocated
    /// to, …): every dependency (`CanonicalRecord.dependencies`) is in the books, and here, before the record is
    /// pushed.
    public var references: [RecordReference: String]
    /// The record's type.
    public var recordType: RecordType { record.recordType }
    /// Records in the books that matched this create (`Connector.find`) but are linked to other billing records:
    /// never adopted, and a create must not collide with them (a customer whose name one of them holds is made
    /// under a distinct name).
    public var notAdoptable: [RemoteMatch]
    /// Whether the engine looked for this create's match in the books before it (`Connector.find`). A connector that
    /// lets creates go first (`ConnectorCapabilities.looksBeforeCreating` false) answers a duplicate refusal of a
    /// create not looked for with `ConnectorError.duplicateCode`, and the engine looks then.
    public var lookedUp = false

    public init(
        integrationID: String,
        tenantID: String,
        localID: String,
        version: Int,
        action: Action,
        record: CanonicalRecord,
        remoteID: String?,
        remoteVersion: String? = nil,
        idempotencyKey: String,
        attempt: Int = 1,
        mappings: CodeMappings,
        references: [RecordReference: String] = [:],
        notAdoptable: [RemoteMatch] = []
    ) {
        self.integrationID = integrationID
        self.tenantID = tenantID
        self.localID = localID
        self.version = version
        self.action = action
        self.record = record
        self.remoteID = remoteID
        self.remoteVersion = remoteVersion
        self.idempotencyKey = idempotencyKey
        self.attempt = attempt
        self.mappings = mappings
        self.references = references
        self.notAdoptable = notAdoptable
    }
}

/// A record in the books that a create could be (`Connector.find`).
public struct RemoteMatch: Sendable, Hashable {
    public var remoteID: String
    /// The field that matched, in the platform's words: `DisplayName`, `PrimaryEmailAddr`, `DocNumber`, …
    public var matchedBy: String
    /// Adopting it as the create's result: the record's id and version, or why it cannot be billing's record (its
    /// total differs from billing's, …).
    public var adoption: Result<PushResult, ConnectorError>

    public init(remoteID: String, matchedBy: String, adoption: Result<PushResult, ConnectorError>) {
        self.remoteID = remoteID
        self.matchedBy = matchedBy
        self.adoption = adoption
    }
}

/// What the platform answered a push with.
public struct PushResult: Sendable, Hashable {
    public var remoteID: String
    /// The platform's version of the record after the write (QuickBooks `SyncToken`, Xero `UpdatedDateUTC`, …),
    /// kept to recognise the platform's echo of this write.
    public var remoteVersion: String?

    public init(remoteID: String, remoteVersion: String? = nil) {
        self.remoteID = remoteID
        self.remoteVersion = remoteVersion
    }
}

/// One page of a platform's change feed.
public struct ChangePage: Sendable, Hashable {
    public var changes: [RemoteRecord]
    /// Where the next call continues from; persisted by the engine.
    public var nextCursor: String?
    public var hasMore: Bool

    public init(changes: [RemoteRecord], nextCursor: String?, hasMore: Bool) {
        self.changes = changes
        self.nextCursor = nextCursor
        self.hasMore = hasMore
    }
}

/// A platform's chart of accounts, tax codes and items.
public struct RemoteChart: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var id: String
        public var name: String
        /// The account number or code, where the platform has one.
        public var code: String?
        public var active: Bool
        /// The platform's own type of the entry, in its words: an account's (QuickBooks `AccountType`: `Income`,
        /// `Bank`, `Expense`, …) or an item's (`Service`, `Inventory`, …); `nil` where it has none.
        public var type: String?
        /// An account's classification (QuickBooks `Classification`: `Asset`, `Equity`, `Expense`, `Liability`,
        /// `Revenue`).
        public var classification: String?
        /// An account's detail type (QuickBooks `AccountSubType`: `Checking`, `UndepositedFunds`, …).
        public var subType: String?
        /// An item's income account (QuickBooks `IncomeAccountRef`).
        public var incomeAccountID: String?
        /// The mappings it can be the target of, as its platform decides: an income account `.account`, a bank
        /// account `.depositAccount`, a service item `.item`, a tax code `.taxCode`.
        public var uses: Set<CodeMappings.Kind>

        public init(
            id: String, name: String, code: String?, active: Bool, type: String? = nil, classification: String? = nil,
            subType: String? = nil, incomeAccountID: String? = nil, uses: Set<CodeMappings.Kind> = []
        ) {
            self.id = id
            self.name = name
            self.code = code
            self.active = active
            self.type = type
            self.classification = classification
            self.subType = subType
            self.incomeAccountID = incomeAccountID
            self.uses = uses
        }
    }

    public var accounts: [Entry]
    public var taxCodes: [Entry]
    public var items: [Entry]
    /// What the platform calls the books, for messages: "QuickBooks company", "Xero organisation".
    public var books: String

    public init(accounts: [Entry], taxCodes: [Entry], items: [Entry], books: String = "company") {
        self.accounts = accounts
        self.taxCodes = taxCodes
        self.items = items
        self.books = books
    }
}

/// What a connector is given for one integration's call.
public struct ConnectorContext: Sendable {
    public var integrationID: String
    public var tenantID: String
    /// The integration's non-secret settings (base URLs and their overrides, environment, …).
    public var settings: JSONValue
    /// The integration's access token; a 401 with it is thrown as `ConnectorError.authentication`, and the engine
    /// refreshes it once and calls again.
    public var credentials: any CredentialProvider
    /// The way to the platform, within the integration's rate limits (`ConnectorCapabilities.rateLimit`).
    public var transport: any HTTPTransport
    /// The integration's rate limiter, which `transport` already goes through; `nil` for a platform without
    /// limits. For a connector that must wait on its own terms (a queued batch, a long poll).
    public var rateLimiter: RateLimiter?
    /// What time it is, as the engine sees it (tests move it by hand).
    public var now: @Sendable () -> Timestamp
    public var logger: Logger
    /// For a push of a platform on the mailbox channel (`ConnectorCapabilities.channel`): the job's conversation with
    /// it. Every exchange with the platform goes through it; `nil` on the direct channel.
    public var mailbox: PlatformMailbox?
    /// How often the whole change feed is to be read (the integration's `sync.interval_seconds`; zero for a sync a
    /// person asked for, which reads it all): a connector that reads part of it more often
    /// (`ConnectorCapabilities.paymentsInterval`) reads the rest when this much has passed since it last did.
    public var feedInterval: Duration = .seconds(3600)

    public init(
        integrationID: String, tenantID: String, settings: JSONValue, credentials: any CredentialProvider,
        transport: any HTTPTransport, rateLimiter: RateLimiter? = nil,
        now: @escaping @Sendable () -> Timestamp = {
            Timestamp(microsecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
        }, logger: Logger, mailbox: PlatformMailbox? = nil
    ) {
        self.integrationID = integrationID
        self.tenantID = tenantID
        self.settings = settings
        self.credentials = credentials
        self.transport = transport
        self.rateLimiter = rateLimiter
        self.now = now
        self.logger = logger
        self.mailbox = mailbox
    }
}

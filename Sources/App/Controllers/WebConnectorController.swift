import Accounting
import Connectors
import Foundation
import Hummingbird
import NIOCore
import Persistence
import SyncEngine
import Synchronization

/// `/qbwc`: the SOAP service the QuickBooks Web Connector on a school's Windows PC polls for its QuickBooks Desktop
/// company (issue 19; platforms.md §3.2). No bearer key: the Web Connector signs in with the integration's user name
/// and password (`authenticate`), and every later call carries the session's ticket.
///
/// A run: `serverVersion`, `clientVersion`, `authenticate` (a ticket, or `nvu`, `none`, `busy`), then turns of
/// `sendRequestXML` (a qbXML document: the company's change queries when due, then the oldest messages its jobs wait
/// on, at most `maximumRequests` and `maximumDocumentBytes`) and `receiveResponseXML` (each answer recorded as its
/// message's reply, waking its job; the changes read handed to the sync engine; the percent done), until 100; then
/// `closeConnection`. `getLastError` says what went wrong, or `NoOp` while jobs are still building their next
/// requests; `connectionError` (QuickBooks could not be opened) is shown on the integration, and nothing queued is
/// lost.
struct WebConnectorController {
    let database: AppDatabase
    let signal: WorkSignal
    let throttle: AuthenticationThrottle
    let now: @Sendable () -> Timestamp
    /// Consecutive `NoOp` pauses in each session: a few, then the run ends and the rest waits for the next.
    private let pauses = Pauses()

    private final class Pauses: Sendable {
        private let counts = Mutex<[String: Int]>([:])

        func withLock<Value>(_ body: (inout [String: Int]) -> Value) -> Value { counts.withLock { body(&$0) } }
    }

    /// A session that has not called for this long is over: its ticket opens nothing, and another may start.
    static let idle: Duration = .seconds(300)
    /// Requests in one document. QuickBooks runs a document as one unit, locking the company file meanwhile, and the
    /// Web Connector holds the document and the answer in memory as strings: 100 requests (about 150 KB of requests,
    /// under 1 MB of answers) keeps each turn a few seconds long and well inside the Web Connector's limits.
    static let maximumRequests = 100
    /// The largest request document handed out (bodies): 512 KiB. The Web Connector's own limit is not published;
    /// large documents are known to make it time out, so this stays far below the few MB reported to work.
    static let maximumDocumentBytes = 512 * 1024
    /// The highest qbXML version written: what the requests need and every QuickBooks since 2015 reads.
    static let qbXMLVersion = QBXMLVersion(major: 13, minor: 0)!
    /// How long a turn waits for jobs woken by the last answers to build their next requests (10 s in service).
    let settleTime: Duration
    /// `NoOp` pauses in a row before a run ends.
    static let maximumPauses = 3
    /// The oldest Web Connector taken, and the oldest not warned about.
    static let oldestClient = [2, 1, 0, 30]
    static let currentClient = [2, 3, 0, 0]

    init(
        database: AppDatabase, signal: WorkSignal, now: @escaping @Sendable () -> Timestamp,
        throttle: AuthenticationThrottle = AuthenticationThrottle(limit: 10, window: .seconds(300)),
        settleTime: Duration = .seconds(10)
    ) {
        self.settleTime = settleTime
        self.database = database
        self.signal = signal
        self.now = now
        self.throttle = throttle
    }

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/qbwc", use: call)
        routes.get("/qbwc", use: wsdl)
        return routes
    }

    /// The WSDL (`GET /qbwc?wsdl`), naming this server's `/qbwc` as the service's address.
    @Sendable func wsdl(request: Request, context: AppRequestContext) async throws -> Response {
        let host = request.head.authority ?? "localhost"
        let local = host.hasPrefix("localhost") || host.hasPrefix("127.0.0.1") || host.hasPrefix("[::1]")
        let location = "\(local ? "http" : "https")://\(host)/qbwc"
        return Response(
            status: .ok, headers: [.contentType: "text/xml; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: WebConnectorSOAP.wsdl(location: location))))
    }

    @Sendable func call(request: Request, context: AppRequestContext) async throws -> Response {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: WebConnectorSOAP.maximumBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return Self.fault("the request is larger than \(WebConnectorSOAP.maximumBodyBytes) bytes")
        }
        if buffer.readableBytes > Self.maximumAnonymousBytes {
            // Only QuickBooks' answer within a session is this large: its ticket, near the start, is checked before
            // the body is parsed, so nobody without one has the server parse megabytes.
            guard let ticket = Self.leadingTicket(in: buffer.readableBytesView.prefix(64 * 1024)),
                try await session(ticket) != nil
            else {
                return Self.fault(
                    "a call over \(Self.maximumAnonymousBytes) bytes is taken only as QuickBooks' answer within a "
                        + "session (receiveResponseXML with its ticket)")
            }
        }
        let call: WebConnectorCall
        do {
            call = try WebConnectorSOAP.read(Data(buffer.readableBytesView))
        } catch {
            return Self.fault(error.message)
        }
        let address = context.remoteIP.map(AuthenticationThrottle.clientKey(forIP:)) ?? "local"
        let answer = try await answer(call, address: address)
        return Response(
            status: .ok, headers: [.contentType: "text/xml; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: WebConnectorSOAP.envelope(answer))))
    }

    /// The most a call may be before its session is known: every call but QuickBooks' answer is a few hundred bytes.
    static let maximumAnonymousBytes = 1 << 20

    /// The text of the first `ticket` element in `bytes` (with or without a namespace prefix), when it is short.
    static func leadingTicket(in bytes: some Collection<UInt8>) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let open = text.range(of: "ticket>") else { return nil }
        let rest = text[open.upperBound...]
        guard let end = rest.firstIndex(of: "<"), rest.distance(from: rest.startIndex, to: end) <= 128 else {
            return nil
        }
        return rest[..<end].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A SOAP 1.1 fault: HTTP 500, as SOAP 1.1 requires, the reason in words.
    private static func fault(_ reason: String) -> Response {
        Response(
            status: .internalServerError, headers: [.contentType: "text/xml; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: WebConnectorSOAP.fault(reason))))
    }

    func answer(_ call: WebConnectorCall, address: String) async throws -> WebConnectorAnswer {
        switch call {
        case .serverVersion:
            return .serverVersion("Ledgerwire 1.1")
        case .clientVersion(let version):
            return .clientVersion(Self.clientVersionAnswer(version))
        case .authenticate(let userName, let password):
            return .authenticate(try await authenticate(userName: userName, password: password, address: address))
        case .sendRequestXML(let turn):
            return .sendRequestXML(try await sendRequest(turn))
        case .receiveResponseXML(let turn):
            return .receiveResponseXML(try await receiveResponse(turn))
        case .connectionError(let ticket, let hresult, let message):
            if let session = try await session(ticket) {
                let reason =
                    "The Web Connector could not open QuickBooks: \(message.isEmpty ? "no reason given" : message)"
                    + (hresult.isEmpty ? "" : " (\(hresult))") + ". Nothing queued is lost: it goes on the next run."
                try await database.closeWebConnectorSession(ticketHash: session.ticketHash, error: reason, at: now())
            }
            return .connectionError("done")
        case .getLastError(let ticket):
            guard let session = try await session(ticket) else { return .getLastError(Self.invalidTicket) }
            return .getLastError(session.lastError ?? "NoOp")
        case .closeConnection(let ticket):
            guard let session = try await session(ticket) else { return .closeConnection(Self.invalidTicket) }
            try await database.closeWebConnectorSession(ticketHash: session.ticketHash, error: nil, at: now())
            _ = pauses.withLock { $0.removeValue(forKey: session.ticketHash) }
            return .closeConnection("Ledgerwire: \(session.answered) answers taken in this run.")
        }
    }

    /// QuickBooks' own words for a ticket it does not know.
    static let invalidTicket = "The ticket parameter is invalid (0x8004040D): the session is over. Run again."

    /// `""` for a current Web Connector, `W:` for an old one, `O:` (upgrade first) for one too old.
    static func clientVersionAnswer(_ version: String) -> String {
        let parts = version.split(separator: ".").prefix(4).map { Int($0.prefix(6)) ?? 0 }
        let padded = parts + Array(repeating: 0, count: max(0, 4 - parts.count))
        if padded.lexicographicallyPrecedes(oldestClient) {
            return "O:" + oldestClient.map(String.init).joined(separator: ".")
        }
        if padded.lexicographicallyPrecedes(currentClient) {
            return "W:This Web Connector (\(version.prefix(32))) is old: install Intuit's current QuickBooks Web "
                + "Connector (2.3 or later) on this PC."
        }
        return ""
    }

    // MARK: Signing in

    private func authenticate(userName: String, password: String, address: String) async throws -> [String] {
        let ticket = UUID().uuidString
        let refused = [ticket, "nvu"]
        if throttle.wait(for: address) != nil {
            try await database.auditWebConnectorRefusal(
                userName: userName, login: nil, reason: "throttled", address: address, at: now())
            return refused
        }
        guard userName.utf8.count <= 256, password.utf8.count <= 256,
            let login = try await database.webConnectorLogin(userName: userName, password: password)
        else {
            throttle.recordFailure(from: address)
            let known = try await database.webConnectorLogins(userName: String(userName.prefix(256))).first
            try await database.auditWebConnectorRefusal(
                userName: userName, login: known, reason: known == nil ? "unknown_user" : "wrong_password",
                address: address, at: now())
            return refused
        }
        guard login.status != .disabled else {
            try await database.auditWebConnectorRefusal(
                userName: userName, login: login, reason: "disabled", address: address, at: now())
            return refused
        }
        let every = try await runEvery(login.integrationID)
        switch try await database.startWebConnectorSession(
            integrationID: login.integrationID, ticketHash: APIKey.hash(token: ticket), idle: Self.idle,
            changesEvery: every, at: now())
        {
        case .busy: return [ticket, "busy"]
        case .nothingToDo: return [ticket, "none"]
        case .started(let changesDue):
            // Woken lost answers are retried by the workers while the first turn is built.
            signal.signal()
            if changesDue {
                let company = try await database.webConnectorCompany(integrationID: login.integrationID)
                // The first read starts now (the books' history is not news), less ten minutes for the PC's clock.
                let queries = ChangeQueries(
                    from: company?.changesFrom ?? Self.quickBooksTime(now().adding(.seconds(-600))), newest: nil,
                    pending: QuickBooksDesktopChanges.kinds.map { ChangeQueries.Pending(kind: $0) })
                try await database.recordWebConnectorAnswers(
                    ticketHash: APIKey.hash(token: ticket), replies: [], changeQueries: queries.text, lastError: nil,
                    at: now())
            }
            return [ticket, ""]
        }
    }

    /// `settings.run_every_minutes` (5 by default): how often the change queries run at most.
    private func runEvery(_ integrationID: String) async throws -> Duration {
        let settings = try await database.integration(id: integrationID)?.settings
        let minutes = settings?["run_every_minutes"]?.intValue ?? 5
        return .seconds(max(1, min(minutes, WebConnectorFile.maximumRunEveryMinutes)) * 60)
    }

    /// An instant as QuickBooks writes one (`2026-12-03T10:04:05+00:00`).
    static func quickBooksTime(_ instant: Timestamp) -> String {
        String(instant.rfc3339.prefix(19)) + "+00:00"
    }

    private func session(_ ticket: String) async throws -> AppDatabase.WebConnectorSession? {
        guard !ticket.isEmpty, ticket.utf8.count <= 128 else { return nil }
        return try await database.webConnectorSession(
            ticketHash: APIKey.hash(token: ticket), idle: Self.idle, at: now())
    }

    // MARK: Turns

    private func sendRequest(_ turn: WebConnectorCall.RequestTurn) async throws -> String {
        guard let session = try await session(turn.ticket) else { return "" }
        let integrationID = session.integrationID
        if session.turns == 0 || !turn.hostResponse.isEmpty {
            let host = QBXML.host(in: turn.hostResponse)
            let reported = turn.qbXMLVersion ?? host.version
            try await database.recordWebConnectorCompany(
                integrationID: integrationID,
                country: ["US", "CA", "UK", "AU"].contains(turn.country) ? turn.country : "US",
                qbXMLVersion: reported?.description, companyFile: String(turn.companyFileName.prefix(1024)),
                product: host.product, at: now())
        }
        let company = try await database.webConnectorCompany(integrationID: integrationID)
        let version = Self.version(company?.qbXMLVersion)
        var queries = ChangeQueries(text: session.changeQueries)
        var requests = queries?.handOutReads() ?? []
        var messages = try await handOut(session, room: Self.maximumRequests - requests.count)
        if messages.isEmpty, requests.isEmpty {
            // The last answers woke jobs that are still building their next requests: wait for them a little.
            let deadline = ContinuousClock.now + settleTime
            while messages.isEmpty, ContinuousClock.now < deadline,
                try await database.webConnectorWork(integrationID: integrationID, at: now()).jobs > 0
            {
                try await Task.sleep(for: .milliseconds(50))
                messages = try await handOut(session, room: Self.maximumRequests)
            }
        }
        if messages.isEmpty, requests.isEmpty {
            guard let last = try await lastRequest(of: session) else { return "" }
            requests.append(last)
        } else {
            pauses.withLock { $0[session.ticketHash] = 0 }
        }
        if queries != ChangeQueries(text: session.changeQueries) || session.lastError != nil {
            try await database.recordWebConnectorAnswers(
                ticketHash: session.ticketHash, replies: [], changeQueries: queries?.text, lastError: nil, at: now())
        }
        for message in messages {
            requests.append(Self.withRequestID(message.message.body, message.id))
        }
        var document = "<?xml version=\"1.0\" encoding=\"utf-8\"?><?qbxml version=\"\(version)\"?><QBXML>"
        document += "<QBXMLMsgsRq onError=\"\(QBXML.OnError.continueOnError.rawValue)\">"
        document += requests.joined()
        document += "</QBXMLMsgsRq></QBXML>"
        return document
    }

    /// The request that ends a run with nothing left.
    static let finishingRequestID = "finish"

    /// When a turn has nothing to hand out: `nil` (answer `""`, and `getLastError` says `NoOp`: the Web Connector
    /// pauses and asks again) while jobs are still building their requests, a few times; then a host query, whose
    /// answer ends the run at 100 %.
    private func lastRequest(of session: AppDatabase.WebConnectorSession) async throws -> String? {
        let work = try await database.webConnectorWork(integrationID: session.integrationID, at: now())
        let paused = pauses.withLock { pauses -> Int in
            // Sessions that went quiet without closing leave their count: a bound keeps them from piling up.
            if pauses.count >= 10_000 { pauses.removeAll() }
            pauses[session.ticketHash, default: 0] += 1
            return pauses[session.ticketHash] ?? 0
        }
        if work.jobs > 0, paused <= Self.maximumPauses {
            try await database.setWebConnectorError(ticketHash: session.ticketHash, "NoOp")
            return nil
        }
        return "<HostQueryRq requestID=\"\(Self.finishingRequestID)\"></HostQueryRq>"
    }

    private func handOut(_ session: AppDatabase.WebConnectorSession, room: Int) async throws -> [JournalledMessage] {
        guard room > 0 else { return [] }
        return try await database.handOutWebConnectorMessages(
            ticketHash: session.ticketHash, integrationID: session.integrationID, limit: room,
            maximumBytes: Self.maximumDocumentBytes)
    }

    /// A message's request with the message's id as its `requestID` (the body is a request element Ledgerwire wrote,
    /// without one).
    static func withRequestID(_ body: String, _ id: String) -> String {
        guard let end = body.firstIndex(of: ">"), body.hasPrefix("<") else { return body }
        var attribute = " requestID=\""
        XMLText.escape(id, into: &attribute, quotes: true)
        attribute += "\""
        var text = body
        text.insert(contentsOf: attribute, at: end)
        return text
    }

    private func receiveResponse(_ turn: WebConnectorCall.ResponseTurn) async throws -> Int {
        guard let session = try await session(turn.ticket) else { return -1 }
        if !turn.hresult.isEmpty || turn.response.isEmpty {
            let reason =
                "QuickBooks did not run the requests: \(turn.message.isEmpty ? "no reason given" : turn.message)"
                + (turn.hresult.isEmpty ? "" : " (\(turn.hresult))")
            try await database.setWebConnectorError(ticketHash: session.ticketHash, reason)
            return -1
        }
        let responses: [QBXMLResponse]
        do {
            responses = try QBXML.responses(in: turn.response)
        } catch {
            try await database.setWebConnectorError(
                ticketHash: session.ticketHash, "QuickBooks' answer could not be read: \(error.message)")
            return -1
        }
        var queries = ChangeQueries(text: session.changeQueries)
        var replies: [(messageID: String, reply: PlatformMessage)] = []
        var changes: [RemoteRecord] = []
        var finishing = false
        for response in responses {
            guard let requestID = response.requestID else { continue }
            if requestID == Self.finishingRequestID {
                finishing = true
            } else if requestID.hasPrefix(QuickBooksDesktopChanges.listsPrefix) {
                let kind = String(requestID.dropFirst(QuickBooksDesktopChanges.listsPrefix.count))
                if !response.failed, let list = QuickBooksDesktopChanges.list(response, kind: kind) {
                    try await database.setWebConnectorList(
                        integrationID: session.integrationID, setting: QuickBooksDesktopChanges.listsSetting,
                        key: list.key, entries: list.entries)
                }
            } else if requestID.hasPrefix(QuickBooksDesktopChanges.requestIDPrefix) {
                let kind = String(requestID.dropFirst(QuickBooksDesktopChanges.requestIDPrefix.count))
                let read = QuickBooksDesktopChanges.records(in: response)
                changes += read.records
                queries?.answered(
                    kind: kind, newest: read.newest, iteratorID: response.iteratorID,
                    remaining: response.iteratorRemainingCount ?? 0, failed: response.failed)
            } else {
                var text = ""
                var attributes = [
                    "statusCode": String(response.statusCode), "statusSeverity": response.severity,
                    "statusMessage": response.message, "requestID": requestID,
                ]
                attributes["iteratorID"] = response.iteratorID
                attributes["iteratorRemainingCount"] = response.iteratorRemainingCount.map(String.init)
                QBXML.write(
                    XMLNode(name: response.type, attributes: attributes, children: response.returned), into: &text)
                replies.append(
                    (
                        requestID,
                        PlatformMessage(contentType: QuickBooksDesktopConnector.responseContentType, body: text)
                    ))
            }
        }
        if !changes.isEmpty {
            try await database.recordLedgerChanges(
                integrationID: session.integrationID, changes, source: "web_connector", at: now())
        }
        if let current = queries, current.pending.isEmpty {
            try await database.finishWebConnectorChanges(
                integrationID: session.integrationID, changesFrom: current.newest ?? current.from, at: now())
            queries = nil
        }
        try await database.recordWebConnectorAnswers(
            ticketHash: session.ticketHash, replies: replies, changeQueries: queries?.text, lastError: nil, at: now())
        if finishing { return 100 }
        signal.signal()
        // The jobs these answers woke build their next requests (or finish) before the percent is reckoned.
        let deadline = ContinuousClock.now + settleTime
        var work = try await database.webConnectorWork(integrationID: session.integrationID, at: now())
        while work.jobs > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            work = try await database.webConnectorWork(integrationID: session.integrationID, at: now())
        }
        let remaining = work.messages + work.jobs + (queries?.pending.count ?? 0)
        guard remaining > 0 else { return 100 }
        // Work found along the way (the next request of a job, a customer's invoices) must not make it go back.
        let answered = session.answered + replies.count + 1
        let percent = max(session.percent, min(99, answered * 100 / (answered + remaining)))
        try await database.setWebConnectorPercent(ticketHash: session.ticketHash, percent)
        return percent
    }

    // MARK: What QuickBooks reported

    /// The version written: QuickBooks' highest, up to `qbXMLVersion`.
    static func version(_ reported: String?) -> QBXMLVersion {
        guard let reported, case let parts = reported.split(separator: "."),
            let major = parts.first.flatMap({ Int($0) }),
            let version = QBXMLVersion(major: major, minor: parts.dropFirst().first.flatMap { Int($0) } ?? 0)
        else { return qbXMLVersion }
        return min(version, qbXMLVersion)
    }
}

/// The change queries still to run in a session: each kind's, by its iterator once started.
struct ChangeQueries: Hashable {
    struct Pending: Hashable {
        var kind: String
        var iteratorID: String?
        var handed = false
    }

    /// Changes are asked for from this `TimeModified`.
    var from: String?
    /// The newest `TimeModified` read so far.
    var newest: String?
    var pending: [Pending]
    /// Whether the lists (items, tax codes, accounts) were asked for in this session.
    var listsHanded = false

    init(from: String?, newest: String?, pending: [Pending]) {
        self.from = from
        self.newest = newest
        self.pending = pending
    }

    init?(text: String?) {
        guard let text, let json = try? JSONValue(parsing: Array(text.utf8)) else { return nil }
        from = json["from"]?.stringValue
        newest = json["newest"]?.stringValue
        listsHanded = json["lists_handed"]?.boolValue ?? false
        pending = (json["pending"]?.arrayValue ?? []).compactMap { item in
            item["kind"]?.stringValue.map {
                Pending(
                    kind: $0, iteratorID: item["iterator_id"]?.stringValue, handed: item["handed"]?.boolValue ?? false)
            }
        }
    }

    var text: String {
        JSONValue.object([
            "from": from.map(JSONValue.string) ?? .null, "newest": newest.map(JSONValue.string) ?? .null,
            "lists_handed": .bool(listsHanded),
            "pending": .array(
                pending.map {
                    [
                        "kind": .string($0.kind), "iterator_id": $0.iteratorID.map(JSONValue.string) ?? .null,
                        "handed": .bool($0.handed),
                    ]
                }),
        ]).canonicalString
    }

    /// The reads not handed out yet, now marked handed: the lists (once a session), then each kind's next page.
    mutating func handOutReads() -> [String] {
        var requests: [String] = []
        if !listsHanded {
            for kind in QuickBooksDesktopChanges.listKinds {
                var text = ""
                QBXML.write(QuickBooksDesktopChanges.listQuery(kind), into: &text)
                requests.append(text)
            }
            listsHanded = true
        }
        for index in pending.indices where !pending[index].handed {
            var text = ""
            QBXML.write(
                QuickBooksDesktopChanges.query(pending[index].kind, from: from, iteratorID: pending[index].iteratorID),
                into: &text)
            requests.append(text)
            pending[index].handed = true
        }
        return requests
    }

    /// Takes the answer to `kind`'s query: its next page is asked for while the iterator has more.
    mutating func answered(kind: String, newest read: String?, iteratorID: String?, remaining: Int, failed: Bool) {
        guard let index = pending.firstIndex(where: { $0.kind == kind && $0.handed }) else { return }
        if let read, newest.map({ Self.later(read, than: $0) }) ?? true { newest = read }
        if !failed, remaining > 0, let iteratorID {
            pending[index] = Pending(kind: kind, iteratorID: iteratorID)
        } else {
            pending.remove(at: index)
        }
    }

    static func later(_ text: String, than other: String) -> Bool {
        guard let left = Timestamp(rfc3339: text), let right = Timestamp(rfc3339: other) else { return text > other }
        return left > right
    }
}

public import Connectors
public import Foundation
import Synchronization

/// A fake QuickBooks Web Connector (platforms.md §9.3): it loads a `.qwc` file the way QBWC does, and each `run()`
/// drives the server's SOAP service as QBWC does — `POST` with `text/xml; charset=utf-8` and the operation's
/// `SOAPAction`, `serverVersion` → `clientVersion` → `authenticate` → (`sendRequestXML` → QuickBooks →
/// `receiveResponseXML`)… until 100 → `closeConnection` — honouring `nvu`/`none`/`busy`, the percent loop, `NoOp`
/// pauses and `getLastError`, and calling `connectionError` instead when QuickBooks is not running.
public final class WebConnector: Sendable {
    /// What the Web Connector took from a `.qwc`.
    public struct Application: Sendable, Hashable {
        public var appName: String
        public var appURL: URL
        public var userName: String
        public var ownerID: String
        public var fileID: String
        public var runEveryMinutes: Int
    }

    /// Why a `.qwc` was not loaded, as QBWC would refuse it.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// One run, as the Web Connector's log shows it.
    public struct Run: Sendable, Hashable {
        /// `authenticate`'s second string: `""`, `none`, `nvu`, `busy` (or a company file).
        public var authentication = ""
        public var clientVersionAnswer = ""
        /// Each `receiveResponseXML` result, in order.
        public var percents: [Int] = []
        /// Request documents handed over, the requests in them, and the largest in bytes.
        public var documents = 0
        public var requests = 0
        public var largestDocument = 0
        /// What `getLastError` said (other than `NoOp`), and how many `NoOp` pauses there were.
        public var lastError: String?
        public var pauses = 0
        public var closeMessage: String?
        /// `connectionError`'s answer, when QuickBooks could not be opened.
        public var connectionErrorAnswer: String?
    }

    public let application: Application
    public let password: String
    public let company: QuickBooksDesktopCompany
    public let version: String
    let transport: any HTTPTransport
    let pause: Duration
    let running = Flags()

    final class Flags: Sendable {
        private let state = Mutex<(notRunning: Bool, dropNextAnswer: Bool)>((false, false))

        var quickBooksNotRunning: Bool {
            get { state.withLock { $0.notRunning } }
            set { state.withLock { $0.notRunning = newValue } }
        }

        /// Takes the flag: `true` once after `dropNextAnswer` was set.
        func takeDropNextAnswer() -> Bool {
            state.withLock { state in
                defer { state.dropNextAnswer = false }
                return state.dropNextAnswer
            }
        }

        func dropNext() { state.withLock { $0.dropNextAnswer = true } }
    }

    /// Loads `qwc` (the file `GET …/qwc` served) for `company`, with the password the person types in.
    /// - Parameter pause: how long a `NoOp` pauses (QBWC's own is 5 s).
    public init(
        qwc: String, password: String, company: QuickBooksDesktopCompany, transport: any HTTPTransport,
        version: String = "2.3.0.215", pause: Duration = .seconds(5)
    ) throws(Refusal) {
        application = try Self.load(qwc)
        self.password = password
        self.company = company
        self.transport = transport
        self.version = version
        self.pause = pause
    }

    /// QuickBooks is closed on the PC (or comes back): the next run calls `connectionError`.
    public func setQuickBooksRunning(_ running: Bool) { self.running.quickBooksNotRunning = !running }

    /// The next run breaks off after QuickBooks ran a document that writes (an add, a change, a void) and before its
    /// answer is sent: the PC went to sleep.
    public func breakOffAfterNextWrite() { running.dropNext() }

    /// Reads a `.qwc` as QBWC does: the required elements, `QBFS`, GUIDs in braces, https unless on this machine.
    static func load(_ qwc: String) throws(Refusal) -> Application {
        guard let root = try? XMLTree.read(Data(qwc.utf8), namespaces: false, maximumDepth: 8),
            root.name == "QBWCXML"
        else { throw Refusal(description: "the file is not a QBWCXML application file") }
        func required(_ name: String) throws(Refusal) -> String {
            guard let value = root.value(name)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
                throw Refusal(description: "\(name) is missing")
            }
            return value
        }
        let urlText = try required("AppURL")
        guard let url = URL(string: urlText), let scheme = url.scheme, let host = url.host else {
            throw Refusal(description: "AppURL is not a URL")
        }
        let local = ["localhost", "127.0.0.1"].contains(host)
        guard scheme == "https" || (scheme == "http" && local) else {
            throw Refusal(description: "AppURL must use https (http is allowed for localhost only)")
        }
        _ = try required("AppSupport")
        guard try required("QBType") == "QBFS" else { throw Refusal(description: "QBType must be QBFS") }
        let owner = try required("OwnerID")
        let file = try required("FileID")
        for guid in [owner, file] {
            guard guid.hasPrefix("{"), guid.hasSuffix("}"), UUID(uuidString: String(guid.dropFirst().dropLast())) != nil
            else { throw Refusal(description: "OwnerID and FileID must be GUIDs in braces") }
        }
        guard let minutes = root.child("Scheduler")?.value("RunEveryNMinutes").flatMap({ Int($0) }), minutes > 0 else {
            throw Refusal(description: "Scheduler must say RunEveryNMinutes")
        }
        return Application(
            appName: try required("AppName"), appURL: url, userName: try required("UserName"), ownerID: owner,
            fileID: file, runEveryMinutes: minutes)
    }

    // MARK: A run

    /// One scheduled (or "Update Selected") run, to its end.
    public func run() async throws -> Run {
        var run = Run()
        _ = try await call("serverVersion", [("strVersion", "")])
        run.clientVersionAnswer = try await call("clientVersion", [("strVersion", version)]).first ?? ""
        if run.clientVersionAnswer.hasPrefix("O:") || run.clientVersionAnswer.hasPrefix("E:") { return run }
        let strings = try await call(
            "authenticate", [("strUserName", application.userName), ("strPassword", password)])
        guard strings.count >= 2 else { throw Refusal(description: "authenticate answered \(strings)") }
        let ticket = strings[0]
        run.authentication = strings[1]
        guard strings[1].isEmpty || !["none", "nvu", "busy"].contains(strings[1]) else { return run }
        if running.quickBooksNotRunning {
            run.connectionErrorAnswer =
                try await call(
                    "connectionError",
                    [
                        ("ticket", ticket), ("hresult", "0x80040408"),
                        ("message", "Could not start QuickBooks."),
                    ]
                ).first
            return run
        }
        var first = true
        while true {
            let request =
                try await call(
                    "sendRequestXML",
                    [
                        ("ticket", ticket), ("strHCPResponse", first ? company.hostResponse : ""),
                        ("strCompanyFileName", company.companyFile), ("qbXMLCountry", company.country),
                        ("qbXMLMajorVers", String(company.version.major)),
                        ("qbXMLMinorVers", String(company.version.minor)),
                    ]
                ).first ?? ""
            first = false
            if request.isEmpty {
                let error = try await call("getLastError", [("ticket", ticket)]).first ?? ""
                if error == "NoOp" {
                    run.pauses += 1
                    try await Task.sleep(for: pause)
                    continue
                }
                run.lastError = error
                break
            }
            run.documents += 1
            run.largestDocument = max(run.largestDocument, request.utf8.count)
            run.requests += request.components(separatedBy: "requestID=").count - 1
            var fields: [(String, String)] = [("ticket", ticket)]
            do {
                let answer = try company.run(request)
                let writes = ["AddRq", "ModRq", "VoidRq", "DelRq"].contains { request.contains($0) }
                if writes, running.takeDropNextAnswer() { return run }
                fields += [("response", answer), ("hresult", ""), ("message", "")]
            } catch {
                fields += [("response", ""), ("hresult", error.hresult), ("message", error.message)]
            }
            let percent = Int(try await call("receiveResponseXML", fields).first ?? "") ?? -1
            run.percents.append(percent)
            if percent >= 100 { break }
            if percent < 0 {
                run.lastError = try await call("getLastError", [("ticket", ticket)]).first
                break
            }
        }
        run.closeMessage = try await call("closeConnection", [("ticket", ticket)]).first
        return run
    }

    /// One SOAP call as QBWC's .NET client sends it; the result's strings (one, or `authenticate`'s several).
    func call(_ operation: String, _ fields: [(String, String)]) async throws -> [String] {
        var body =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope "
            + "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
            + "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">"
            + "<soap:Body><\(operation) xmlns=\"http://developer.intuit.com/\">"
        for (name, value) in fields {
            body += "<\(name)>"
            XMLText.escape(value, into: &body, quotes: false)
            body += "</\(name)>"
        }
        body += "</\(operation)></soap:Body></soap:Envelope>"
        let response = try await transport.send(
            TransportRequest(
                method: "POST", url: application.appURL,
                headers: [
                    ("Content-Type", "text/xml; charset=utf-8"),
                    ("SOAPAction", "\"http://developer.intuit.com/\(operation)\""),
                    (
                        "User-Agent",
                        "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol 4.0.30319.42000)"
                    ),
                ],
                body: Data(body.utf8), timeout: .seconds(120)))
        guard response.status == 200 else {
            throw Refusal(
                description:
                    "\(operation) answered HTTP \(response.status): \(String(decoding: response.body, as: UTF8.self))")
        }
        guard let root = try? XMLTree.read(response.body, namespaces: true, maximumDepth: 16),
            let result = root.children.first?.children.first?.children.first(where: {
                $0.name == "\(operation)Result"
            })
        else { throw Refusal(description: "\(operation) answered no \(operation)Result") }
        if operation == "authenticate" { return result.children.filter { $0.name == "string" }.map(\.text) }
        return [result.text]
    }
}

public import Foundation

/// One call of the QuickBooks Web Connector to `POST /qbwc` (SOAP 1.1, document/literal, namespace
/// `http://developer.intuit.com/`; platforms.md §3.2), as `WebConnectorSOAP.read(_:)` reads it.
///
/// In one session the Web Connector calls `serverVersion`, `clientVersion`, `authenticate`, then `sendRequestXML` and
/// `receiveResponseXML` in turn until the answer is 100 (or an error sends it to `getLastError`), then
/// `closeConnection`; `connectionError` replaces the loop when it cannot open QuickBooks.
public enum WebConnectorCall: Sendable, Hashable {
    case serverVersion
    /// The Web Connector's version (e.g. `2.3.0.36`).
    case clientVersion(String)
    case authenticate(userName: String, password: String)
    case sendRequestXML(RequestTurn)
    case receiveResponseXML(ResponseTurn)
    /// The Web Connector could not open QuickBooks or the company file: a COM `hresult` (e.g. `0x80040408`) and its
    /// words.
    case connectionError(ticket: String, hresult: String, message: String)
    case getLastError(ticket: String)
    case closeConnection(ticket: String)

    /// `sendRequestXML`: the Web Connector asks for the next qbXML request.
    public struct RequestTurn: Sendable, Hashable {
        public var ticket: String
        /// The answer to QuickBooks' host, company and preferences queries, on a session's first call only.
        public var hostResponse: String
        public var companyFileName: String
        /// `US`, `CA`, `UK` or `AU`.
        public var country: String
        /// The highest qbXML version QuickBooks takes, when the Web Connector says.
        public var qbXMLVersion: QBXMLVersion?

        public init(
            ticket: String, hostResponse: String = "", companyFileName: String = "", country: String = "",
            qbXMLVersion: QBXMLVersion? = nil
        ) {
            self.ticket = ticket
            self.hostResponse = hostResponse
            self.companyFileName = companyFileName
            self.country = country
            self.qbXMLVersion = qbXMLVersion
        }
    }

    /// `receiveResponseXML`: QuickBooks' answer to the last request (a qbXML document), or the COM error that stopped
    /// it (`hresult`, `message`).
    public struct ResponseTurn: Sendable, Hashable {
        public var ticket: String
        public var response: String
        public var hresult: String
        public var message: String

        public init(ticket: String, response: String, hresult: String = "", message: String = "") {
            self.ticket = ticket
            self.response = response
            self.hresult = hresult
            self.message = message
        }
    }

    /// The SOAP operation's name, as in the `SOAPAction` header (`http://developer.intuit.com/<name>`).
    public var operation: String {
        switch self {
        case .serverVersion: "serverVersion"
        case .clientVersion: "clientVersion"
        case .authenticate: "authenticate"
        case .sendRequestXML: "sendRequestXML"
        case .receiveResponseXML: "receiveResponseXML"
        case .connectionError: "connectionError"
        case .getLastError: "getLastError"
        case .closeConnection: "closeConnection"
        }
    }

    /// The session ticket the call carries (every call after `authenticate`).
    public var ticket: String? {
        switch self {
        case .serverVersion, .clientVersion, .authenticate: nil
        case .sendRequestXML(let turn): turn.ticket
        case .receiveResponseXML(let turn): turn.ticket
        case .connectionError(let ticket, _, _), .getLastError(let ticket), .closeConnection(let ticket): ticket
        }
    }
}

/// A qbXML version (`<?qbxml version="13.0"?>`): QuickBooks says the highest it takes, a request says its own.
public struct QBXMLVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    /// `nil` outside 1–99 and 0–99: no qbXML version is written otherwise.
    public init?(major: Int, minor: Int) {
        guard (1...99).contains(major), (0...99).contains(minor) else { return nil }
        self.major = major
        self.minor = minor
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (lhs: QBXMLVersion, rhs: QBXMLVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}

/// What `/qbwc` answers a call, one case per operation.
public enum WebConnectorAnswer: Sendable, Hashable {
    case serverVersion(String)
    /// `""` to go on, `W:<words>` to warn and go on, `E:<words>` to stop, `O:<version>` to ask for at least that
    /// Web Connector.
    case clientVersion(String)
    /// The ticket, then `""` (the company file open), a company file's path, `none` (no work), `nvu` (not a valid
    /// user) or `busy`; optionally seconds to wait before the next run, and the fewest seconds between runs.
    case authenticate([String])
    /// A whole qbXML request document, or `""` (nothing: the Web Connector asks `getLastError`).
    case sendRequestXML(String)
    /// 0–99: percent done, ask again; 100: done; negative: an error (`getLastError` says which).
    case receiveResponseXML(Int)
    /// `done` to stop, or a company file's path to try again.
    case connectionError(String)
    /// Words for the Web Connector's log; `NoOp` to wait a moment and ask again.
    case getLastError(String)
    case closeConnection(String)

    var operation: String {
        switch self {
        case .serverVersion: "serverVersion"
        case .clientVersion: "clientVersion"
        case .authenticate: "authenticate"
        case .sendRequestXML: "sendRequestXML"
        case .receiveResponseXML: "receiveResponseXML"
        case .connectionError: "connectionError"
        case .getLastError: "getLastError"
        case .closeConnection: "closeConnection"
        }
    }
}

/// Reads the Web Connector's SOAP requests and writes `/qbwc`'s answers, faults and WSDL.
public enum WebConnectorSOAP {
    /// The Web Connector service's namespace.
    public static let namespace = "http://developer.intuit.com/"
    /// SOAP 1.1's envelope namespace.
    public static let envelopeNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
    /// The largest call read: a `receiveResponseXML` carries a whole qbXML answer (an iterator's page of invoices
    /// with their lines is a few hundred kilobytes; 16 MiB is far past any a request of ours asks for).
    public static let maximumBodyBytes = 16 << 20
    /// The deepest nesting read: a call is four levels deep (envelope, body, operation, field).
    static let maximumDepth = 16

    /// Why a body is not a call `/qbwc` takes, in words for a SOAP fault.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String

        init(_ message: String) { self.message = message }

        public var description: String { message }
    }

    /// Reads one call. A body that is not a SOAP 1.1 envelope holding one of the service's eight operations, that
    /// declares a document type, or that is larger than `maximumBodyBytes`, is refused saying why.
    public static func read(_ body: Data) throws(ParseError) -> WebConnectorCall {
        guard body.count <= maximumBodyBytes else {
            throw ParseError("the request is larger than \(maximumBodyBytes) bytes")
        }
        let root: XMLNode
        do {
            root = try XMLTree.read(body, namespaces: true, maximumDepth: maximumDepth)
        } catch {
            throw ParseError(error.message)
        }
        guard root.name == "Envelope", root.namespace == envelopeNamespace else {
            throw ParseError("the request is not a SOAP 1.1 envelope (\(envelopeNamespace))")
        }
        guard let soapBody = root.children.first(where: { $0.name == "Body" && $0.namespace == envelopeNamespace })
        else { throw ParseError("the envelope has no Body") }
        guard let call = soapBody.children.first else { throw ParseError("the Body holds no operation") }
        guard call.namespace == namespace else {
            throw ParseError("the operation \(call.name) is not in the namespace \(namespace)")
        }
        let fields = Fields(call)
        switch call.name {
        case "serverVersion":
            return .serverVersion
        case "clientVersion":
            return .clientVersion(fields["strVersion"])
        case "authenticate":
            return .authenticate(userName: fields["strUserName"], password: fields["strPassword"])
        case "sendRequestXML":
            return .sendRequestXML(
                WebConnectorCall.RequestTurn(
                    ticket: fields["ticket"], hostResponse: fields["strHCPResponse"],
                    companyFileName: fields["strCompanyFileName"], country: fields["qbXMLCountry"],
                    qbXMLVersion: try version(major: fields["qbXMLMajorVers"], minor: fields["qbXMLMinorVers"])))
        case "receiveResponseXML":
            return .receiveResponseXML(
                WebConnectorCall.ResponseTurn(
                    ticket: fields["ticket"], response: fields["response"], hresult: fields["hresult"],
                    message: fields["message"]))
        case "connectionError":
            return .connectionError(ticket: fields["ticket"], hresult: fields["hresult"], message: fields["message"])
        case "getLastError":
            return .getLastError(ticket: fields["ticket"])
        case "closeConnection":
            return .closeConnection(ticket: fields["ticket"])
        default:
            throw ParseError("the Web Connector service has no operation \(call.name)")
        }
    }

    /// `qbXMLMajorVers` and `qbXMLMinorVers`: both empty is no version; anything but two small numbers is refused.
    private static func version(major: String, minor: String) throws(ParseError) -> QBXMLVersion? {
        let (major, minor) = (major.trimmingCharacters(in: .whitespaces), minor.trimmingCharacters(in: .whitespaces))
        if major.isEmpty && minor.isEmpty { return nil }
        guard major.utf8.count <= 2, minor.utf8.count <= 2, let majorNumber = Int(major),
            let version = QBXMLVersion(major: majorNumber, minor: minor.isEmpty ? 0 : Int(minor) ?? -1)
        else { throw ParseError("qbXMLMajorVers and qbXMLMinorVers must be a qbXML version (1–99 and 0–99)") }
        return version
    }

    // MARK: Writing

    /// The answer to a call: a SOAP 1.1 envelope with `<operation>Response><operation>Result>`.
    public static func envelope(_ answer: WebConnectorAnswer) -> Data {
        var result = ""
        switch answer {
        case .authenticate(let strings):
            for string in strings {
                result += "<string>"
                XMLText.escape(string, into: &result, quotes: false)
                result += "</string>"
            }
        case .receiveResponseXML(let percent):
            result = String(percent)
        case .serverVersion(let text), .clientVersion(let text), .sendRequestXML(let text),
            .connectionError(let text), .getLastError(let text), .closeConnection(let text):
            XMLText.escape(text, into: &result, quotes: false)
        }
        let operation = answer.operation
        return document(
            "<\(operation)Response xmlns=\"\(namespace)\"><\(operation)Result>\(result)</\(operation)Result>"
                + "</\(operation)Response>")
    }

    /// A SOAP 1.1 fault: `soap:Client` (the request is at fault) or `soap:Server`, with `reason`.
    public static func fault(_ reason: String, client: Bool = true) -> Data {
        var text = ""
        XMLText.escape(reason, into: &text, quotes: false)
        return document(
            "<soap:Fault><faultcode>soap:\(client ? "Client" : "Server")</faultcode><faultstring>\(text)</faultstring>"
                + "</soap:Fault>")
    }

    private static func document(_ body: String) -> Data {
        Data(
            ("<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"\(envelopeNamespace)\""
                + " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
                + " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><soap:Body>\(body)</soap:Body></soap:Envelope>")
                .utf8)
    }
}

/// An operation's fields by local name: those in the service's namespace or in none (the forms clients write).
private struct Fields {
    let values: [String: String]

    init(_ call: XMLNode) {
        var values: [String: String] = [:]
        for field in call.children where field.namespace == WebConnectorSOAP.namespace || field.namespace.isEmpty {
            if values[field.name] == nil { values[field.name] = field.text }
        }
        self.values = values
    }

    /// A field's text; `""` when the call leaves it out (the Web Connector sends empty fields as `<hresult />`).
    subscript(name: String) -> String { values[name] ?? "" }
}

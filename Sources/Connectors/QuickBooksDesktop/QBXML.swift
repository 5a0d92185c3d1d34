import Foundation

/// qbXML (platforms.md §3.4): the request documents Ledgerwire hands the Web Connector for QuickBooks Desktop, and
/// QuickBooks' answers to them.
///
/// A request document holds one or more requests (`CustomerAddRq`, `InvoiceQueryRq`, …), each with a `requestID`
/// its answer echoes; element order inside a request is QuickBooks' own and significant, so requests are built as
/// `XMLNode`s whose children are already in that order.
public enum QBXML {
    /// What QuickBooks does with the rest of a document once a request in it fails.
    public enum OnError: String, Sendable {
        /// The requests after it are not run.
        case stopOnError
        /// Each request stands alone: the others run whatever happened to it.
        case continueOnError
        /// Nothing the document did is kept.
        case rollbackOnError
    }

    /// The deepest an answer nests (`QBXML`, `QBXMLMsgsRs`, a response, a `…Ret`, a line, a reference, its id is
    /// seven): well past it.
    static let maximumDepth = 32

    /// A whole request document: the XML declaration, the `qbxml` version instruction, then `requests` in order.
    public static func requestDocument(_ requests: [XMLNode], version: QBXMLVersion, onError: OnError) -> String {
        var text = "<?xml version=\"1.0\" encoding=\"utf-8\"?><?qbxml version=\"\(version)\"?><QBXML>"
        text += "<QBXMLMsgsRq onError=\"\(onError.rawValue)\">"
        for request in requests { write(request, into: &text) }
        text += "</QBXMLMsgsRq></QBXML>"
        return text
    }

    /// Writes `node`: attributes in name order, then its text or its children in their order.
    public static func write(_ node: XMLNode, into text: inout String) {
        text += "<\(node.name)"
        for (name, value) in node.attributes.sorted(by: { $0.key < $1.key }) {
            text += " \(name)=\""
            XMLText.escape(value, into: &text, quotes: true)
            text += "\""
        }
        text += ">"
        if node.children.isEmpty {
            XMLText.escape(node.text, into: &text, quotes: false)
        } else {
            for child in node.children { write(child, into: &text) }
        }
        text += "</\(node.name)>"
    }

    /// QuickBooks' answers in a response document (`QBXML` → `QBXMLMsgsRs` → `…Rs`), in order.
    /// - Throws: when the document is not a qbXML response, or an answer has no status code QuickBooks writes.
    public static func responses(in document: String) throws(XMLTree.ParseError) -> [QBXMLResponse] {
        let root = try XMLTree.read(Data(document.utf8), namespaces: false, maximumDepth: maximumDepth)
        guard root.name == "QBXML", let messages = root.child("QBXMLMsgsRs") else {
            throw XMLTree.ParseError("the document is not a qbXML response (QBXML, QBXMLMsgsRs)")
        }
        var responses: [QBXMLResponse] = []
        for response in messages.children {
            guard let text = response.attributes["statusCode"], text.utf8.count <= 6, let code = Int(text) else {
                throw XMLTree.ParseError("the answer \(response.name) has no statusCode")
            }
            responses.append(
                QBXMLResponse(
                    type: response.name, requestID: response.attributes["requestID"], statusCode: code,
                    severity: response.attributes["statusSeverity"] ?? "",
                    message: response.attributes["statusMessage"] ?? "",
                    returned: response.children,
                    iteratorID: response.attributes["iteratorID"],
                    iteratorRemainingCount: response.attributes["iteratorRemainingCount"].flatMap(count(_:)),
                    retCount: response.attributes["retCount"].flatMap(count(_:))))
        }
        return responses
    }

    /// The product and the highest qbXML version QuickBooks names in its host answer (`HostQueryRs`, in the first
    /// turn's `strHCPResponse`); `nil`s when there is none, or it cannot be read.
    public static func host(in hostResponse: String) -> (product: String?, version: QBXMLVersion?) {
        guard !hostResponse.isEmpty, let responses = try? responses(in: hostResponse),
            let host = responses.first(where: { $0.type == "HostQueryRs" })?.returned.first(where: {
                $0.name == "HostRet"
            })
        else { return (nil, nil) }
        let versions = host.children.filter { $0.name == "SupportedQBXMLVersion" }.compactMap { node -> QBXMLVersion? in
            let parts = node.text.split(separator: ".")
            guard let major = parts.first.flatMap({ Int($0.prefix(2)) }) else { return nil }
            return QBXMLVersion(major: major, minor: parts.dropFirst().first.flatMap { Int($0.prefix(2)) } ?? 0)
        }
        return (host.value("ProductName").map { String($0.prefix(200)) }, versions.max())
    }

    /// A count QuickBooks wrote: a whole number from 0 to 999,999,999, or nothing.
    private static func count(_ text: String) -> Int? {
        guard text.utf8.count <= 9, let value = Int(text), value >= 0 else { return nil }
        return value
    }
}

/// One of QuickBooks' answers (`InvoiceAddRs`, `CustomerQueryRs`, …) in a qbXML response document.
public struct QBXMLResponse: Sendable, Hashable {
    /// The answer's element name: the request's with `Rs` for `Rq`.
    public var type: String
    /// The request's `requestID`, echoed.
    public var requestID: String?
    /// 0 is success; 1 a query that found nothing; 3100 a name in use, 3200 a stale `EditSequence`, 3170/3180 a
    /// record in use… (platforms.md §3.4).
    public var statusCode: Int
    /// `Info`, `Warn` or `Error`.
    public var severity: String
    /// QuickBooks' own words.
    public var message: String
    /// What it returned: the `…Ret` elements (a record each), and anything else in the answer.
    public var returned: [XMLNode]
    /// A query's iterator, while more remain (`iteratorRemainingCount`).
    public var iteratorID: String?
    public var iteratorRemainingCount: Int?
    public var retCount: Int?

    public init(
        type: String, requestID: String?, statusCode: Int, severity: String, message: String, returned: [XMLNode],
        iteratorID: String? = nil, iteratorRemainingCount: Int? = nil, retCount: Int? = nil
    ) {
        self.type = type
        self.requestID = requestID
        self.statusCode = statusCode
        self.severity = severity
        self.message = message
        self.returned = returned
        self.iteratorID = iteratorID
        self.iteratorRemainingCount = iteratorRemainingCount
        self.retCount = retCount
    }

    /// Whether the request failed (an `Error` severity; `Warn` and `Info` answers did what they could).
    public var failed: Bool { severity == "Error" }
}

public import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An element of an XML document read by `XMLTree.read`: its namespace (when read with namespaces), name, attributes,
/// text and children.
public struct XMLNode: Sendable, Hashable {
    /// The namespace URI; `""` for none, or when the document was read without namespaces.
    public var namespace: String
    /// The local name (with namespaces), or the name as written.
    public var name: String
    public var attributes: [String: String]
    public var text: String
    public var children: [XMLNode]

    public init(
        namespace: String = "", name: String, attributes: [String: String] = [:], text: String = "",
        children: [XMLNode] = []
    ) {
        self.namespace = namespace
        self.name = name
        self.attributes = attributes
        self.text = text
        self.children = children
    }

    /// The first child named `name`.
    public func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// The text of the first child named `name`.
    public func value(_ name: String) -> String? { child(name)?.text }
}

/// Reads untrusted XML (the Web Connector's SOAP, QuickBooks' qbXML answers) into `XMLNode`s, bounded: no document
/// type (so no entity can be declared and expanded), no bytes that are not UTF-8, a depth limit.
public enum XMLTree {
    /// Why a document was not read, in words for the sender.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String

        public init(_ message: String) { self.message = message }

        public var description: String { message }
    }

    /// Reads `bytes` (UTF-8; a declaration naming another encoding is ignored) to at most `maximumDepth` levels.
    public static func read(_ bytes: Data, namespaces: Bool, maximumDepth: Int) throws(ParseError) -> XMLNode {
        // The parser hands names and text over as UTF-8 and traps on bytes that are not (Foundation's
        // `_NSXMLParserStartElementNs`): they never reach it.
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw ParseError("the document is not UTF-8 text")
        }
        if text.hasPrefix("<?xml"), let end = text.firstRange(of: "?>") {
            // A declaration naming another encoding would have the parser read these UTF-8 bytes as that.
            text = String(text[end.upperBound...])
        }
        if containsCaseInsensitive(text.utf8, "<!DOCTYPE") || containsCaseInsensitive(text.utf8, "<!ENTITY") {
            throw ParseError("a document type declaration is not accepted")
        }
        if hasEmptyProcessingInstruction(text.utf8) {
            throw ParseError("a processing instruction without data (<?name?>) is not accepted")
        }
        let builder = TreeBuilder(maximumDepth: maximumDepth)
        let parser = XMLParser(data: Data(text.utf8))
        parser.shouldProcessNamespaces = namespaces
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let parsed = parser.parse()
        if let failure = builder.failure { throw ParseError(failure) }
        guard parsed, let root = builder.root else {
            throw ParseError(
                "the document is not well-formed XML at line \(parser.lineNumber), column \(parser.columnNumber)")
        }
        return root
    }

    /// Whether `text` may hold a processing instruction with nothing after its name (`<?name?>`): libxml2 hands
    /// Foundation's parser no data for one, which it passes to `strlen` and crashes (found by FuzzQBXML). Any `<?`
    /// followed by `?>` before a space counts, wherever it stands (in a comment, a CDATA section, a broken tag): what
    /// libxml2 makes of a malformed document is not guessed at (a `<?` inside a broken start tag once led past one).
    public static func hasEmptyProcessingInstruction(_ text: String.UTF8View) -> Bool {
        let bytes = Array(text)
        let count = bytes.count
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        var index = 0
        while index + 1 < count {
            guard bytes[index] == UInt8(ascii: "<"), bytes[index + 1] == UInt8(ascii: "?") else {
                index += 1
                continue
            }
            var cursor = index + 2
            while cursor < count, !isSpace(bytes[cursor]) {
                if bytes[cursor] == UInt8(ascii: "?"), cursor + 1 < count, bytes[cursor + 1] == UInt8(ascii: ">") {
                    return true
                }
                cursor += 1
            }
            // Every `<?` before that space reaches it too, with no `?>` on the way: one pass, not one per `<?`.
            index = cursor
        }
        return false
    }

    /// Whether `needle` (ASCII) occurs in `bytes`, ignoring ASCII case.
    static func containsCaseInsensitive(_ bytes: String.UTF8View, _ needle: String) -> Bool {
        let pattern = Array(needle.uppercased().utf8)
        func upper(_ byte: UInt8) -> UInt8 {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) ? byte - 32 : byte
        }
        var matched = 0
        for byte in bytes {
            // The needles (`<!DOCTYPE`, `<!ENTITY`) have no repeated prefix: a mismatch restarts at this byte.
            if upper(byte) == pattern[matched] {
                matched += 1
                if matched == pattern.count { return true }
            } else {
                matched = upper(byte) == pattern[0] ? 1 : 0
            }
        }
        return false
    }
}

/// Builds the element tree from the parser's events, to a depth limit.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    let maximumDepth: Int
    var root: XMLNode?
    var failure: String?
    private var stack: [XMLNode] = []

    init(maximumDepth: Int) { self.maximumDepth = maximumDepth }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        guard stack.count < maximumDepth else {
            failure = "the document nests deeper than \(maximumDepth) elements"
            parser.abortParsing()
            return
        }
        stack.append(XMLNode(namespace: namespaceURI ?? "", name: elementName, attributes: attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty else { return }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard !stack.isEmpty, let text = String(data: CDATABlock, encoding: .utf8) else { return }
        stack[stack.count - 1].text += text
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let element = stack.popLast() else { return }
        if stack.isEmpty {
            if root == nil { root = element }
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }
}

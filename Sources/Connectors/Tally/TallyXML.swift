public import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// One XML element as Tally writes and reads them: a name, attributes in order, text, and child elements. Tally's
/// documents carry no mixed content that matters (text sits in leaf elements), so the text of an element with
/// children is what lies between them, trimmed away by readers.
public struct TallyElement: Sendable, Hashable {
    public struct Attribute: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var name: String
    public var attributes: [Attribute]
    public var text: String
    public var children: [TallyElement]

    public init(_ name: String, attributes: [Attribute] = [], text: String = "", children: [TallyElement] = []) {
        self.name = name
        self.attributes = attributes
        self.text = text
        self.children = children
    }

    /// A leaf element holding `text`.
    public static func leaf(_ name: String, _ text: String) -> TallyElement {
        TallyElement(name, text: text)
    }

    /// The value of the attribute `name` (Tally's names are upper case; matched exactly).
    public subscript(attribute name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    /// The first child named `name`.
    public func child(_ name: String) -> TallyElement? {
        children.first { $0.name == name }
    }

    /// Every child named `name`, in order.
    public func children(_ name: String) -> [TallyElement] {
        children.filter { $0.name == name }
    }

    /// The trimmed text of the first child named `name`, or `nil` when there is none.
    public func value(_ name: String) -> String? {
        child(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// The first element named `name` at any depth below this one, depth first.
    public func descendant(_ name: String) -> TallyElement? {
        for child in children {
            if child.name == name { return child }
            if let found = child.descendant(name) { return found }
        }
        return nil
    }

    /// Sets the attribute `name`, replacing a value it had.
    public mutating func setAttribute(_ name: String, _ value: String) {
        if let index = attributes.firstIndex(where: { $0.name == name }) {
            attributes[index].value = value
        } else {
            attributes.append(Attribute(name, value))
        }
    }

    /// The element as XML text, without a declaration.
    public var xml: String {
        var out = ""
        write(into: &out)
        return out
    }

    /// Appends the element as XML text to `out`.
    public func write(into out: inout String) {
        out += "<"
        out += name
        for attribute in attributes {
            out += " \(attribute.name)=\""
            TallyXML.escape(attribute.value, into: &out, quotes: true)
            out += "\""
        }
        if children.isEmpty && text.isEmpty {
            out += "/>"
            return
        }
        out += ">"
        TallyXML.escape(text, into: &out, quotes: false)
        for child in children { child.write(into: &out) }
        out += "</\(name)>"
    }
}

/// The bytes Tally's XML server takes and answers with: UTF-8, or UTF-16 little-endian (what TallyPrime's own tools
/// send, so every script survives).
public enum TallyEncoding: String, Sendable, Hashable, CaseIterable {
    case utf8 = "utf-8"
    case utf16 = "utf-16"

    /// The `Content-Type` of a body in this encoding.
    public var contentType: String {
        switch self {
        case .utf8: "text/xml;charset=utf-8"
        case .utf16: "text/xml;charset=utf-16"
        }
    }

    /// The encoding of a body: UTF-16 when its `Content-Type` says so or it starts with a UTF-16LE byte-order mark
    /// or a `<` followed by a zero byte; UTF-8 otherwise.
    public static func of(_ body: Data, contentType: String?) -> TallyEncoding {
        if let contentType, contentType.lowercased().replacingOccurrences(of: " ", with: "").contains("charset=utf-16")
        {
            return .utf16
        }
        if body.count >= 2 {
            let first = body[body.startIndex]
            let second = body[body.index(after: body.startIndex)]
            if (first == 0xFF && second == 0xFE) || (first == UInt8(ascii: "<") && second == 0) { return .utf16 }
        }
        return .utf8
    }

    /// `text` in this encoding (UTF-16 without a byte-order mark, as Tally's clients send it).
    public func encode(_ text: String) -> Data {
        switch self {
        case .utf8: return Data(text.utf8)
        case .utf16:
            var data = Data(capacity: text.utf16.count * 2)
            for unit in text.utf16 {
                data.append(UInt8(truncatingIfNeeded: unit))
                data.append(UInt8(truncatingIfNeeded: unit >> 8))
            }
            return data
        }
    }

    /// The text of `body` in this encoding, a byte-order mark dropped; `nil` when the bytes are not valid in it.
    public func decode(_ body: Data) -> String? {
        switch self {
        case .utf8:
            var bytes = body[...]
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            return String(validating: bytes, as: UTF8.self)
        case .utf16:
            guard body.count % 2 == 0 else { return nil }
            var units: [UInt16] = []
            units.reserveCapacity(body.count / 2)
            var index = body.startIndex
            while index < body.endIndex {
                units.append(UInt16(body[index]) | UInt16(body[body.index(after: index)]) << 8)
                index = body.index(index, offsetBy: 2)
            }
            if units.first == 0xFEFF { units.removeFirst() }
            return String(validating: units, as: UTF16.self)
        }
    }
}

/// Reading and writing Tally's XML documents.
public enum TallyXML {
    /// Why a document could not be read.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String

        public init(_ message: String) {
            self.message = message
        }

        public var description: String { message }
    }

    /// The deepest nesting read: Tally's deepest documents (a voucher's bill allocations in an envelope) are about ten
    /// levels deep.
    public static let maximumDepth = 64

    /// Reads one document from `body` in `encoding`.
    ///
    /// Tally writes control characters as character references that XML 1.0 forbids (`<PARENT>&#4; Primary</PARENT>`
    /// for a top-level group): they are dropped before parsing. A document type declaration (which Tally never sends)
    /// is refused, so no entity can be declared and expanded.
    public static func parse(_ body: Data, encoding: TallyEncoding) throws(ParseError) -> TallyElement {
        guard let text = encoding.decode(body) else {
            throw ParseError("the body is not valid \(encoding.rawValue) text")
        }
        return try parse(text)
    }

    /// Reads one document from `text`.
    public static func parse(_ text: String) throws(ParseError) -> TallyElement {
        var document = sanitized(text)
        if document.hasPrefix("<?xml"), let end = document.range(of: "?>") {
            // The declaration may name UTF-16, which the parser would believe of the UTF-8 bytes it is given.
            document = String(document[end.upperBound...])
        }
        if document.range(of: "<!DOCTYPE", options: .caseInsensitive) != nil
            || document.range(of: "<!ENTITY", options: .caseInsensitive) != nil
        {
            throw ParseError("a document type declaration is not accepted")
        }
        if XMLTree.hasEmptyProcessingInstruction(document.utf8) {
            throw ParseError("a processing instruction without data (<?name?>) is not accepted")
        }
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(document.utf8))
        parser.shouldProcessNamespaces = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let parsed = parser.parse()
        if let failure = builder.failure { throw ParseError(failure) }
        guard parsed, let root = builder.root else {
            let reason = parser.parserError.map { " (\(($0 as NSError).code))" } ?? ""
            throw ParseError(
                "the body is not well-formed XML\(reason) at line \(parser.lineNumber), column \(parser.columnNumber)")
        }
        return root
    }

    /// A document as Tally's server and clients write it: a declaration naming `encoding`, then `root`.
    public static func document(_ root: TallyElement, encoding: TallyEncoding) -> Data {
        var text = "<?xml version=\"1.0\" encoding=\"\(encoding.rawValue)\"?>"
        root.write(into: &text)
        return encoding.encode(text)
    }

    /// `text` with character references to characters XML 1.0 forbids removed (Tally's `&#4;`), decimal or hex.
    static func sanitized(_ text: String) -> String {
        guard text.contains("&#") else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var rest = text[...]
        while let start = rest.range(of: "&#") {
            out += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(of: ";"), after.distance(from: after.startIndex, to: end) <= 8 else {
                out += "&#"
                rest = after
                continue
            }
            let digits = after[..<end]
            let value: UInt32? =
                digits.first == "x" || digits.first == "X"
                ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            if let value, isForbidden(value) {
                // Dropped.
            } else {
                out += "&#"
                out += digits
                out += ";"
            }
            rest = after[after.index(after: end)...]
        }
        out += rest
        return out
    }

    private static func isForbidden(_ scalar: UInt32) -> Bool {
        (scalar < 0x20 && scalar != 0x9 && scalar != 0xA && scalar != 0xD) || scalar == 0xFFFE || scalar == 0xFFFF
            || (0xD800...0xDFFF).contains(scalar) || scalar > 0x10FFFF
    }

    /// Appends `text` to `out` with XML's special characters escaped; control characters XML forbids are left out.
    static func escape(_ text: String, into out: inout String, quotes: Bool) {
        XMLText.escape(text, into: &out, quotes: quotes)
    }
}

/// Builds the element tree from the parser's events.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    var root: TallyElement?
    var failure: String?
    private var stack: [TallyElement] = []

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        guard stack.count < TallyXML.maximumDepth else {
            failure = "the document nests deeper than \(TallyXML.maximumDepth) elements"
            parser.abortParsing()
            return
        }
        // The parser gives attributes unordered: they are kept sorted by name, so a document reads the same each time.
        let ordered = attributes.sorted { $0.key < $1.key }.map { TallyElement.Attribute($0.key, $0.value) }
        stack.append(TallyElement(elementName, attributes: ordered))
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
        guard var element = stack.popLast() else { return }
        if !element.children.isEmpty, element.text.allSatisfy(\.isWhitespace) { element.text = "" }
        if stack.isEmpty {
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
    }
}

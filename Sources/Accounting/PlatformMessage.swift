/// One message of a conversation with a platform reached through the mailbox channel (a qbXML request for the
/// QuickBooks Web Connector, an XML envelope for a Tally agent, …), or the platform's reply to one: text, as every such
/// platform speaks it, with its media type.
public struct PlatformMessage: Sendable, Hashable {
    /// `application/json`, `application/xml`, `text/csv`, …
    public var contentType: String
    public var body: String

    public init(contentType: String, body: String) {
        self.contentType = contentType
        self.body = body
    }

    /// The content type of the reply Ledgerwire records itself for a message handed to the platform whose answer
    /// never came back (a QuickBooks Web Connector run that broke off): the platform may or may not have applied it.
    public static let lostContentType = "application/x-ledgerwire-answer-lost"

    /// Whether this reply says the platform's answer was lost (`lostContentType`).
    public var isLostAnswer: Bool { contentType == Self.lostContentType }
}

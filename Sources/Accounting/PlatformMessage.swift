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
}

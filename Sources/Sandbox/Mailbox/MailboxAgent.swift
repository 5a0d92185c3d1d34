public import Accounting
public import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The agent beside `MailboxBooks`: it calls Ledgerwire (the books are never called), fetches the messages waiting in
/// the integration's mailbox, applies each to the books and posts the books' answer back. Run it once (`run()`), as
/// the QuickBooks Web Connector runs on its schedule.
public struct MailboxAgent: Sendable {
    public enum AgentError: Error, Equatable {
        /// Ledgerwire answered a call with `status`.
        case refused(status: Int, body: String)
    }

    /// Ledgerwire's base URL, `http://127.0.0.1:8080`.
    public var ledgerwire: URL
    public var integrationID: String
    /// An operator key of the integration's tenant.
    public var apiKey: String
    public var books: MailboxBooks

    public init(ledgerwire: URL, integrationID: String, apiKey: String, books: MailboxBooks) {
        self.ledgerwire = ledgerwire
        self.integrationID = integrationID
        self.apiKey = apiKey
        self.books = books
    }

    /// Fetches the waiting messages and answers each.
    /// - Parameter losingReplies: how many of the answers (the first ones) are lost on their way back after the books
    ///   applied them, as a dropped connection loses them; those messages stay in the mailbox for the next run.
    /// - Returns: how many messages were fetched.
    @discardableResult
    public func run(losingReplies: Int = 0) async throws -> Int {
        let mailbox = ledgerwire.appendingPathComponent("api/v1/integrations/\(integrationID)/mailbox")
        let (listed, _) = try await call("GET", URL(string: mailbox.absoluteString + "?limit=100")!)
        let messages = listed["items"]?.arrayValue ?? []
        for (index, message) in messages.enumerated() {
            guard let id = message["id"]?.stringValue, let body = message["body"]?.stringValue else { continue }
            let answer = await books.apply(body)
            if index < losingReplies { continue }
            _ = try await call(
                "POST", mailbox.appendingPathComponent("\(id)/reply"),
                body: ["content_type": "application/json", "body": .string(answer)])
        }
        return messages.count
    }

    /// Posts `reply` to message `id` as it is, and gives back Ledgerwire's status and answer (for tests of replies
    /// sent twice or changed).
    public func reply(to id: String, _ reply: String) async throws -> (status: Int, body: JSONValue) {
        let url = ledgerwire.appendingPathComponent("api/v1/integrations/\(integrationID)/mailbox/\(id)/reply")
        return try await send("POST", url, body: ["content_type": "application/json", "body": .string(reply)])
    }

    private func call(_ method: String, _ url: URL, body: JSONValue? = nil) async throws -> (JSONValue, Int) {
        let (status, json) = try await send(method, url, body: body)
        guard (200..<300).contains(status) else { throw AgentError.refused(status: status, body: json.canonicalString) }
        return (json, status)
    }

    private func send(_ method: String, _ url: URL, body: JSONValue?) async throws -> (status: Int, body: JSONValue) {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.canonicalBytes)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONValue(parsing: Array(data))) ?? .null)
    }
}

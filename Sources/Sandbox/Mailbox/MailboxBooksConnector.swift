public import Accounting
public import Connectors

extension Platform {
    /// `MailboxBooks`, the sandbox's test platform on the mailbox channel (no server serves it unless a test
    /// registers its connector).
    public static let mailboxBooks = Platform(rawValue: "sandbox_mailbox_books")!
}

/// The connector of `MailboxBooks`: every exchange goes through the job's mailbox, so a push journals its message,
/// waits for the books' agent, and completes from the reply on its next run. Customers and invoices, created (a
/// customer of the same name in the books is adopted by the common rule, or the new one is given a distinct name).
public struct MailboxBooksConnector: Connector {
    public let platform = Platform.mailboxBooks
    public let capabilities = ConnectorCapabilities(
        webhooks: false, maximumBatchSize: 1, changeFeed: false, mappingKinds: [], adoptsExisting: [.customer],
        channel: .mailbox)

    public init() {}

    public func find(matching requests: [PushRequest], context: ConnectorContext) async throws -> [[RemoteMatch]] {
        var found: [[RemoteMatch]] = []
        for request in requests {
            guard request.recordType == .customer, let name = request.data["name"]?.stringValue else {
                found.append([])
                continue
            }
            let answer = try ask(["op": "find_customers", "name": .string(name)], context: context)
            found.append(
                (answer["matches"]?.arrayValue ?? []).compactMap { match in
                    match["id"]?.stringValue.map {
                        RemoteMatch(
                            remoteID: $0, matchedBy: "name",
                            adoption: .success(PushResult(remoteID: $0, remoteVersion: "1")))
                    }
                })
        }
        return found
    }

    public func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult {
        guard request.action == .create else {
            throw ConnectorError.validation(
                code: "unsupported", message: "the sandbox books take new customers and invoices only")
        }
        let message: JSONValue
        switch request.recordType {
        case .customer:
            let name = request.data["name"]?.stringValue ?? request.localID
            // A record of that name is another billing record's: this one is made under a name of its own.
            let taken = request.notAdoptable.contains { $0.matchedBy == "name" }
            message = [
                "op": "add_customer", "key": .string(request.idempotencyKey),
                "name": .string(taken ? "\(name) (\(request.localID))" : name),
                "email": request.data["email"] ?? .null,
            ]
        case .invoice:
            guard let customerID = request.data["customer_id"]?.stringValue,
                let customer = request.references[RecordReference(.customer, customerID)]
            else {
                throw ConnectorError.validation(code: "no_customer", message: "the invoice names no customer")
            }
            let lines: [JSONValue] = (request.data["lines"]?.arrayValue ?? []).map {
                [
                    "description": $0["description"] ?? "", "amount": $0["amount"] ?? .null,
                    "tax": $0["tax_amount"] ?? "0",
                ]
            }
            message = [
                "op": "add_invoice", "key": .string(request.idempotencyKey),
                "number": request.data["number"] ?? .null, "customer_id": .string(customer),
                "currency": request.data["currency"] ?? .null, "lines": .array(lines),
            ]
        default:
            throw ConnectorError.validation(
                code: "unsupported", message: "the sandbox books take customers and invoices only")
        }
        let answer = try ask(message, context: context)
        guard let id = answer["id"]?.stringValue else {
            throw ConnectorError.validation(code: "unanswered", message: "the books' answer has no id")
        }
        if request.recordType == .invoice, let total = request.data["total"]?.stringValue,
            answer["total"]?.stringValue != total
        {
            throw ConnectorError.validation(
                code: "total_mismatch",
                message: "the books total invoice \(id) at \(answer["total"]?.stringValue ?? "?"), billing at \(total)")
        }
        return PushResult(remoteID: id, remoteVersion: answer["version"]?.stringValue)
    }

    public func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord?
    {
        throw ConnectorError.validation(code: "unsupported", message: "the sandbox books are not read back")
    }

    public func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        ChangePage(changes: [], nextCursor: cursor, hasMore: false)
    }

    public func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        RemoteChart(accounts: [], taxCodes: [], items: [], books: "sandbox books")
    }

    public func oauthEndpoints(settings: JSONValue) -> OAuthEndpoints? { nil }

    public func confirmsAccess(to remoteTenantID: String, context: ConnectorContext) async throws(ConnectorError)
        -> Bool
    { true }

    /// The books' answer to `message`, through the job's mailbox; a refusal is thrown as the books worded it.
    private func ask(_ message: JSONValue, context: ConnectorContext) throws -> JSONValue {
        guard let mailbox = context.mailbox else {
            throw ConnectorError.validation(code: "no_mailbox", message: "the sandbox books answer only by mailbox")
        }
        let reply = try mailbox.exchange(
            PlatformMessage(contentType: "application/json", body: message.canonicalString))
        guard let answer = try? JSONValue(parsing: Array(reply.body.utf8)) else {
            throw ConnectorError.validation(code: "malformed_reply", message: "the books' reply is not JSON")
        }
        if let error = answer["error"] {
            throw ConnectorError.validation(
                code: error["code"]?.stringValue ?? "refused", message: error["message"]?.stringValue ?? "refused")
        }
        return answer
    }
}

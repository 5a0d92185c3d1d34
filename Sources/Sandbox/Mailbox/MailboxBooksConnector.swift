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
            guard case .customer(let customer) = request.record else {
                found.append([])
                continue
            }
            let name = customer.name
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
        let total: Money?
        switch request.record {
        case .customer(let customer):
            // A record of that name is another billing record's: this one is made under a name of its own.
            let taken = request.notAdoptable.contains { $0.matchedBy == "name" }
            message = [
                "op": "add_customer", "key": .string(request.idempotencyKey),
                "name": .string(taken ? "\(customer.name) (\(request.localID))" : customer.name),
                "email": customer.email.map(JSONValue.string) ?? .null,
            ]
            total = nil
        case .invoice(let invoice):
            guard let customer = request.references[RecordReference(.customer, invoice.customerID.rawValue)] else {
                throw ConnectorError.validation(code: "no_customer", message: "the invoice's customer is not linked")
            }
            let lines: [JSONValue] = invoice.lines.map {
                [
                    "description": .string($0.description), "amount": .string($0.amount.decimalString),
                    "tax": .string(($0.taxAmount ?? .zero(invoice.currency)).decimalString),
                ]
            }
            message = [
                "op": "add_invoice", "key": .string(request.idempotencyKey), "number": .string(invoice.number),
                "customer_id": .string(customer), "currency": .string(invoice.currency.code), "lines": .array(lines),
            ]
            total = invoice.total
        default:
            throw ConnectorError.validation(
                code: "unsupported", message: "the sandbox books take customers and invoices only")
        }
        let answer = try ask(message, context: context)
        guard let id = answer["id"]?.stringValue else {
            throw ConnectorError.validation(code: "unanswered", message: "the books' answer has no id")
        }
        if let total, answer["total"]?.stringValue != total.decimalString {
            throw ConnectorError.validation(
                code: "total_mismatch",
                message: "the books total invoice \(id) at \(answer["total"]?.stringValue ?? "?"), billing at "
                    + total.decimalString)
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

    /// Its agent calls Ledgerwire; nothing here calls it.
    public func authentication(settings: JSONValue) -> AuthenticationScheme { .agent }

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

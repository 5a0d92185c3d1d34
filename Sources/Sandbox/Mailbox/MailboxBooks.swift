public import Accounting

/// A test platform reached only through Ledgerwire's mailbox channel, as QuickBooks Desktop (through the Web
/// Connector), a Tally agent or a Sage 50 file exchange will be: nothing calls it, its agent (`MailboxAgent`) fetches
/// Ledgerwire's messages, applies each here and posts the answer back, whenever it runs.
///
/// Small but strict books of customers and invoices, speaking JSON:
/// - `{"op": "find_customers", "name"}` → `{"matches": [{id, name, email}]}`;
/// - `{"op": "add_customer", "key", "name", "email"?}` → `{id, version}`; a name another customer has is refused
///   (`duplicate_name`), as real books refuse it;
/// - `{"op": "add_invoice", "key", "number", "customer_id", "currency", "lines": [{description, amount, tax?}]}` →
///   `{id, version, total}`, the total computed here from the lines and their tax; an unknown customer, a number
///   already used, an unknown currency or an amount that is not one are refused.
///
/// A write is applied once per `key`: the same key again answers what it answered the first time, so a message handed
/// out twice (its reply lost on the way back) is not applied twice. Refusals are `{"error": {code, message}}`.
public actor MailboxBooks {
    public struct Customer: Sendable, Hashable {
        public var id: String
        public var name: String
        public var email: String?
    }

    public struct Invoice: Sendable, Hashable {
        public var id: String
        public var number: String
        public var customerID: String
        public var lines: [(description: String, amount: Money, tax: Money)]
        public var total: Money

        public static func == (lhs: Invoice, rhs: Invoice) -> Bool {
            lhs.id == rhs.id && lhs.number == rhs.number && lhs.customerID == rhs.customerID && lhs.total == rhs.total
                && lhs.lines.map(\.description) == rhs.lines.map(\.description)
                && lhs.lines.map(\.amount) == rhs.lines.map(\.amount) && lhs.lines.map(\.tax) == rhs.lines.map(\.tax)
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(id) }
    }

    public private(set) var customers: [Customer] = []
    public private(set) var invoices: [Invoice] = []
    /// Writes applied, by key, with the answer they got.
    private var answered: [String: JSONValue] = [:]
    /// Writes whose key came again (and were answered from `answered`, not applied).
    public private(set) var repeatedWrites = 0

    public init() {}

    /// Applies one message's body and answers it.
    public func apply(_ body: String) -> String {
        guard case .object(let message) = try? JSONValue(parsing: Array(body.utf8)) else {
            return Self.refusal("malformed", "the message is not a JSON object")
        }
        switch message["op"]?.stringValue {
        case "find_customers":
            let name = message["name"]?.stringValue ?? ""
            let matches = customers.filter { $0.name.lowercased() == name.lowercased() }.map(Self.json)
            return JSONValue.object(["matches": .array(matches)]).canonicalString
        case "add_customer", "add_invoice":
            guard let key = message["key"]?.stringValue, !key.isEmpty else {
                return Self.refusal("missing_key", "a write needs its key")
            }
            if let earlier = answered[key] {
                repeatedWrites += 1
                return earlier.canonicalString
            }
            let answer = message["op"] == "add_customer" ? addCustomer(message) : addInvoice(message)
            if answer["error"] == nil { answered[key] = answer }
            return answer.canonicalString
        default:
            return Self.refusal("unknown_op", "unknown op \(message["op"]?.stringValue ?? "(none)")")
        }
    }

    private func addCustomer(_ message: [String: JSONValue]) -> JSONValue {
        guard let name = message["name"]?.stringValue, !name.allSatisfy(\.isWhitespace) else {
            return Self.error("invalid_name", "a customer needs a name")
        }
        if customers.contains(where: { $0.name.lowercased() == name.lowercased() }) {
            return Self.error("duplicate_name", "another customer is already named \(name)")
        }
        let customer = Customer(id: "C-\(customers.count + 1)", name: name, email: message["email"]?.stringValue)
        customers.append(customer)
        return ["id": .string(customer.id), "version": "1"]
    }

    private func addInvoice(_ message: [String: JSONValue]) -> JSONValue {
        guard let customerID = message["customer_id"]?.stringValue, customers.contains(where: { $0.id == customerID })
        else { return Self.error("unknown_customer", "no customer \(message["customer_id"]?.stringValue ?? "")") }
        guard let number = message["number"]?.stringValue, !number.isEmpty else {
            return Self.error("invalid_number", "an invoice needs a number")
        }
        if invoices.contains(where: { $0.number == number }) {
            return Self.error("duplicate_number", "invoice number \(number) is already used")
        }
        guard let currency = message["currency"]?.stringValue.flatMap(Currency.init(code:)) else {
            return Self.error("invalid_currency", "unknown currency \(message["currency"]?.stringValue ?? "")")
        }
        var lines: [(description: String, amount: Money, tax: Money)] = []
        var total = Money.zero(currency)
        for line in message["lines"]?.arrayValue ?? [] {
            guard let text = line["amount"]?.stringValue, let amount = try? Money(parsing: text, currency: currency),
                let tax = try? Money(parsing: line["tax"]?.stringValue ?? "0", currency: currency),
                let sum = total.adding(amount)?.adding(tax)
            else { return Self.error("invalid_amount", "a line's amount is not an amount in \(currency.code)") }
            lines.append((line["description"]?.stringValue ?? "", amount, tax))
            total = sum
        }
        guard !lines.isEmpty else { return Self.error("no_lines", "an invoice needs a line") }
        let invoice = Invoice(
            id: "I-\(invoices.count + 1)", number: number, customerID: customerID, lines: lines, total: total)
        invoices.append(invoice)
        return ["id": .string(invoice.id), "version": "1", "total": .string(total.decimalString)]
    }

    private static func json(_ customer: Customer) -> JSONValue {
        [
            "id": .string(customer.id), "name": .string(customer.name),
            "email": customer.email.map(JSONValue.string) ?? .null,
        ]
    }

    private static func error(_ code: String, _ message: String) -> JSONValue {
        ["error": ["code": .string(code), "message": .string(message)]]
    }

    private static func refusal(_ code: String, _ message: String) -> String {
        error(code, message).canonicalString
    }
}

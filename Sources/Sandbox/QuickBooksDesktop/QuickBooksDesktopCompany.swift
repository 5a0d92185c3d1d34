import Accounting
public import Connectors
public import Foundation
import Synchronization

/// A fake QuickBooks Desktop company file, as the Web Connector reaches it (platforms.md §9.3): it runs qbXML request
/// documents the way QuickBooks does and answers each request with QuickBooks' status codes.
///
/// - The document must name a qbXML version this QuickBooks reads (`<?qbxml version="13.0"?>`), say `onError`, and
///   keep every element in the schema's order (`QuickBooksDesktopSchema`): otherwise QuickBooks runs none of it and
///   the Web Connector reports `0x80040400`.
/// - Customers (`ListID`), invoices, credit memos and payments (`TxnID`) carry an `EditSequence`; a `Mod` with an
///   old one is 3200; a name in use 3100; a reference to nothing 3140; a record to change that is not there 3120; a
///   record someone has open 3170 (3180 for the customer list); a text too long 3070; a payment of more than is
///   due 3210; a query that finds nothing 1.
/// - US editions tax documents with a sales-tax item's rate on taxable lines; UK/CA/AU take each line's `TaxAmount`.
public final class QuickBooksDesktopCompany: Sendable {
    /// `US`, `UK`, `CA` or `AU`.
    public let country: String
    public let companyFile: String
    /// The highest qbXML version this QuickBooks reads.
    public let version: QBXMLVersion
    private let state: Mutex<State>
    private let clock: @Sendable () -> Date

    public struct Customer: Sendable, Hashable {
        public var listID: String
        public var editSequence: Int
        public var name: String
        public var email: String?
        public var phone: String?
        public var modified: Date
    }

    public struct Line: Sendable, Hashable {
        public var itemListID: String
        public var description: String
        public var quantity: String
        public var amount: Int64
        public var taxAmount: Int64
        public var taxCodeListID: String?
    }

    /// An invoice or credit memo.
    public struct Document: Sendable, Hashable {
        public var txnID: String
        public var kind: String
        public var editSequence: Int
        public var customerListID: String
        public var date: String
        public var refNumber: String
        public var dueDate: String?
        public var memo: String
        public var lines: [Line]
        public var salesTaxItem: String?
        public var salesTax: Int64
        public var applied: Int64
        public var voided: Bool
        public var modified: Date

        public var subtotal: Int64 { lines.reduce(0) { $0 + $1.amount } }
        public var total: Int64 { subtotal + salesTax }
        public var balance: Int64 { total - applied }
    }

    public struct Payment: Sendable, Hashable {
        public var txnID: String
        public var editSequence: Int
        public var customerListID: String
        public var date: String
        public var refNumber: String?
        public var total: Int64
        public var memo: String?
        public var depositAccount: String?
        public var applied: [(txnID: String, amount: Int64)]
        /// Credits it set against invoices (`SetCredit`): the invoice, the credit memo, the amount.
        public var credits: [(txnID: String, creditTxnID: String, amount: Int64)] = []
        public var modified: Date

        public static func == (lhs: Payment, rhs: Payment) -> Bool {
            lhs.txnID == rhs.txnID && lhs.editSequence == rhs.editSequence
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(txnID) }
    }

    struct State {
        var counter = 0x8000_0000
        var customers: [String: Customer] = [:]
        var documents: [String: Document] = [:]
        var payments: [String: Payment] = [:]
        var items: [String: String] = [:]
        var taxCodes: [String: (name: String, taxable: Bool)] = [:]
        var salesTaxItems: [String: Int64] = [:]
        var accounts: [String: (name: String, type: String)] = [:]
        var locked: Set<String> = []
        var customerListLocked = false
        var iterators: [String: [XMLNode]] = [:]
        var statuses: [Int: Int] = [:]
    }

    public init(
        country: String = "US", companyFile: String = "C:\\Company Files\\Sandbox School.qbw",
        version: QBXMLVersion = QBXMLVersion(major: 13, minor: 0)!, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.country = country
        self.companyFile = companyFile
        self.version = version
        self.clock = clock
        state = Mutex(State())
    }

    // MARK: The company's lists, as a person set them up

    /// Adds a service item (its `ListID`).
    @discardableResult public func addItem(_ name: String) -> String {
        state.withLock { state in
            let id = Self.nextID(&state, clock())
            state.items[id] = name
            return id
        }
    }

    /// Deletes an item from the list (an accountant tidying up): references to it are refused.
    public func removeItem(_ listID: String) {
        _ = state.withLock { $0.items.removeValue(forKey: listID) }
    }

    /// Adds a sales-tax code (`Tax`/`Non` in a US company; VAT codes elsewhere).
    @discardableResult public func addTaxCode(_ name: String, taxable: Bool) -> String {
        state.withLock { state in
            let id = Self.nextID(&state, clock())
            state.taxCodes[id] = (name, taxable)
            return id
        }
    }

    /// Adds a US sales-tax item of `ratePercent` hundredths of a percent (`825` is 8.25 %).
    @discardableResult public func addSalesTaxItem(rateBasisPoints: Int64) -> String {
        state.withLock { state in
            let id = Self.nextID(&state, clock())
            state.salesTaxItems[id] = rateBasisPoints
            return id
        }
    }

    /// Adds an account of QuickBooks' `AccountType` (`Bank`, `Income`, …).
    @discardableResult public func addAccount(_ name: String, type: String = "Bank") -> String {
        state.withLock { state in
            let id = Self.nextID(&state, clock())
            state.accounts[id] = (name, type)
            return id
        }
    }

    /// Someone has the record open in QuickBooks (or, with `nil`, the customer list): writes to it are 3170 (3180).
    public func lock(_ id: String?) {
        state.withLock { state in
            if let id { state.locked.insert(id) } else { state.customerListLocked = true }
        }
    }

    public func unlockAll() {
        state.withLock { state in
            state.locked = []
            state.customerListLocked = false
        }
    }

    // MARK: What a person does in QuickBooks

    /// Receives a payment in QuickBooks against invoices (`applied`: TxnID and cents): its `TxnID`.
    @discardableResult public func receivePayment(
        customerListID: String, date: String, total: Int64, applied: [(txnID: String, amount: Int64)],
        depositAccount: String?
    ) -> String {
        state.withLock { state in
            let now = clock()
            let id = Self.nextID(&state, now)
            for (txn, amount) in applied { state.documents[txn]?.applied += amount }
            state.payments[id] = Payment(
                txnID: id, editSequence: Self.sequence(now), customerListID: customerListID, date: date,
                refNumber: nil, total: total, memo: nil, depositAccount: depositAccount, applied: applied,
                modified: now)
            return id
        }
    }

    /// Edits an invoice's memo in QuickBooks: its `EditSequence` moves on.
    public func touch(_ txnID: String, memo: String) {
        state.withLock { state in
            let now = clock()
            state.documents[txnID]?.memo = memo
            state.documents[txnID]?.editSequence += 1
            state.documents[txnID]?.modified = now
        }
    }

    /// Changes an invoice's line amounts in QuickBooks (a bursar's correction): its `EditSequence` moves on.
    public func setLineAmounts(_ txnID: String, _ amounts: [Int64]) {
        state.withLock { state in
            guard var document = state.documents[txnID] else { return }
            for (index, amount) in amounts.enumerated() where index < document.lines.count {
                document.lines[index].amount = amount
            }
            document.editSequence += 1
            document.modified = clock()
            state.documents[txnID] = document
        }
    }

    /// Voids an invoice or credit memo in QuickBooks: kept at zero, its memo marked `VOID:`.
    public func void(_ txnID: String) {
        let document =
            "<?xml version=\"1.0\"?><?qbxml version=\"13.0\"?><QBXML><QBXMLMsgsRq onError=\"stopOnError\">"
            + "<TxnVoidRq><TxnVoidType>Invoice</TxnVoidType><TxnID>\(txnID)</TxnID></TxnVoidRq></QBXMLMsgsRq></QBXML>"
        _ = try? run(document)
    }

    public var customers: [Customer] { state.withLock { Array($0.customers.values).sorted { $0.listID < $1.listID } } }
    public var documents: [Document] { state.withLock { Array($0.documents.values).sorted { $0.txnID < $1.txnID } } }
    public var payments: [Payment] { state.withLock { Array($0.payments.values).sorted { $0.txnID < $1.txnID } } }
    /// How many answers of each status code QuickBooks gave.
    public var statuses: [Int: Int] { state.withLock { $0.statuses } }
    public func customer(named name: String) -> Customer? { customers.first { $0.name == name } }
    public func document(refNumber: String) -> Document? { documents.first { $0.refNumber == refNumber } }

    // MARK: Running a document

    /// What QuickBooks says of a document it would not run: the Web Connector's `hresult` and message.
    public struct Refusal: Error, Sendable, Hashable {
        public var hresult: String
        public var message: String
    }

    /// The HostQuery, CompanyQuery and PreferencesQuery answers the Web Connector sends on a run's first turn.
    public var hostResponse: String {
        var text = "<?xml version=\"1.0\" ?><QBXML><QBXMLMsgsRs>"
        text += "<HostQueryRs requestID=\"0\" statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"Status OK\">"
        QBXML.write(hostRet, into: &text)
        text += "</HostQueryRs>"
        text += "<CompanyQueryRs requestID=\"1\" statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"Status OK\">"
        text += "<CompanyRet><IsSampleCompany>false</IsSampleCompany><CompanyName>Sandbox School</CompanyName>"
        text += "</CompanyRet></CompanyQueryRs>"
        text +=
            "<PreferencesQueryRs requestID=\"2\" statusCode=\"0\" statusSeverity=\"Info\" statusMessage=\"Status OK\">"
        text += "<PreferencesRet><AccountingPreferences><IsUsingAccountNumbers>false</IsUsingAccountNumbers>"
        text += "</AccountingPreferences></PreferencesRet></PreferencesQueryRs></QBXMLMsgsRs></QBXML>"
        return text
    }

    var hostRet: XMLNode {
        var children = [
            XMLNode(
                name: "ProductName", text: country == "US" ? "QuickBooks Pro 2024" : "QuickBooks Pro 2024 \(country)"),
            XMLNode(name: "MajorVersion", text: "34"), XMLNode(name: "MinorVersion", text: "0"),
            XMLNode(name: "Country", text: country),
        ]
        for major in 1...version.major { children.append(XMLNode(name: "SupportedQBXMLVersion", text: "\(major).0")) }
        children.append(XMLNode(name: "QBFileMode", text: "SingleUser"))
        return XMLNode(name: "HostRet", children: children)
    }

    /// Runs a request document and writes QuickBooks' answer.
    /// - Throws: `Refusal` when QuickBooks would run none of it (not qbXML, a version it does not read, an element out
    ///   of the schema's order).
    public func run(_ document: String) throws(Refusal) -> String {
        let parseError = "QuickBooks found an error when parsing the provided XML text stream."
        guard let range = document.range(of: "<?qbxml version=\""),
            let end = document[range.upperBound...].firstIndex(of: "\""),
            case let parts = document[range.upperBound..<end].split(separator: "."),
            let major = parts.first.flatMap({ Int($0) }),
            let requested = QBXMLVersion(major: major, minor: parts.dropFirst().first.flatMap { Int($0) } ?? 0)
        else { throw Refusal(hresult: "0x80040400", message: parseError) }
        guard requested <= version else {
            throw Refusal(
                hresult: "0x80042500",
                message: "The version of QBXML that was requested is not supported or is unknown.")
        }
        let root: XMLNode
        do {
            root = try XMLTree.read(Data(document.utf8), namespaces: false, maximumDepth: 32)
        } catch {
            throw Refusal(hresult: "0x80040400", message: parseError)
        }
        guard root.name == "QBXML", let messages = root.child("QBXMLMsgsRq"),
            let onError = messages.attributes["onError"],
            ["stopOnError", "continueOnError", "rollbackOnError"].contains(onError),
            QuickBooksDesktopSchema.orderProblem(in: messages) == nil
        else { throw Refusal(hresult: "0x80040400", message: parseError) }
        var text = "<?xml version=\"1.0\" ?><QBXML><QBXMLMsgsRs>"
        state.withLock { state in
            for request in messages.children {
                let answer = Self.answer(request, state: &state, company: self)
                state.statuses[Int(answer.attributes["statusCode"] ?? "") ?? -1, default: 0] += 1
                QBXML.write(answer, into: &text)
                if answer.attributes["statusSeverity"] == "Error", onError != "continueOnError" { break }
            }
        }
        return text + "</QBXMLMsgsRs></QBXML>"
    }

    // MARK: Answers

    private static func answer(_ request: XMLNode, state: inout State, company: QuickBooksDesktopCompany) -> XMLNode {
        let type = request.name.hasSuffix("Rq") ? String(request.name.dropLast(2)) : request.name
        var response = Answer(type: type, requestID: request.attributes["requestID"])
        if let problem = tooLong(request) {
            return response.status(3070, problem)
        }
        let now = company.clock()
        switch request.name {
        case "HostQueryRq":
            return response.ok([company.hostRet])
        case "CustomerAddRq", "CustomerModRq":
            guard let body = request.children.first else { return response.status(3000, "empty request") }
            return customerWrite(body, response: &response, state: &state, now: now)
        case "CustomerQueryRq":
            return query(request, kind: "Customer", response: &response, state: &state, company: company)
        case "InvoiceAddRq", "CreditMemoAddRq", "InvoiceModRq":
            guard let body = request.children.first else { return response.status(3000, "empty request") }
            return documentWrite(body, response: &response, state: &state, company: company, now: now)
        case "InvoiceQueryRq":
            return query(request, kind: "Invoice", response: &response, state: &state, company: company)
        case "CreditMemoQueryRq":
            return query(request, kind: "CreditMemo", response: &response, state: &state, company: company)
        case "ReceivePaymentAddRq", "ReceivePaymentModRq":
            guard let body = request.children.first else { return response.status(3000, "empty request") }
            return paymentWrite(body, response: &response, state: &state, now: now)
        case "ReceivePaymentQueryRq":
            return query(request, kind: "ReceivePayment", response: &response, state: &state, company: company)
        case "ItemQueryRq":
            let services = state.items.sorted { $0.key < $1.key }.map { id, name in
                XMLNode(
                    name: "ItemServiceRet",
                    children: [
                        XMLNode(name: "ListID", text: id), XMLNode(name: "Name", text: name),
                        XMLNode(name: "FullName", text: name), XMLNode(name: "IsActive", text: "true"),
                    ])
            }
            let taxes = state.salesTaxItems.sorted { $0.key < $1.key }.map { id, rate in
                XMLNode(
                    name: "ItemSalesTaxRet",
                    children: [
                        XMLNode(name: "ListID", text: id), XMLNode(name: "Name", text: "Sales Tax"),
                        XMLNode(name: "IsActive", text: "true"),
                        XMLNode(name: "TaxRate", text: "\(rate / 100).\(rate % 100 < 10 ? "0" : "")\(rate % 100)"),
                    ])
            }
            return response.ok(services + taxes)
        case "SalesTaxCodeQueryRq":
            return response.ok(
                state.taxCodes.sorted { $0.key < $1.key }.map { id, code in
                    XMLNode(
                        name: "SalesTaxCodeRet",
                        children: [
                            XMLNode(name: "ListID", text: id), XMLNode(name: "Name", text: code.name),
                            XMLNode(name: "IsActive", text: "true"),
                            XMLNode(name: "IsTaxable", text: code.taxable ? "true" : "false"),
                        ])
                })
        case "AccountQueryRq":
            return response.ok(
                state.accounts.sorted { $0.key < $1.key }.map { id, account in
                    XMLNode(
                        name: "AccountRet",
                        children: [
                            XMLNode(name: "ListID", text: id), XMLNode(name: "Name", text: account.name),
                            XMLNode(name: "FullName", text: account.name), XMLNode(name: "IsActive", text: "true"),
                            XMLNode(name: "AccountType", text: account.type),
                        ])
                })
        case "TxnVoidRq":
            guard let id = request.value("TxnID"), var document = state.documents[id] else {
                return response.notFound(request.value("TxnID"))
            }
            if state.locked.contains(id) { return response.inUse(document.kind, id) }
            if !document.voided {
                document.voided = true
                document.lines = document.lines.map {
                    var line = $0; line.amount = 0; line.taxAmount = 0; return line
                }
                document.salesTax = 0
                document.memo = "VOID: " + document.memo
                document.editSequence += 1
                document.modified = now
                state.documents[id] = document
            }
            return response.ok([
                XMLNode(name: "TxnVoidType", text: request.value("TxnVoidType") ?? ""),
                XMLNode(name: "TxnID", text: id),
            ])
        case "TxnDelRq":
            guard let id = request.value("TxnID"), let payment = state.payments[id] else {
                return response.notFound(request.value("TxnID"))
            }
            if state.locked.contains(id) { return response.inUse("ReceivePayment", id) }
            for (txn, amount) in payment.applied { state.documents[txn]?.applied -= amount }
            for credit in payment.credits {
                state.documents[credit.txnID]?.applied -= credit.amount
                state.documents[credit.creditTxnID]?.applied -= credit.amount
            }
            state.payments[id] = nil
            return response.ok([
                XMLNode(name: "TxnDelType", text: "ReceivePayment"), XMLNode(name: "TxnID", text: id),
            ])
        default:
            return response.status(3000, "The request \(request.name) is not supported by this QuickBooks.")
        }
    }

    /// The first text longer than QuickBooks takes, in its words.
    private static func tooLong(_ node: XMLNode, parent: String = "") -> String? {
        var limit = QuickBooksDesktopSchema.lengths[node.name]
        if node.name == "RefNumber" {
            limit = parent.hasPrefix("ReceivePayment") ? 20 : 11
        }
        if let limit, node.children.isEmpty, node.text.count > limit {
            return "The string \"\(node.text)\" in the field \"\(node.name)\" is too long."
        }
        for child in node.children {
            if let problem = tooLong(child, parent: node.name) { return problem }
        }
        return nil
    }

    private static func customerWrite(
        _ body: XMLNode, response: inout Answer, state: inout State, now: Date
    ) -> XMLNode {
        let modifying = body.name == "CustomerMod"
        var customer: Customer
        if modifying {
            let existing = body.value("ListID").flatMap { state.customers[$0] }
            if let refusal = response.modRefusal(
                body, id: "ListID", editSequence: existing?.editSequence, locked: state.locked, kind: "Customer")
            {
                return refusal
            }
            guard let existing else { return response.notFound(body.value("ListID")) }
            customer = existing
            customer.editSequence += 1
        } else {
            guard let name = body.value("Name"), !name.isEmpty else {
                return response.status(3000, "There is a missing element: \"Name\".")
            }
            if state.customerListLocked {
                return response.status(
                    3180,
                    "There was an error when saving a Customer list, element \"\(name)\". QuickBooks error message: "
                        + "This list has been modified by another user.")
            }
            customer = Customer(
                listID: nextID(&state, now), editSequence: sequence(now), name: name, email: nil, phone: nil,
                modified: now)
        }
        if let name = body.value("Name") {
            if state.customers.values.contains(where: {
                $0.listID != customer.listID && $0.name.caseInsensitiveCompare(name) == .orderedSame
            }) {
                return response.status(3100, "The name \"\(name)\" of the list element is already in use.")
            }
            customer.name = name
        }
        if let email = body.value("Email") { customer.email = email }
        if let phone = body.value("Phone") { customer.phone = phone }
        customer.modified = now
        state.customers[customer.listID] = customer
        return response.ok([customerRet(customer)])
    }

    private static func documentWrite(
        _ body: XMLNode, response: inout Answer, state: inout State, company: QuickBooksDesktopCompany, now: Date
    ) -> XMLNode {
        let kind = body.name.hasPrefix("CreditMemo") ? "CreditMemo" : "Invoice"
        var document: Document
        if body.name == "InvoiceMod" {
            let existing = body.value("TxnID").flatMap { state.documents[$0] }
            if let refusal = response.modRefusal(
                body, id: "TxnID", editSequence: existing?.editSequence, locked: state.locked, kind: kind)
            {
                return refusal
            }
            guard let existing else { return response.notFound(body.value("TxnID")) }
            document = existing
            document.editSequence += 1
        } else {
            document = Document(
                txnID: nextID(&state, now), kind: kind, editSequence: sequence(now), customerListID: "", date: "",
                refNumber: "", dueDate: nil, memo: "", lines: [], salesTaxItem: nil, salesTax: 0, applied: 0,
                voided: false, modified: now)
        }
        if let customer = body.child("CustomerRef")?.value("ListID") {
            guard state.customers[customer] != nil else {
                return response.invalidReference("Customer", customer, in: kind)
            }
            document.customerListID = customer
        }
        guard !document.customerListID.isEmpty else {
            return response.status(3000, "There is a missing element: \"CustomerRef\".")
        }
        if let date = body.value("TxnDate") { document.date = date }
        if let ref = body.value("RefNumber") { document.refNumber = ref }
        if let due = body.value("DueDate") { document.dueDate = due }
        if let memo = body.value("Memo") { document.memo = memo }
        if let item = body.child("ItemSalesTaxRef")?.value("ListID") {
            guard state.salesTaxItems[item] != nil else {
                return response.invalidReference("Item", item, in: kind)
            }
            document.salesTaxItem = item
        }
        let lineNodes = body.children.filter { $0.name.hasSuffix("LineAdd") || $0.name.hasSuffix("LineMod") }
        if !lineNodes.isEmpty || body.name != "InvoiceMod" {
            var lines: [Line] = []
            for node in lineNodes {
                guard let item = node.child("ItemRef")?.value("ListID"), state.items[item] != nil else {
                    return response.invalidReference("Item", node.child("ItemRef")?.value("ListID"), in: "\(kind) line")
                }
                let code = node.child("SalesTaxCodeRef")?.value("ListID")
                if let code, state.taxCodes[code] == nil {
                    return response.invalidReference("SalesTaxCode", code, in: "\(kind) line")
                }
                guard let amountText = node.value("Amount"), let amount = cents(amountText) else {
                    return response.status(3000, "There is a missing element: \"Amount\".")
                }
                let tax = node.value("TaxAmount").flatMap(cents) ?? 0
                if company.country == "US", node.value("TaxAmount") != nil {
                    return response.status(
                        3000, "The element TaxAmount is not supported in this version of QuickBooks (US).")
                }
                lines.append(
                    Line(
                        itemListID: item, description: node.value("Desc") ?? "",
                        quantity: node.value("Quantity") ?? "1",
                        amount: amount, taxAmount: tax, taxCodeListID: code))
            }
            guard !lines.isEmpty else {
                return response.status(3000, "A transaction must have at least one line.")
            }
            document.lines = lines
        }
        // Tax: a US company charges the sales-tax item's rate on taxable lines; others take each line's tax.
        if company.country == "US" {
            let taxable = document.lines.filter { line in
                line.taxCodeListID.flatMap { state.taxCodes[$0]?.taxable } ?? false
            }.reduce(Int64(0)) { $0 + $1.amount }
            if taxable != 0, document.salesTaxItem == nil {
                return response.status(3000, "A taxable line needs a sales tax item (ItemSalesTaxRef).")
            }
            let rate = document.salesTaxItem.flatMap { state.salesTaxItems[$0] } ?? 0
            document.salesTax = (taxable * rate + 5_000) / 10_000
        } else {
            document.salesTax = document.lines.reduce(0) { $0 + $1.taxAmount }
        }
        document.modified = now
        state.documents[document.txnID] = document
        return response.ok([documentRet(document, lines: true)])
    }

    private static func paymentWrite(_ body: XMLNode, response: inout Answer, state: inout State, now: Date) -> XMLNode
    {
        var payment: Payment
        if body.name == "ReceivePaymentMod" {
            let existing = body.value("TxnID").flatMap { state.payments[$0] }
            if let refusal = response.modRefusal(
                body, id: "TxnID", editSequence: existing?.editSequence, locked: state.locked, kind: "ReceivePayment")
            {
                return refusal
            }
            guard let existing else { return response.notFound(body.value("TxnID")) }
            payment = existing
            payment.editSequence += 1
        } else {
            payment = Payment(
                txnID: nextID(&state, now), editSequence: sequence(now), customerListID: "", date: "", refNumber: nil,
                total: 0, memo: nil, depositAccount: nil, applied: [], modified: now)
            guard body.child("IsAutoApply") != nil || body.child("AppliedToTxnAdd") != nil else {
                return response.status(3000, "A payment must say IsAutoApply or AppliedToTxnAdd.")
            }
        }
        if let customer = body.child("CustomerRef")?.value("ListID") {
            guard state.customers[customer] != nil else {
                return response.invalidReference("Customer", customer, in: "ReceivePayment")
            }
            payment.customerListID = customer
        }
        if let date = body.value("TxnDate") { payment.date = date }
        if let ref = body.value("RefNumber") { payment.refNumber = ref }
        if let total = body.value("TotalAmount") {
            guard let value = cents(total) else { return response.status(3000, "TotalAmount is not an amount.") }
            payment.total = value
        }
        if let memo = body.value("Memo") { payment.memo = memo }
        if let account = body.child("DepositToAccountRef")?.value("ListID") {
            guard state.accounts[account] != nil else {
                return response.invalidReference("Account", account, in: "ReceivePayment")
            }
            payment.depositAccount = account
        }
        let appliedNodes = body.children.filter { $0.name == "AppliedToTxnAdd" || $0.name == "AppliedToTxnMod" }
        if !appliedNodes.isEmpty || body.name == "ReceivePaymentAdd" {
            // What the earlier version applied is given back before the new applications are checked, and taken
            // again when they are refused.
            for (txn, amount) in payment.applied { state.documents[txn]?.applied -= amount }
            func givenBack(_ refusal: XMLNode) -> XMLNode {
                for (txn, amount) in payment.applied { state.documents[txn]?.applied += amount }
                return refusal
            }
            var applied: [(txnID: String, amount: Int64)] = []
            var credits: [(txnID: String, creditTxnID: String, amount: Int64)] = []
            for node in appliedNodes {
                guard let txn = node.value("TxnID"), let document = state.documents[txn], document.kind == "Invoice",
                    document.customerListID == payment.customerListID
                else {
                    return givenBack(response.invalidReference("Invoice", node.value("TxnID"), in: "ReceivePayment"))
                }
                // A credit memo of the customer's set against the invoice, up to the credit it has left.
                var credited: Int64 = 0
                if let credit = node.child("SetCredit") {
                    guard let memoID = credit.value("CreditTxnID"), let memo = state.documents[memoID],
                        memo.kind == "CreditMemo", memo.customerListID == payment.customerListID, !memo.voided
                    else {
                        return givenBack(
                            response.invalidReference("CreditMemo", credit.value("CreditTxnID"), in: "ReceivePayment"))
                    }
                    guard let text = credit.value("AppliedAmount"), let value = cents(text), value > 0,
                        value <= memo.balance
                    else {
                        return givenBack(
                            response.status(
                                3210,
                                "The \"SetCredit applied amount\" field has an invalid value "
                                    + "\"\(credit.value("AppliedAmount") ?? "")\".  QuickBooks error message: The credit "
                                    + "amount is more than the credit remaining."))
                    }
                    credited = value
                    credits.append((txn, memoID, value))
                }
                guard let text = node.value("PaymentAmount"), let amount = cents(text),
                    amount + credited
                        <= document.balance - applied.filter({ $0.txnID == txn }).reduce(0, { $0 + $1.amount })
                else {
                    return givenBack(
                        response.status(
                            3210,
                            "The \"AppliedToTxnAdd payment amount\" field has an invalid value "
                                + "\"\(node.value("PaymentAmount") ?? "")\".  QuickBooks error message: You cannot pay "
                                + "more than the amount due."))
                }
                applied.append((txn, amount))
            }
            for (txn, amount) in applied { state.documents[txn]?.applied += amount }
            for credit in credits {
                state.documents[credit.txnID]?.applied += credit.amount
                state.documents[credit.creditTxnID]?.applied += credit.amount
            }
            payment.applied = applied
            payment.credits += credits
        }
        payment.modified = now
        state.payments[payment.txnID] = payment
        return response.ok([paymentRet(payment)])
    }

    private static func query(
        _ request: XMLNode, kind: String, response: inout Answer, state: inout State, company: QuickBooksDesktopCompany
    ) -> XMLNode {
        if request.attributes["iterator"] == "Continue" {
            guard let id = request.attributes["iteratorID"], let iterator = state.iterators[id] else {
                return response.notFound(request.attributes["iteratorID"])
            }
            return page(iterator, id: id, request: request, response: &response, state: &state)
        }
        var found: [XMLNode]
        let lines = request.value("IncludeLineItems") == "true"
        switch kind {
        case "Customer":
            var customers = Array(state.customers.values)
            let names = request.children.filter { $0.name == "FullName" }.map(\.text)
            if !names.isEmpty {
                customers = customers.filter { customer in
                    names.contains { $0.caseInsensitiveCompare(customer.name) == .orderedSame }
                }
            }
            let ids = request.children.filter { $0.name == "ListID" }.map(\.text)
            if !ids.isEmpty { customers = customers.filter { ids.contains($0.listID) } }
            if let from = request.value("FromModifiedDate").flatMap(parseTime) {
                customers = customers.filter { $0.modified >= from }
            }
            found = customers.sorted { $0.modified < $1.modified }.map(customerRet)
        case "ReceivePayment":
            var payments = Array(state.payments.values)
            let ids = request.children.filter { $0.name == "TxnID" }.map(\.text)
            if !ids.isEmpty { payments = payments.filter { ids.contains($0.txnID) } }
            if let from = request.child("ModifiedDateRangeFilter")?.value("FromModifiedDate").flatMap(parseTime) {
                payments = payments.filter { $0.modified >= from }
            }
            if let range = request.child("TxnDateRangeFilter") {
                payments = payments.filter { payment in
                    range.value("FromTxnDate").map { payment.date >= $0 } ?? true
                        && range.value("ToTxnDate").map { payment.date <= $0 } ?? true
                }
            }
            if let entity = request.child("EntityFilter")?.value("ListID") {
                payments = payments.filter { $0.customerListID == entity }
            }
            found = payments.sorted { $0.modified < $1.modified }.map(paymentRet)
        default:
            var documents = state.documents.values.filter { $0.kind == kind }
            let ids = request.children.filter { $0.name == "TxnID" }.map(\.text)
            if !ids.isEmpty { documents = documents.filter { ids.contains($0.txnID) } }
            let refs = request.children.filter { $0.name == "RefNumber" }.map(\.text)
            if !refs.isEmpty { documents = documents.filter { refs.contains($0.refNumber) } }
            if let from = request.child("ModifiedDateRangeFilter")?.value("FromModifiedDate").flatMap(parseTime) {
                documents = documents.filter { $0.modified >= from }
            }
            if let entity = request.child("EntityFilter")?.value("ListID") {
                documents = documents.filter { $0.customerListID == entity }
            }
            found = documents.sorted { $0.modified < $1.modified }.map { documentRet($0, lines: lines) }
        }
        if request.attributes["iterator"] == "Start" {
            let id = "{\(UUID().uuidString)}"
            return page(found, id: id, request: request, response: &response, state: &state)
        }
        if let limit = request.value("MaxReturned").flatMap({ Int($0) }) { found = Array(found.prefix(limit)) }
        guard !found.isEmpty else {
            return response.status(1, "A query request did not find a matching object in QuickBooks", severity: "Info")
        }
        return response.ok(found)
    }

    private static func page(
        _ records: [XMLNode], id: String, request: XMLNode, response: inout Answer, state: inout State
    ) -> XMLNode {
        let size = request.value("MaxReturned").flatMap { Int($0) } ?? records.count
        let page = Array(records.prefix(max(size, 1)))
        let rest = Array(records.dropFirst(page.count))
        if rest.isEmpty {
            state.iterators[id] = nil
        } else {
            state.iterators[id] = rest
        }
        response.iterator = (id, rest.count)
        guard !page.isEmpty else {
            return response.status(1, "A query request did not find a matching object in QuickBooks", severity: "Info")
        }
        return response.ok(page)
    }

    // MARK: Records as QuickBooks writes them

    static func customerRet(_ customer: Customer) -> XMLNode {
        XMLNode(
            name: "CustomerRet",
            children: [
                XMLNode(name: "ListID", text: customer.listID),
                XMLNode(name: "TimeModified", text: time(customer.modified)),
                XMLNode(name: "EditSequence", text: String(customer.editSequence)),
                XMLNode(name: "Name", text: customer.name), XMLNode(name: "FullName", text: customer.name),
                XMLNode(name: "IsActive", text: "true"),
            ]
                + [
                    customer.phone.map { XMLNode(name: "Phone", text: $0) },
                    customer.email.map { XMLNode(name: "Email", text: $0) },
                ]
                .compactMap { $0 })
    }

    static func documentRet(_ document: Document, lines: Bool) -> XMLNode {
        var children = [
            XMLNode(name: "TxnID", text: document.txnID), XMLNode(name: "TimeModified", text: time(document.modified)),
            XMLNode(name: "EditSequence", text: String(document.editSequence)),
            XMLNode(name: "CustomerRef", children: [XMLNode(name: "ListID", text: document.customerListID)]),
            XMLNode(name: "TxnDate", text: document.date), XMLNode(name: "RefNumber", text: document.refNumber),
        ]
        if let due = document.dueDate { children.append(XMLNode(name: "DueDate", text: due)) }
        children += [
            XMLNode(name: "Subtotal", text: amount(document.subtotal)),
            XMLNode(name: "SalesTaxTotal", text: amount(document.salesTax)),
        ]
        if document.kind == "CreditMemo" {
            children.append(XMLNode(name: "CreditRemaining", text: amount(document.balance)))
        }
        if document.kind == "Invoice" {
            children += [
                XMLNode(name: "AppliedAmount", text: amount(-document.applied)),
                XMLNode(name: "BalanceRemaining", text: amount(document.balance)),
            ]
        }
        children.append(XMLNode(name: "Memo", text: document.memo))
        if lines {
            for (index, line) in document.lines.enumerated() {
                var fields = [
                    XMLNode(name: "TxnLineID", text: "\(document.txnID)-\(index + 1)"),
                    XMLNode(name: "ItemRef", children: [XMLNode(name: "ListID", text: line.itemListID)]),
                    XMLNode(name: "Desc", text: line.description), XMLNode(name: "Quantity", text: line.quantity),
                    XMLNode(name: "Amount", text: amount(line.amount)),
                ]
                if let code = line.taxCodeListID {
                    fields.append(XMLNode(name: "SalesTaxCodeRef", children: [XMLNode(name: "ListID", text: code)]))
                }
                children.append(XMLNode(name: "\(document.kind)LineRet", children: fields))
            }
        }
        return XMLNode(name: "\(document.kind)Ret", children: children)
    }

    static func paymentRet(_ payment: Payment) -> XMLNode {
        var children = [
            XMLNode(name: "TxnID", text: payment.txnID), XMLNode(name: "TimeModified", text: time(payment.modified)),
            XMLNode(name: "EditSequence", text: String(payment.editSequence)),
            XMLNode(name: "CustomerRef", children: [XMLNode(name: "ListID", text: payment.customerListID)]),
            XMLNode(name: "TxnDate", text: payment.date),
        ]
        if let ref = payment.refNumber { children.append(XMLNode(name: "RefNumber", text: ref)) }
        children.append(XMLNode(name: "TotalAmount", text: amount(payment.total)))
        if let memo = payment.memo { children.append(XMLNode(name: "Memo", text: memo)) }
        if let account = payment.depositAccount {
            children.append(XMLNode(name: "DepositToAccountRef", children: [XMLNode(name: "ListID", text: account)]))
        }
        for (txn, value) in payment.applied {
            children.append(
                XMLNode(
                    name: "AppliedToTxnRet",
                    children: [
                        XMLNode(name: "TxnID", text: txn), XMLNode(name: "TxnType", text: "Invoice"),
                        XMLNode(name: "Amount", text: amount(value)),
                    ]))
        }
        return XMLNode(name: "ReceivePaymentRet", children: children)
    }

    // MARK: Values

    /// QuickBooks' ids: a hex counter and the Unix time (`8000001A-1733220000`).
    static func nextID(_ state: inout State, _ now: Date) -> String {
        state.counter += 1
        return String(state.counter, radix: 16, uppercase: true) + "-" + String(Int(now.timeIntervalSince1970))
    }

    static func sequence(_ now: Date) -> Int { Int(now.timeIntervalSince1970) }

    static func amount(_ cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = String(magnitude % 100)
        return "\(sign)\(magnitude / 100).\(fraction.count == 1 ? "0" + fraction : fraction)"
    }

    static func cents(_ text: String) -> Int64? {
        guard text.utf8.count <= 20 else { return nil }
        let negative = text.hasPrefix("-")
        let digits = negative ? String(text.dropFirst()) : text
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int64(parts[0]), whole >= 0 else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            guard (1...2).contains(parts[1].count), let value = Int64(parts[1]), value >= 0 else { return nil }
            fraction = parts[1].count == 1 ? value * 10 : value
        }
        let (product, overflow) = whole.multipliedReportingOverflow(by: 100)
        guard !overflow else { return nil }
        return (negative ? -1 : 1) * (product + fraction)
    }

    /// QuickBooks' instants, to the second, with an offset (`2026-12-03T10:04:05+00:00`).
    static func time(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970)
        return String(Timestamp(secondsSinceEpoch: seconds).rfc3339.prefix(19)) + "+00:00"
    }

    static func parseTime(_ text: String) -> Date? {
        Timestamp(rfc3339: text).map { Date(timeIntervalSince1970: Double($0.microsecondsSinceEpoch) / 1_000_000) }
    }
}

/// One answer being written: its type, `requestID`, status and what it returns.
private struct Answer {
    var type: String
    var requestID: String?
    var iterator: (id: String, remaining: Int)?

    func node(_ code: Int, _ severity: String, _ message: String, _ children: [XMLNode]) -> XMLNode {
        var attributes = [
            "statusCode": String(code), "statusSeverity": severity, "statusMessage": message,
        ]
        attributes["requestID"] = requestID
        if let iterator {
            attributes["iteratorID"] = iterator.id
            attributes["iteratorRemainingCount"] = String(iterator.remaining)
            attributes["retCount"] = String(children.count)
        }
        return XMLNode(name: "\(type)Rs", attributes: attributes, children: children)
    }

    func ok(_ children: [XMLNode]) -> XMLNode { node(0, "Info", "Status OK", children) }

    func status(_ code: Int, _ message: String, severity: String = "Error") -> XMLNode {
        node(code, severity, message, [])
    }

    /// 3140: a reference to an entry of `list` the company does not have, in `owner`.
    func invalidReference(_ list: String, _ id: String?, in owner: String) -> XMLNode {
        status(3140, "There is an invalid reference to QuickBooks \(list) \"\(id ?? "")\" in the \(owner).")
    }

    /// 3120: the record a request names is not in the company.
    func notFound(_ id: String?) -> XMLNode {
        status(3120, "Object \"\(id ?? "")\" specified in the request cannot be found.")
    }

    /// Why a `Mod` cannot change the record its `id` field names: not there (3120), in use (3170), or changed since
    /// the `EditSequence` it gives (3200); `nil` when it can.
    func modRefusal(
        _ body: XMLNode, id field: String, editSequence current: Int?, locked: Set<String>, kind: String
    ) -> XMLNode? {
        let id = body.value(field) ?? ""
        guard let current else { return notFound(id) }
        if locked.contains(id) { return inUse(kind, id) }
        guard body.value("EditSequence") == String(current) else {
            return status(3200, "The provided edit sequence \"\(body.value("EditSequence") ?? "")\" is out-of-date.")
        }
        return nil
    }

    func inUse(_ kind: String, _ id: String) -> XMLNode {
        status(
            3170,
            "There was an error when modifying a \(kind) \"\(id)\". QuickBooks error message: The record you are "
                + "trying to modify is in use by another user.")
    }
}

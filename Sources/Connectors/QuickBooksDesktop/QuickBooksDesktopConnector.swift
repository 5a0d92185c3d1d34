public import Accounting
import Foundation
import Logging

/// QuickBooks Desktop through the QuickBooks Web Connector (issue 19): the purest mailbox platform. Nothing here calls
/// QuickBooks; each request is a message in the job's mailbox, which the company's Web Connector fetches on its next
/// run (`POST /qbwc`, `sendRequestXML`) and answers (`receiveResponseXML`), waking the job.
///
/// A push is one request, two after a stale `EditSequence` (3200: the record is read again and the change sent once
/// more). A customer whose name is in use (3100) is adopted or named apart by the common rule; a record in use (3170,
/// 3175, 3176, 3180) is tried again later; any other status fails the job with QuickBooks' own words. A request whose
/// answer was lost (a run that broke off) is sent again in the next run, except a create of a document or payment:
/// QuickBooks is first asked for it by the mark Ledgerwire writes in every memo, and one found is taken.
public struct QuickBooksDesktopConnector: Connector {
    public let platform = Platform.quickBooksDesktop
    public let capabilities = ConnectorCapabilities(
        webhooks: false, maximumBatchSize: 1, changeFeed: false, mappingKinds: [.item, .taxCode, .depositAccount],
        adoptsExisting: [.customer, .invoice, .creditNote], channel: .mailbox,
        recordTypes: [.customer, .invoice, .payment, .creditNote])

    /// What the connector's messages and QuickBooks' answers are.
    public static let requestContentType = "application/x-qbxml-request"
    public static let responseContentType = "application/x-qbxml-response"

    public init() {}

    public func authentication(settings: JSONValue) -> AuthenticationScheme { .webConnector }

    public func confirmsAccess(to remoteTenantID: String, context: ConnectorContext) async throws(ConnectorError)
        -> Bool
    { true }

    // MARK: Pushes

    public func push(_ request: PushRequest, context: ConnectorContext) async throws -> PushResult {
        switch request.action {
        case .create: return try create(request, context: context)
        case .update: return try update(request, context: context)
        case .void:
            guard let txnID = request.remoteID, request.recordType != .customer else {
                throw ConnectorError.validation(
                    code: "not_voidable", message: "QuickBooks Desktop keeps customers: there is nothing to void")
            }
            let answer = try ask(QuickBooksDesktopRequests.void(request.recordType, txnID: txnID), context: context)
            // Deleted already (a payment removed in QuickBooks, or this delete's answer lost): it is gone either way.
            if answer.statusCode == 3120, request.recordType == .payment {
                return PushResult(remoteID: txnID, remoteVersion: nil)
            }
            try check(answer, request: request)
            return PushResult(remoteID: txnID, remoteVersion: request.remoteVersion)
        }
    }

    private func create(_ request: PushRequest, context: ConnectorContext) throws -> PushResult {
        let node = try write(request, context: context, existing: nil)
        // QuickBooks may have made it before a run broke off: a document or payment Ledgerwire wrote carries its mark
        // and is taken as it is; anything else is sent again (a customer made after all is refused as a name in use,
        // 3100, and adopted).
        var answer = try exchange(node, context: context)
        var written: PushResult?
        if answer == nil {
            written = try self.written(request, context: context)
            if written == nil { answer = try ask(node, context: context) }
        }
        let created: PushResult
        if let answer {
            if answer.statusCode == 3100, request.recordType == .customer, !request.lookedUp {
                throw ConnectorError.validation(code: ConnectorError.duplicateCode, message: answer.message)
            }
            try check(answer, request: request)
            created = try result(of: answer, request: request)
        } else if let written {
            created = written
        } else {
            throw ConnectorError.validation(code: "qbxml_unanswered", message: "QuickBooks did not answer")
        }
        if case .creditNote(let note) = request.record {
            try applyCredit(note, creditTxnID: created.remoteID, request: request, context: context)
        }
        return created
    }

    /// Applies a new credit memo to the invoice it credits, up to what the invoice still owes (nothing when it is
    /// paid). QuickBooks keeps a credit it cannot apply on the customer, so a refusal leaves the memo as it is; a
    /// credit applied twice (an answer lost) is refused by QuickBooks as more than the credit left.
    private func applyCredit(
        _ note: CreditNote, creditTxnID: String, request: PushRequest, context: ConnectorContext
    ) throws {
        guard let invoiceID = note.invoiceID,
            let invoice = request.references[RecordReference(.invoice, invoiceID.rawValue)],
            let customer = request.references[RecordReference(.customer, note.customerID.rawValue)]
        else { return }
        let current = try ask(QuickBooksDesktopRequests.transactionQuery("Invoice", txnID: invoice), context: context)
        guard let balance = current.returned.first?.value("BalanceRemaining").flatMap(Self.cents), balance > 0 else {
            return
        }
        let application = try ask(
            QuickBooksDesktopRequests.creditApplication(
                customerListID: customer, invoiceTxnID: invoice, creditTxnID: creditTxnID,
                amountCents: min(balance, note.total.minorUnits), date: note.issueDate.description,
                refNumber: QuickBooksDesktopRequests.refNumber(note.number, localID: request.localID),
                localID: request.localID),
            context: context)
        if application.failed {
            context.logger.warning(
                "credit memo not applied to its invoice",
                metadata: ["credit_txn_id": "\(creditTxnID)", "status": "\(application.statusCode)"])
        }
    }

    /// The document or payment this create made in QuickBooks, found by the mark in its memo; `nil` when there is
    /// none (or for a customer, whose name finds it).
    private func written(_ request: PushRequest, context: ConnectorContext) throws -> PushResult? {
        let mark = QuickBooksDesktopRequests.memo(number: nil, refNumber: nil, localID: request.localID)
        let query: XMLNode
        switch request.record {
        case .invoice(let invoice):
            query = QuickBooksDesktopRequests.transactionQuery(
                "Invoice", refNumber: QuickBooksDesktopRequests.refNumber(invoice.number, localID: request.localID))
        case .creditNote(let note):
            query = QuickBooksDesktopRequests.transactionQuery(
                "CreditMemo", refNumber: QuickBooksDesktopRequests.refNumber(note.number, localID: request.localID))
        case .payment(let payment):
            guard let customer = request.references[RecordReference(.customer, payment.customerID.rawValue)] else {
                return nil
            }
            query = QuickBooksDesktopRequests.paymentQuery(
                customerListID: customer, day: String(payment.receivedAt.rfc3339.prefix(10)))
        case .customer, .refund:
            return nil
        }
        let answer = try ask(query, context: context)
        guard
            let record = answer.returned.first(where: {
                $0.name.hasSuffix("Ret") && ($0.value("Memo")?.hasSuffix(mark) ?? false)
            }), let id = record.value("TxnID")
        else { return nil }
        return PushResult(remoteID: id, remoteVersion: record.value("EditSequence"))
    }

    /// A change: sent with the `EditSequence` last known; a stale one (3200) is read again and the change sent once
    /// more.
    private func update(_ request: PushRequest, context: ConnectorContext) throws -> PushResult {
        guard let remoteID = request.remoteID else {
            throw ConnectorError.validation(code: "not_linked", message: "the record is not in QuickBooks yet")
        }
        var editSequence = request.remoteVersion ?? ""
        for round in 0..<2 {
            let answer = try ask(
                try write(request, context: context, existing: (remoteID, editSequence)), context: context)
            guard answer.statusCode == 3200, round == 0 else {
                try check(answer, request: request)
                return try result(of: answer, request: request)
            }
            let query =
                request.recordType == .customer
                ? QuickBooksDesktopRequests.customerQuery(listID: remoteID)
                : QuickBooksDesktopRequests.transactionQuery(Self.transactionType(request.recordType), txnID: remoteID)
            let current = try ask(query, context: context)
            try check(current, request: request)
            guard let sequence = current.returned.first?.value("EditSequence") else {
                throw ConnectorError.validation(
                    code: "qbxml_3120", message: "QuickBooks no longer has \(request.recordType.rawValue) \(remoteID)")
            }
            editSequence = sequence
        }
        throw ConnectorError.retryable(
            code: "stale", message: "the record kept changing in QuickBooks", retryAfter: nil)
    }

    /// The request that writes `request`: an add, or a mod of `existing` (its id and `EditSequence`).
    private func write(
        _ request: PushRequest, context: ConnectorContext, existing: (id: String, editSequence: String)?
    ) throws(ConnectorError) -> XMLNode {
        func reference(_ type: RecordType, _ id: String) throws(ConnectorError) -> String {
            guard let remote = request.references[RecordReference(type, id)] else {
                throw .validation(code: "not_linked", message: "\(type.rawValue) \(id) is not in QuickBooks yet")
            }
            return remote
        }
        switch request.record {
        case .customer(let customer):
            let name = QuickBooksDesktopRequests.customerName(
                customer.name, localID: request.localID,
                distinct: request.notAdoptable.contains { $0.matchedBy == "Name" })
            guard let existing else { return QuickBooksDesktopRequests.customerAdd(customer, name: name) }
            return QuickBooksDesktopRequests.customerMod(
                customer, name: name, listID: existing.id, editSequence: existing.editSequence)
        case .invoice(let invoice):
            return try QuickBooksDesktopRequests.invoice(
                invoice, localID: request.localID,
                customerListID: try reference(.customer, invoice.customerID.rawValue), mappings: request.mappings,
                settings: context.settings, txn: existing)
        case .creditNote(let note):
            guard existing == nil else {
                throw .validation(
                    code: "unsupported", message: "a credit memo in QuickBooks Desktop is not changed: void it instead")
            }
            return try QuickBooksDesktopRequests.creditMemo(
                note, localID: request.localID, customerListID: try reference(.customer, note.customerID.rawValue),
                mappings: request.mappings, settings: context.settings)
        case .payment(let payment):
            let invoices = try payment.allocations.map { allocation throws(ConnectorError) in
                try reference(.invoice, allocation.invoiceID.rawValue)
            }
            return try QuickBooksDesktopRequests.payment(
                payment, localID: request.localID,
                customerListID: try reference(.customer, payment.customerID.rawValue), invoiceTxnIDs: invoices,
                mappings: request.mappings, txn: existing)
        case .refund:
            throw .validation(
                code: "unsupported", message: "refunds are not written to QuickBooks Desktop: record them there")
        }
    }

    /// The record QuickBooks returned: its id and `EditSequence`; for a document, its total checked against billing's.
    private func result(of answer: QBXMLResponse, request: PushRequest) throws(ConnectorError) -> PushResult {
        guard let record = answer.returned.first(where: { $0.name.hasSuffix("Ret") }),
            let id = record.value("ListID") ?? record.value("TxnID")
        else {
            throw .validation(code: "qbxml_unanswered", message: "QuickBooks' answer names no record")
        }
        if let expected = Self.total(of: request.record), let total = Self.total(of: record), total != expected {
            throw .validation(
                code: "total_mismatch",
                message: "QuickBooks totals \(request.recordType.rawValue) \(id) at \(total), billing at \(expected): "
                    + "check the sales-tax item's rate and the tax-code mappings, then void it in QuickBooks")
        }
        return PushResult(remoteID: id, remoteVersion: record.value("EditSequence"))
    }

    /// Billing's total of a document, as QuickBooks writes amounts.
    static func total(of record: CanonicalRecord) -> String? {
        switch record {
        case .invoice(let invoice): invoice.total.decimalString
        case .creditNote(let note): note.total.decimalString
        default: nil
        }
    }

    /// QuickBooks' total of a returned document: its subtotal and sales tax.
    static func total(of record: XMLNode) -> String? {
        guard record.name == "InvoiceRet" || record.name == "CreditMemoRet",
            let subtotal = record.value("Subtotal").flatMap(cents)
        else { return nil }
        let tax = record.value("SalesTaxTotal").flatMap(cents) ?? 0
        return Money(minorUnits: subtotal + tax, currency: Self.amountDigits).decimalString
    }

    /// QuickBooks' amounts (`AMTTYPE`): two decimal places.
    static let amountDigits = Currency(code: "USD")!

    /// An amount QuickBooks wrote, in cents.
    static func cents(_ text: String) -> Int64? {
        (try? Money(parsing: text, currency: Self.amountDigits))?.minorUnits
    }

    static func transactionType(_ recordType: RecordType) -> String {
        switch recordType {
        case .creditNote: "CreditMemo"
        case .payment: "ReceivePayment"
        default: "Invoice"
        }
    }

    /// Throws what a failed answer means.
    private func check(_ answer: QBXMLResponse, request: PushRequest) throws(ConnectorError) {
        guard answer.failed else { return }
        switch answer.statusCode {
        case 3170, 3175, 3176, 3180:
            throw .busy(code: "record_in_use", message: answer.message, retryAfter: .seconds(60))
        default:
            throw .validation(code: "qbxml_\(answer.statusCode)", message: answer.message)
        }
    }

    // MARK: Looking in QuickBooks

    public func find(matching requests: [PushRequest], context: ConnectorContext) async throws -> [[RemoteMatch]] {
        var found: [[RemoteMatch]] = []
        for request in requests {
            found.append(try matches(for: request, context: context))
        }
        return found
    }

    private func matches(for request: PushRequest, context: ConnectorContext) throws -> [RemoteMatch] {
        func reference(_ type: RecordType, _ id: String) -> String? {
            request.references[RecordReference(type, id)]
        }
        switch request.record {
        case .customer(let customer):
            // Its name, and the distinct name a create of it may have been given (a run that broke off).
            let names = [false, true].map {
                QuickBooksDesktopRequests.customerName(customer.name, localID: request.localID, distinct: $0)
            }
            let answer = try ask(QuickBooksDesktopRequests.customerQuery(names: names), context: context)
            return answer.returned.compactMap { record in
                guard record.name == "CustomerRet", let id = record.value("ListID") else { return nil }
                return RemoteMatch(
                    remoteID: id, matchedBy: "Name",
                    adoption: .success(PushResult(remoteID: id, remoteVersion: record.value("EditSequence"))))
            }
        case .invoice(let invoice):
            return try documents(
                "Invoice", number: invoice.number, customer: reference(.customer, invoice.customerID.rawValue),
                request: request, context: context)
        case .creditNote(let note):
            return try documents(
                "CreditMemo", number: note.number, customer: reference(.customer, note.customerID.rawValue),
                request: request, context: context)
        case .payment(let payment):
            guard let customer = reference(.customer, payment.customerID.rawValue) else { return [] }
            let answer = try ask(
                QuickBooksDesktopRequests.paymentQuery(
                    customerListID: customer, day: String(payment.receivedAt.rfc3339.prefix(10))),
                context: context)
            let memo = QuickBooksDesktopRequests.memo(number: nil, refNumber: nil, localID: request.localID)
            return answer.returned.compactMap { record in
                guard record.name == "ReceivePaymentRet", record.value("Memo") == memo,
                    let id = record.value("TxnID")
                else { return nil }
                return RemoteMatch(
                    remoteID: id, matchedBy: "Memo",
                    adoption: .success(PushResult(remoteID: id, remoteVersion: record.value("EditSequence"))))
            }
        case .refund:
            return []
        }
    }

    /// Documents of billing's number (`RefNumber`) for the customer, each adoptable when its total is billing's.
    private func documents(
        _ type: String, number: String, customer: String?, request: PushRequest, context: ConnectorContext
    ) throws -> [RemoteMatch] {
        let ref = QuickBooksDesktopRequests.refNumber(number, localID: request.localID)
        let answer = try ask(QuickBooksDesktopRequests.transactionQuery(type, refNumber: ref), context: context)
        let expected = Self.total(of: request.record)
        return answer.returned.compactMap { record in
            guard record.name == "\(type)Ret", let id = record.value("TxnID"),
                record.child("CustomerRef")?.value("ListID") == customer
            else { return nil }
            let total = Self.total(of: record)
            let adoption: Result<PushResult, ConnectorError> =
                total == expected
                ? .success(PushResult(remoteID: id, remoteVersion: record.value("EditSequence")))
                : .failure(
                    .validation(
                        code: "total_mismatch",
                        message: "\(type) \(ref) in QuickBooks totals \(total ?? "?"), billing \(expected ?? "?")"))
            return RemoteMatch(remoteID: id, matchedBy: "RefNumber", adoption: adoption)
        }
    }

    // MARK: Reading

    /// QuickBooks is read only within a Web Connector run: changes arrive by its change queries (`/qbwc`).
    public func pull(recordType: RecordType, remoteID: String, context: ConnectorContext) async throws -> RemoteRecord?
    {
        throw ConnectorError.validation(
            code: "unsupported", message: "QuickBooks Desktop is read only during a Web Connector run")
    }

    public func changes(since cursor: String?, context: ConnectorContext) async throws -> ChangePage {
        ChangePage(changes: [], nextCursor: cursor, hasMore: false)
    }

    /// The lists the last Web Connector run read (`QuickBooksDesktopChanges.listsSetting`): empty before the first.
    public func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        QuickBooksDesktopChanges.chart(settings: context.settings)
    }

    // MARK: The mailbox

    /// QuickBooks' answer to `request`, through the job's mailbox. A request whose answer was lost (the run broke
    /// off) goes once more: a query, a change (a stale `EditSequence` is read again) and a void may run twice.
    private func ask(_ request: XMLNode, context: ConnectorContext) throws -> QBXMLResponse {
        if let answer = try exchange(request, context: context) { return answer }
        guard let answer = try exchange(request, context: context) else {
            throw ConnectorError.retryable(
                code: "answer_lost",
                message: "the Web Connector's runs ended twice before QuickBooks' answer reached Ledgerwire",
                retryAfter: nil)
        }
        return answer
    }

    /// QuickBooks' answer to `request`, or `nil` when it was lost on its way back.
    private func exchange(_ request: XMLNode, context: ConnectorContext) throws -> QBXMLResponse? {
        guard let mailbox = context.mailbox else {
            throw ConnectorError.validation(
                code: "no_mailbox", message: "QuickBooks Desktop is reached only through its Web Connector")
        }
        let reply = try mailbox.exchange(
            PlatformMessage(contentType: Self.requestContentType, body: QuickBooksDesktopRequests.text(request)))
        if reply.isLostAnswer { return nil }
        guard let answer = try? QBXML.responses(in: "<QBXML><QBXMLMsgsRs>\(reply.body)</QBXMLMsgsRs></QBXML>").first
        else {
            throw ConnectorError.validation(code: "qbxml_unreadable", message: "QuickBooks' answer could not be read")
        }
        return answer
    }
}

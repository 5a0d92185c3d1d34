public import Accounting
import Crypto
import Foundation

/// The qbXML requests the QuickBooks Desktop connector hands the Web Connector, built from billing's records, each
/// with its elements in the order QuickBooks' schema requires (platforms.md §3.4), and every text within QuickBooks'
/// lengths.
///
/// US editions tax a document with a sales-tax item (`ItemSalesTaxRef`, `settings.sales_tax_item`) and mark each line
/// taxable or not (`SalesTaxCodeRef`: the tax-code mapping); UK, Canadian and Australian editions give each line its
/// VAT/GST code and the tax billing charged (`TaxAmount`).
public enum QuickBooksDesktopRequests {
    /// QuickBooks' lengths (qbxmlops130): a list name, a transaction's `RefNumber`, a payment's `RefNumber`.
    public static let nameLength = 41
    public static let refNumberLength = 11
    public static let paymentRefNumberLength = 20
    static let memoLength = 4095

    /// The edition's country: `US` unless QuickBooks said otherwise (`settings.country`).
    public static func isUS(_ settings: JSONValue) -> Bool {
        (settings["country"]?.stringValue ?? "US") == "US"
    }

    // MARK: Names and numbers

    /// The customer's name in QuickBooks: billing's, cut to 41 characters; a name another billing customer holds is
    /// made distinct with the end of billing's id.
    public static func customerName(_ name: String, localID: String, distinct: Bool) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard distinct else { return String(trimmed.prefix(nameLength)) }
        let suffix = " (\(localID.suffix(12)))"
        return String(trimmed.prefix(nameLength - suffix.count)) + suffix
    }

    /// The document's `RefNumber`: billing's number when it fits 11 characters; a longer one is never cut (two
    /// numbers alike in their first 11 would collide) but replaced by `LW` and nine characters derived from billing's
    /// id, the same on every write, with the full number in the memo.
    public static func refNumber(_ number: String, localID: String) -> String {
        if number.count <= refNumberLength { return number }
        let digest = Array(SHA256.hash(data: Data(localID.utf8)))
        let alphabet = Array("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
        var value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var code = ""
        for _ in 0..<9 {
            code.append(alphabet[Int(value % UInt64(alphabet.count))])
            value /= UInt64(alphabet.count)
        }
        return "LW" + code
    }

    /// The memo Ledgerwire writes: billing's number when `RefNumber` could not hold it, and the mark a lost write is
    /// found by.
    static func memo(number: String?, refNumber: String?, localID: String) -> String {
        var parts: [String] = []
        if let number, number != refNumber { parts.append("Billing number \(number)") }
        parts.append("Ledgerwire \(localID)")
        return String(parts.joined(separator: "; ").prefix(memoLength))
    }

    // MARK: Building blocks

    static func element(_ name: String, _ children: [XMLNode?]) -> XMLNode {
        XMLNode(name: name, children: children.compactMap { $0 })
    }

    static func value(_ name: String, _ text: String?, limit: Int? = nil) -> XMLNode? {
        guard let text, !text.isEmpty else { return nil }
        return XMLNode(name: name, text: limit.map { String(text.prefix($0)) } ?? text)
    }

    static func reference(_ name: String, listID: String?) -> XMLNode? {
        guard let listID else { return nil }
        return element(name, [XMLNode(name: "ListID", text: listID)])
    }

    static func request(_ name: String, _ body: XMLNode) -> XMLNode {
        element("\(name)Rq", [body])
    }

    /// A request's text, as the message the Web Connector's turn carries (the `requestID` is the message's id, set
    /// when it is handed out).
    public static func text(_ request: XMLNode) -> String {
        var text = ""
        QBXML.write(request, into: &text)
        return text
    }

    // MARK: Customers

    static func customerFields(_ customer: Customer, name: String) -> [XMLNode?] {
        var address: XMLNode?
        if let billing = customer.billingAddress {
            address = element(
                "BillAddress",
                [
                    value("Addr1", billing.line1, limit: 41), value("Addr2", billing.line2, limit: 41),
                    value("City", billing.city, limit: 31), value("State", billing.region, limit: 21),
                    value("PostalCode", billing.postalCode, limit: 13), value("Country", billing.country, limit: 31),
                ])
        }
        return [
            value("Name", name), address, value("Phone", customer.phone, limit: 21),
            value("Email", customer.email, limit: 1023),
        ]
    }

    public static func customerAdd(_ customer: Customer, name: String) -> XMLNode {
        request("CustomerAdd", element("CustomerAdd", customerFields(customer, name: name)))
    }

    public static func customerMod(_ customer: Customer, name: String, listID: String, editSequence: String)
        -> XMLNode
    {
        request(
            "CustomerMod",
            element(
                "CustomerMod",
                [XMLNode(name: "ListID", text: listID), XMLNode(name: "EditSequence", text: editSequence)]
                    + customerFields(customer, name: name)))
    }

    /// The customers of any of `names`, in one request.
    public static func customerQuery(names: [String]) -> XMLNode {
        element("CustomerQueryRq", names.map { XMLNode(name: "FullName", text: $0) })
    }

    public static func customerQuery(listID: String) -> XMLNode {
        element("CustomerQueryRq", [XMLNode(name: "ListID", text: listID)])
    }

    // MARK: Invoices and credit memos

    /// A document's lines: each with its item, description, quantity, amount, and tax as the edition takes it.
    static func lines(
        _ lines: [DocumentLine], kind: String, mappings: CodeMappings, us: Bool, modifying: Bool
    ) throws(ConnectorError) -> [XMLNode] {
        try lines.map { line throws(ConnectorError) in
            let itemCode = line.courseID ?? CodeMappings.fallbackCode
            guard let item = mappings.remoteID(.item, for: itemCode) else {
                throw .missingMapping([CodeMappings.Missing(.item, itemCode)])
            }
            var taxCode: String?
            if let code = line.taxCode {
                guard let mapped = mappings.remoteID(.taxCode, for: code) else {
                    throw .missingMapping([CodeMappings.Missing(.taxCode, code)])
                }
                taxCode = mapped
            }
            let amount = line.amount
            return element(
                modifying ? "\(kind)LineMod" : "\(kind)LineAdd",
                [
                    modifying ? XMLNode(name: "TxnLineID", text: "-1") : nil,
                    reference("ItemRef", listID: item),
                    value("Desc", line.description, limit: memoLength),
                    XMLNode(name: "Quantity", text: line.quantity.description),
                    XMLNode(name: "Amount", text: amount.decimalString),
                    us
                        ? nil
                        : XMLNode(name: "TaxAmount", text: (line.taxAmount ?? .zero(amount.currency)).decimalString),
                    reference("SalesTaxCodeRef", listID: taxCode),
                ])
        }
    }

    /// `InvoiceAdd`, or `InvoiceMod` of `txn` (its lines replaced by billing's).
    public static func invoice(
        _ invoice: Invoice, localID: String, customerListID: String, mappings: CodeMappings, settings: JSONValue,
        txn: (id: String, editSequence: String)? = nil
    ) throws(ConnectorError) -> XMLNode {
        let us = isUS(settings)
        let ref = refNumber(invoice.number, localID: localID)
        let kind = txn == nil ? "InvoiceAdd" : "InvoiceMod"
        let head: [XMLNode?] = [
            txn.map { XMLNode(name: "TxnID", text: $0.id) },
            txn.map { XMLNode(name: "EditSequence", text: $0.editSequence) },
            reference("CustomerRef", listID: customerListID),
            XMLNode(name: "TxnDate", text: invoice.issueDate.description),
            XMLNode(name: "RefNumber", text: ref),
            invoice.dueDate.map { XMLNode(name: "DueDate", text: $0.description) },
            try salesTaxItem(settings, us: us, taxed: invoice.lines.contains { $0.taxCode != nil }),
            XMLNode(name: "Memo", text: memo(number: invoice.number, refNumber: ref, localID: localID)),
        ]
        let body = try lines(invoice.lines, kind: "Invoice", mappings: mappings, us: us, modifying: txn != nil)
        return request(kind, element(kind, head + body))
    }

    /// `CreditMemoAdd`.
    public static func creditMemo(
        _ note: CreditNote, localID: String, customerListID: String, mappings: CodeMappings, settings: JSONValue
    ) throws(ConnectorError) -> XMLNode {
        let us = isUS(settings)
        let ref = refNumber(note.number, localID: localID)
        let head: [XMLNode?] = [
            reference("CustomerRef", listID: customerListID),
            XMLNode(name: "TxnDate", text: note.issueDate.description),
            XMLNode(name: "RefNumber", text: ref),
            try salesTaxItem(settings, us: us, taxed: note.lines.contains { $0.taxCode != nil }),
            XMLNode(name: "Memo", text: memo(number: note.number, refNumber: ref, localID: localID)),
        ]
        let body = try lines(note.lines, kind: "CreditMemo", mappings: mappings, us: us, modifying: false)
        return request("CreditMemoAdd", element("CreditMemoAdd", head + body))
    }

    /// A US document's sales-tax item: `settings.sales_tax_item`, needed once a line is taxed.
    static func salesTaxItem(_ settings: JSONValue, us: Bool, taxed: Bool) throws(ConnectorError) -> XMLNode? {
        guard us, taxed else { return nil }
        guard let item = settings["sales_tax_item"]?.stringValue, !item.isEmpty else {
            throw .validation(
                code: "sales_tax_item_missing",
                message: "a US QuickBooks taxes documents with a sales-tax item: set settings.sales_tax_item to its "
                    + "ListID")
        }
        return reference("ItemSalesTaxRef", listID: item)
    }

    public static func transactionQuery(_ type: String, refNumber: String) -> XMLNode {
        element(
            "\(type)QueryRq",
            [XMLNode(name: "RefNumber", text: refNumber), XMLNode(name: "IncludeLineItems", text: "false")])
    }

    public static func transactionQuery(_ type: String, txnID: String) -> XMLNode {
        element("\(type)QueryRq", [XMLNode(name: "TxnID", text: txnID)])
    }

    // MARK: Payments

    /// `ReceivePaymentAdd` (or `Mod` of `txn`), applied to billing's invoices as allocated.
    public static func payment(
        _ payment: Payment, localID: String, customerListID: String, invoiceTxnIDs: [String],
        mappings: CodeMappings, txn: (id: String, editSequence: String)? = nil
    ) throws(ConnectorError) -> XMLNode {
        guard let account = mappings.remoteID(.depositAccount, for: payment.depositAccount) else {
            throw .missingMapping([CodeMappings.Missing(.depositAccount, payment.depositAccount)])
        }
        let kind = txn == nil ? "ReceivePaymentAdd" : "ReceivePaymentMod"
        var applied: [XMLNode] = zip(payment.allocations, invoiceTxnIDs).map { allocation, txnID in
            element(
                txn == nil ? "AppliedToTxnAdd" : "AppliedToTxnMod",
                [
                    XMLNode(name: "TxnID", text: txnID),
                    XMLNode(name: "PaymentAmount", text: allocation.amount.decimalString),
                ])
        }
        if applied.isEmpty, txn == nil { applied = [XMLNode(name: "IsAutoApply", text: "false")] }
        let head: [XMLNode?] = [
            txn.map { XMLNode(name: "TxnID", text: $0.id) },
            txn.map { XMLNode(name: "EditSequence", text: $0.editSequence) },
            reference("CustomerRef", listID: customerListID),
            XMLNode(name: "TxnDate", text: String(payment.receivedAt.rfc3339.prefix(10))),
            value("RefNumber", payment.reference, limit: paymentRefNumberLength),
            XMLNode(name: "TotalAmount", text: payment.amount.decimalString),
            XMLNode(name: "Memo", text: memo(number: nil, refNumber: nil, localID: localID)),
            reference("DepositToAccountRef", listID: account),
        ]
        return request(kind, element(kind, head + applied))
    }

    /// A credit memo applied to the invoice it credits: a payment of nothing that sets `amountCents` of the credit
    /// against the invoice (`SetCredit`), as QuickBooks applies credits.
    public static func creditApplication(
        customerListID: String, invoiceTxnID: String, creditTxnID: String, amountCents: Int64, date: String,
        refNumber: String, localID: String
    ) -> XMLNode {
        let amount = Money(minorUnits: amountCents, currency: QuickBooksDesktopConnector.amountDigits).decimalString
        return request(
            "ReceivePaymentAdd",
            element(
                "ReceivePaymentAdd",
                [
                    reference("CustomerRef", listID: customerListID), XMLNode(name: "TxnDate", text: date),
                    XMLNode(name: "TotalAmount", text: "0.00"),
                    XMLNode(name: "Memo", text: "Credit \(refNumber) applied; Ledgerwire \(localID)"),
                    element(
                        "AppliedToTxnAdd",
                        [
                            XMLNode(name: "TxnID", text: invoiceTxnID), XMLNode(name: "PaymentAmount", text: "0.00"),
                            element(
                                "SetCredit",
                                [
                                    XMLNode(name: "CreditTxnID", text: creditTxnID),
                                    XMLNode(name: "AppliedAmount", text: amount),
                                ]),
                        ]),
                ]))
    }

    /// The customer's payments of one day, to find a payment whose answer was lost (by its memo).
    public static func paymentQuery(customerListID: String, day: String) -> XMLNode {
        element(
            "ReceivePaymentQueryRq",
            [
                element(
                    "TxnDateRangeFilter",
                    [XMLNode(name: "FromTxnDate", text: day), XMLNode(name: "ToTxnDate", text: day)]),
                element("EntityFilter", [XMLNode(name: "ListID", text: customerListID)]),
            ])
    }

    // MARK: Voids

    /// `TxnVoid` of an invoice or credit memo (kept in QuickBooks at zero), `TxnDel` of a payment (QuickBooks voids no
    /// payments).
    public static func void(_ recordType: RecordType, txnID: String) -> XMLNode {
        switch recordType {
        case .payment:
            element(
                "TxnDelRq",
                [XMLNode(name: "TxnDelType", text: "ReceivePayment"), XMLNode(name: "TxnID", text: txnID)])
        default:
            element(
                "TxnVoidRq",
                [
                    XMLNode(name: "TxnVoidType", text: recordType == .creditNote ? "CreditMemo" : "Invoice"),
                    XMLNode(name: "TxnID", text: txnID),
                ])
        }
    }
}

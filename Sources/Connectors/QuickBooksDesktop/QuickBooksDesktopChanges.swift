public import Accounting
import Foundation

/// What changed in QuickBooks Desktop: on each Web Connector run (at most once in `run_every_minutes`), customers,
/// invoices and payments modified since the last read are asked for, a page of 100 at a time through QuickBooks'
/// iterators, and read into the records the sync engine takes from any platform's change feed.
public enum QuickBooksDesktopChanges {
    /// The kinds asked for, in this order.
    public static let kinds = ["Customer", "Invoice", "ReceivePayment"]
    /// Records in one answer: a page of invoices with their lines stays well under the Web Connector's limits.
    public static let pageSize = 100
    /// The `requestID` prefix of a change query: its answer is the Web Connector service's, not a job's.
    public static let requestIDPrefix = "changes-"

    /// The lists read on the same runs, for mappings (`remoteChart`): items, sales-tax codes, accounts.
    public static let listKinds = ["Item", "SalesTaxCode", "Account"]
    /// The `requestID` prefix of a list query.
    public static let listsPrefix = "lists-"
    /// Where the lists read are kept: the integration's `settings.quickbooks_lists` (the server's own, never a
    /// person's to set), `{items, tax_codes, accounts}` of `{id, name, type, active}`.
    public static let listsSetting = "quickbooks_lists"

    /// The query for one of `listKinds`, active entries only.
    public static func listQuery(_ kind: String) -> XMLNode {
        XMLNode(
            name: "\(kind)QueryRq", attributes: ["requestID": listsPrefix + kind],
            children: [XMLNode(name: "ActiveStatus", text: "ActiveOnly")])
    }

    /// The key under `listsSetting` a list query's entries are kept at, and the entries.
    public static func list(_ answer: QBXMLResponse, kind: String) -> (key: String, entries: JSONValue)? {
        let key: String
        switch kind {
        case "Item": key = "items"
        case "SalesTaxCode": key = "tax_codes"
        case "Account": key = "accounts"
        default: return nil
        }
        let entries: [JSONValue] = answer.returned.compactMap { element in
            guard let id = element.value("ListID"), let name = element.value("FullName") ?? element.value("Name")
            else { return nil }
            var type: String
            switch element.name {
            case "SalesTaxCodeRet": type = element.value("IsTaxable") == "true" ? "Taxable" : "NonTaxable"
            case "AccountRet": type = element.value("AccountType") ?? ""
            default: type = String(element.name.dropFirst(4).dropLast(3))  // ItemServiceRet → Service
            }
            return [
                "id": .string(id), "name": .string(name), "type": .string(type),
                "active": .bool(element.value("IsActive") != "false"),
            ]
        }
        return (key, .array(entries))
    }

    /// The chart the lists in `settings` make: service and other sale items for courses, sales-tax codes, bank
    /// accounts to deposit in.
    public static func chart(settings: JSONValue) -> RemoteChart {
        let lists = settings[listsSetting]
        func entries(_ key: String, uses: (String) -> Set<CodeMappings.Kind>) -> [RemoteChart.Entry] {
            (lists?[key]?.arrayValue ?? []).compactMap { entry in
                guard let id = entry["id"]?.stringValue, let name = entry["name"]?.stringValue else { return nil }
                let type = entry["type"]?.stringValue ?? ""
                return RemoteChart.Entry(
                    id: id, name: name, code: nil, active: entry["active"]?.boolValue ?? true, type: type,
                    uses: uses(type))
            }
        }
        return RemoteChart(
            accounts: entries("accounts") { ["Bank", "OtherCurrentAsset"].contains($0) ? [.depositAccount] : [] },
            taxCodes: entries("tax_codes") { _ in [.taxCode] },
            items: entries("items") { ["Service", "NonInventory", "OtherCharge"].contains($0) ? [.item] : [] },
            books: "QuickBooks company")
    }

    /// The query for `kind`'s changes from `from` (QuickBooks' `TimeModified`, as it wrote it), starting an iterator;
    /// or, with `iteratorID`, its next page.
    public static func query(_ kind: String, from: String?, iteratorID: String?) -> XMLNode {
        var attributes = ["requestID": requestIDPrefix + kind]
        var children = [XMLNode(name: "MaxReturned", text: String(pageSize))]
        if let iteratorID {
            attributes["iterator"] = "Continue"
            attributes["iteratorID"] = iteratorID
        } else {
            attributes["iterator"] = "Start"
            if let from {
                let filter = XMLNode(name: "FromModifiedDate", text: from)
                // Lists filter on the date itself; transactions within a date-range element.
                children.append(
                    kind == "Customer" ? filter : XMLNode(name: "ModifiedDateRangeFilter", children: [filter]))
            }
        }
        if kind != "Customer" { children.append(XMLNode(name: "IncludeLineItems", text: "true")) }
        return XMLNode(name: "\(kind)QueryRq", attributes: attributes, children: children)
    }

    /// The records an answer returned, and the newest `TimeModified` among them (as QuickBooks wrote it).
    public static func records(in answer: QBXMLResponse) -> (records: [RemoteRecord], newest: String?) {
        var records: [RemoteRecord] = []
        var newest: (Timestamp, String)?
        for element in answer.returned {
            guard let record = record(element) else { continue }
            records.append(record)
            if let text = element.value("TimeModified"), let instant = Timestamp(rfc3339: text),
                newest.map({ instant > $0.0 }) ?? true
            {
                newest = (instant, text)
            }
        }
        return (records, newest?.1)
    }

    /// A `…Ret` as a record in canonical form (platform ids), or `nil` for one Ledgerwire does not keep.
    static func record(_ element: XMLNode) -> RemoteRecord? {
        let updatedAt =
            element.value("TimeModified").flatMap(Timestamp.init(rfc3339:))
            ?? Timestamp(
                microsecondsSinceEpoch: 0)
        var data: [String: JSONValue] = [:]
        let recordType: RecordType
        let id: String?
        switch element.name {
        case "CustomerRet":
            recordType = .customer
            id = element.value("ListID")
            data["name"] = element.value("Name").map(JSONValue.string)
            data["email"] = element.value("Email").map(JSONValue.string)
            data["phone"] = element.value("Phone").map(JSONValue.string)
        case "InvoiceRet":
            recordType = .invoice
            id = element.value("TxnID")
            data["customer_id"] = element.child("CustomerRef")?.value("ListID").map(JSONValue.string)
            data["number"] = billingNumber(element).map(JSONValue.string)
            data["issue_date"] = element.value("TxnDate").map(JSONValue.string)
            data["due_date"] = element.value("DueDate").map(JSONValue.string)
            if isVoided(element) {
                data["voided"] = true
            } else {
                data["total"] = QuickBooksDesktopConnector.total(of: element).map(JSONValue.string)
            }
        case "ReceivePaymentRet":
            recordType = .payment
            id = element.value("TxnID")
            data["customer_id"] = element.child("CustomerRef")?.value("ListID").map(JSONValue.string)
            data["amount"] = element.value("TotalAmount").map(JSONValue.string)
            data["received_at"] = element.value("TxnDate").map(JSONValue.string)
            data["reference"] = element.value("RefNumber").map(JSONValue.string)
            data["deposit_account_id"] = element.child("DepositToAccountRef")?.value("ListID").map(JSONValue.string)
            data["allocations"] = .array(
                element.children.filter { $0.name == "AppliedToTxnRet" }.compactMap { applied in
                    guard let txn = applied.value("TxnID"), let amount = applied.value("Amount") else { return nil }
                    return ["invoice_id": .string(txn), "amount": .string(amount)]
                })
        default:
            return nil
        }
        guard let id else { return nil }
        data["id"] = .string(id)
        return RemoteRecord(
            recordType: recordType, remoteID: id, remoteVersion: element.value("EditSequence"), updatedAt: updatedAt,
            deleted: false, data: .object(data))
    }

    /// QuickBooks keeps a voided document at zero, its memo starting `VOID:`.
    static func isVoided(_ element: XMLNode) -> Bool {
        element.value("Memo")?.hasPrefix("VOID:") ?? false
    }

    /// Billing's number of a document Ledgerwire wrote: from its memo when `RefNumber` could not hold it.
    static func billingNumber(_ element: XMLNode) -> String? {
        if let memo = element.value("Memo"), let range = memo.range(of: "Billing number ") {
            return String(memo[range.upperBound...].prefix { $0 != ";" })
        }
        return element.value("RefNumber")
    }
}

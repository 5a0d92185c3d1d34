import Accounting
import Foundation

/// One QuickBooks Online company (realm) as the emulator keeps it: its entities by type and `Id`, and a change log
/// for CDC. The rules the real service enforces live here: required fields and references, unique `DisplayName`
/// (6240) and `DocNumber` (6140), `SyncToken` optimistic locking (5010), server-computed totals and balances (a
/// payment's `LinkedTxn` reduces its invoice's `Balance`; overpaying is refused), voids and deletes.
struct QBOCompany: Sendable {
    typealias Object = [String: JSONValue]

    /// The entity types the emulator serves, by the lower-case name in their URL.
    static let entityNames: [String: String] = [
        "customer": "Customer", "item": "Item", "account": "Account", "taxcode": "TaxCode", "invoice": "Invoice",
        "payment": "Payment", "creditmemo": "CreditMemo", "refundreceipt": "RefundReceipt",
    ]
    static let transactions: Set<String> = ["Invoice", "Payment", "CreditMemo", "RefundReceipt"]

    struct Change: Sendable {
        let entity: String
        let id: String
        /// As webhooks name it: `Create`, `Update`, `Delete`, `Void`.
        let operation: String
        let at: Date
    }

    let realmID: String
    private(set) var entities: [String: [String: Object]] = [:]
    private(set) var deleted: [String: [String: Object]] = [:]
    private(set) var changes: [Change] = []
    private var nextID = 1
    /// The company's home currency (its country is India).
    var homeCurrency = "INR"
    /// Whether a second transaction with the same `DocNumber` is refused (QuickBooks' "warn on duplicate" setting).
    var refusesDuplicateDocNumbers = true

    init(realmID: String, now: Date) {
        self.realmID = realmID
        seed(now: now)
    }

    func object(_ entity: String, id: String) -> Object? { entities[entity]?[id] }

    func all(_ entity: String) -> [Object] {
        (entities[entity] ?? [:]).values.sorted {
            Int($0["Id"]?.stringValue ?? "") ?? 0 < Int($1["Id"]?.stringValue ?? "") ?? 0
        }
    }

    // MARK: Writes

    mutating func create(_ entity: String, _ input: Object, now: Date) throws(QBOFault) -> Object {
        var object = input
        object["Id"] = nil
        object["SyncToken"] = nil
        try validate(entity, &object, replacing: nil)
        let id = String(nextID)
        nextID += 1
        object["Id"] = .string(id)
        object["SyncToken"] = "0"
        object["domain"] = "QBO"
        object["sparse"] = false
        let time = Self.time(now)
        object["MetaData"] = ["CreateTime": .string(time), "LastUpdatedTime": .string(time)]
        try computeTotals(entity, &object, previous: nil, now: now)
        entities[entity, default: [:]][id] = object
        changes.append(Change(entity: entity, id: id, operation: "Create", at: now))
        return object
    }

    /// A full update (omitted writable fields cleared) or a sparse one (only the fields sent).
    mutating func update(_ entity: String, _ input: Object, sparse: Bool, now: Date) throws(QBOFault) -> Object {
        guard let id = input["Id"]?.stringValue else { throw .requiredParameter("Id") }
        guard let current = entities[entity]?[id] else { throw .notFound(entity, id) }
        guard let token = input["SyncToken"]?.stringValue else { throw .requiredParameter("SyncToken") }
        guard token == current["SyncToken"]?.stringValue else { throw .staleObject }
        guard current["PrivateNote"]?.stringValue != "Voided" || !Self.transactions.contains(entity) else {
            throw .businessRule("A voided transaction cannot be changed")
        }
        var object: Object
        if sparse {
            object = current
            for (key, value) in input where !["sparse", "SyncToken", "MetaData"].contains(key) { object[key] = value }
        } else {
            object = input
            for key in ["Id", "domain", "MetaData"] { object[key] = current[key] }
        }
        try validate(entity, &object, replacing: id)
        object["SyncToken"] = .string(String((Int(token) ?? 0) + 1))
        object["sparse"] = false
        if case .object(var meta) = current["MetaData"] {
            meta["LastUpdatedTime"] = .string(Self.time(now))
            object["MetaData"] = .object(meta)
        }
        try computeTotals(entity, &object, previous: current, now: now)
        entities[entity]?[id] = object
        changes.append(Change(entity: entity, id: id, operation: "Update", at: now))
        return object
    }

    /// `?operation=void`: the transaction stays, with its amounts zeroed; a payment's invoices owe again.
    mutating func void(_ entity: String, _ input: Object, now: Date) throws(QBOFault) -> Object {
        guard ["Invoice", "Payment"].contains(entity) else {
            throw .unsupported("Operation void is not supported for \(entity)")
        }
        guard let id = input["Id"]?.stringValue else { throw .requiredParameter("Id") }
        guard var object = entities[entity]?[id] else { throw .notFound(entity, id) }
        guard input["SyncToken"]?.stringValue == object["SyncToken"]?.stringValue else { throw .staleObject }
        if entity == "Invoice", let balance = Self.decimal(object["Balance"]),
            let total = Self.decimal(object["TotalAmt"]), balance != total
        {
            throw .businessRule("This invoice has payments applied; remove them before voiding it")
        }
        if entity == "Payment" { try applyPayment(object, sign: 1, now: now) }
        object["TotalAmt"] = 0
        object["Balance"] = 0
        object["PrivateNote"] = "Voided"
        if case .array(let lines) = object["Line"] {
            object["Line"] = .array(
                lines.map { line in
                    guard case .object(var members) = line else { return line }
                    members["Amount"] = 0
                    return .object(members)
                })
        }
        object["SyncToken"] = .string(String((Int(object["SyncToken"]?.stringValue ?? "0") ?? 0) + 1))
        if case .object(var meta) = object["MetaData"] {
            meta["LastUpdatedTime"] = .string(Self.time(now))
            object["MetaData"] = .object(meta)
        }
        entities[entity]?[id] = object
        changes.append(Change(entity: entity, id: id, operation: "Void", at: now))
        return object
    }

    /// `?operation=delete` (transactions): gone, reported by CDC as `"status": "Deleted"`.
    mutating func delete(_ entity: String, _ input: Object, now: Date) throws(QBOFault) -> Object {
        guard Self.transactions.contains(entity) else {
            throw .unsupported("Operation delete is not supported for \(entity); make it inactive instead")
        }
        guard let id = input["Id"]?.stringValue else { throw .requiredParameter("Id") }
        guard let object = entities[entity]?[id] else { throw .notFound(entity, id) }
        guard input["SyncToken"]?.stringValue == object["SyncToken"]?.stringValue else { throw .staleObject }
        if entity == "Payment" { try applyPayment(object, sign: 1, now: now) }
        if entity == "Invoice", Self.decimal(object["Balance"]) != Self.decimal(object["TotalAmt"]) {
            throw .businessRule("This invoice has payments applied; remove them before deleting it")
        }
        entities[entity]?[id] = nil
        let time = Self.time(now)
        deleted[entity, default: [:]][id] = [
            "Id": .string(id), "status": "Deleted", "domain": "QBO",
            "MetaData": ["CreateTime": object["MetaData"]?["CreateTime"] ?? .null, "LastUpdatedTime": .string(time)],
        ]
        changes.append(Change(entity: entity, id: id, operation: "Delete", at: now))
        return ["Id": .string(id), "status": "Deleted", "domain": "QBO"]
    }

    // MARK: Change data capture

    /// The entities of `names` changed at or after `since`, each once as it is now (a deleted one as
    /// `"status": "Deleted"`), oldest change first, at most `limit` in all.
    func changed(_ names: [String], since: Date, limit: Int) -> [String: [Object]] {
        var latest: [String: (entity: String, id: String, at: Date)] = [:]
        for change in changes where change.at >= since && names.contains(change.entity) {
            latest["\(change.entity) \(change.id)"] = (change.entity, change.id, change.at)
        }
        var found: [String: [Object]] = [:]
        for change in latest.values.sorted(by: { $0.at < $1.at }).prefix(limit) {
            if let object = entities[change.entity]?[change.id] ?? deleted[change.entity]?[change.id] {
                found[change.entity, default: []].append(object)
            }
        }
        return found
    }

    // MARK: Rules

    private func validate(_ entity: String, _ object: inout Object, replacing id: String?) throws(QBOFault) {
        switch entity {
        case "Customer":
            guard let name = object["DisplayName"]?.stringValue?.trimmingCharacters(in: .whitespaces), !name.isEmpty
            else { throw .requiredParameter("DisplayName") }
            if (entities["Customer"] ?? [:]).values.contains(where: {
                $0["Id"]?.stringValue != id && $0["DisplayName"]?.stringValue?.lowercased() == name.lowercased()
            }) {
                throw .duplicateName(name)
            }
            object["FullyQualifiedName"] = .string(name)
            if object["Active"] == nil { object["Active"] = true }
        case "Item", "Account":
            guard let name = object["Name"]?.stringValue, !name.isEmpty else { throw .requiredParameter("Name") }
            if (entities[entity] ?? [:]).values.contains(where: {
                $0["Id"]?.stringValue != id && $0["Name"]?.stringValue?.lowercased() == name.lowercased()
            }) {
                throw .duplicateName(name)
            }
            if object["Active"] == nil { object["Active"] = true }
            object["FullyQualifiedName"] = .string(name)
            if entity == "Account" {
                try Self.classify(&object)
            } else if let type = object["Type"]?.stringValue, Self.itemTypesWithIncomeAccount.contains(type) {
                try reference(object, "IncomeAccountRef", to: "Account")
            } else if object["IncomeAccountRef"] != nil {
                try reference(object, "IncomeAccountRef", to: "Account")
            }
        case "TaxCode":
            throw .unsupported("Operation create/update is not supported for TaxCode; use TaxService")
        case "Invoice", "CreditMemo", "RefundReceipt":
            try reference(object, "CustomerRef", to: "Customer")
            guard case .array(let lines) = object["Line"], !lines.isEmpty else { throw .requiredParameter("Line") }
            for line in lines {
                guard case .object(let members) = line else { continue }
                // Every line names its kind and its amount; QuickBooks fills in neither (the server's subtotal line
                // aside, which it drops and adds again).
                guard let kind = members["DetailType"]?.stringValue else {
                    throw .requiredParameter("Line.DetailType")
                }
                guard kind == "SubTotalLineDetail" || Self.decimal(members["Amount"]) != nil else {
                    throw .requiredParameter("Line.Amount")
                }
                if case .object(let detail) = members["SalesItemLineDetail"] {
                    if let item = detail["ItemRef"]?["value"]?.stringValue, !usable("Item", item) {
                        throw .invalidReference("ItemRef")
                    }
                    if let account = detail["ItemAccountRef"]?["value"]?.stringValue, !usable("Account", account) {
                        throw .invalidReference("ItemAccountRef")
                    }
                    if let code = detail["TaxCodeRef"]?["value"]?.stringValue, !["TAX", "NON"].contains(code),
                        !usable("TaxCode", code)
                    {
                        throw .invalidReference("TaxCodeRef")
                    }
                }
            }
            if entity == "RefundReceipt" { try reference(object, "DepositToAccountRef", to: "Account") }
            if let number = object["DocNumber"]?.stringValue, refusesDuplicateDocNumbers,
                (entities[entity] ?? [:]).values.contains(where: {
                    $0["Id"]?.stringValue != id && $0["DocNumber"]?.stringValue == number
                })
            {
                throw .duplicateDocNumber(number)
            }
        case "Payment":
            try reference(object, "CustomerRef", to: "Customer")
            guard let total = Self.decimal(object["TotalAmt"]) else { throw .requiredParameter("TotalAmt") }
            guard total >= 0 else {
                throw .businessRule(
                    "Business Validation Error: The payment amount cannot be negative. TotalAmt=\(total)")
            }
            let customer = object["CustomerRef"]?["value"]?.stringValue
            for line in object["Line"]?.arrayValue ?? [] {
                guard Self.decimal(line["Amount"]) != nil else { throw .requiredParameter("Line.Amount") }
                for linked in line["LinkedTxn"]?.arrayValue ?? [] {
                    // The emulator's payments apply to invoices only; another type is not counted as applied.
                    guard linked["TxnType"]?.stringValue == "Invoice" else {
                        throw .invalidReference("Line.LinkedTxn.TxnType")
                    }
                    guard let id = linked["TxnId"]?.stringValue, let invoice = self.object("Invoice", id: id) else {
                        throw .invalidReference("Line.LinkedTxn.TxnId")
                    }
                    guard invoice["CustomerRef"]?["value"]?.stringValue == customer else {
                        throw .businessRule(
                            "Business Validation Error: Invoice \(id) belongs to another customer; a payment applies "
                                + "only to its own customer's transactions")
                    }
                }
            }
            if object["DepositToAccountRef"] != nil { try reference(object, "DepositToAccountRef", to: "Account") }
        default:
            break
        }
        if object["TxnDate"] == nil, Self.transactions.contains(entity) {
            object["TxnDate"] = .string(String(Self.time(Date()).prefix(10)))
        }
        // QuickBooks answers every transaction with its currency: the customer's, else the company's home currency.
        if object["CurrencyRef"] == nil, Self.transactions.contains(entity) {
            let customer = object["CustomerRef"]?["value"]?.stringValue.flatMap { self.object("Customer", id: $0) }
            object["CurrencyRef"] = ["value": customer?["CurrencyRef"]?["value"] ?? .string(homeCurrency)]
        }
    }

    private func reference(_ object: Object, _ field: String, to entity: String) throws(QBOFault) {
        guard let id = object[field]?["value"]?.stringValue else { throw .requiredParameter(field) }
        guard usable(entity, id) else { throw .invalidReference(field) }
    }

    /// A list entity a transaction may name: it exists and was not made inactive (QuickBooks refuses an inactive
    /// item or account with 2500, "Something you're trying to use has been made inactive").
    private func usable(_ entity: String, _ id: String) -> Bool {
        guard let object = self.object(entity, id: id) else { return false }
        return object["Active"]?.boolValue ?? true
    }

    /// The item types whose `IncomeAccountRef` is required (`Finance.xsd`, `Item.IncomeAccountRef`).
    static let itemTypesWithIncomeAccount: Set<String> = ["Assembly", "Inventory", "Other Charge", "Service"]

    /// `AccountTypeEnum` (`Finance.xsd`) and the classification QuickBooks derives from each type; `Non-Posting`
    /// accounts have none.
    static let accountClassifications: [String: String?] = [
        "Bank": "Asset", "Accounts Receivable": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset",
        "Other Asset": "Asset", "Accounts Payable": "Liability", "Credit Card": "Liability",
        "Other Current Liability": "Liability", "Long Term Liability": "Liability", "Equity": "Equity",
        "Income": "Revenue", "Other Income": "Revenue", "Cost of Goods Sold": "Expense", "Expense": "Expense",
        "Other Expense": "Expense", "Non-Posting": nil,
    ]

    /// An account's `AccountType` is required and one of QuickBooks' types; `Classification` is the server's,
    /// derived from the type whatever the client sent.
    private static func classify(_ account: inout Object) throws(QBOFault) {
        guard let type = account["AccountType"]?.stringValue else { throw .requiredParameter("AccountType") }
        guard let classification = accountClassifications[type] else {
            throw .badRequest(
                "Property Name:Can not construct instance of com.intuit.schema.finance.v3.AccountTypeEnum from String "
                    + "value '\(type)': value not one of declared Enum instance names")
        }
        account["Classification"] = classification.map(JSONValue.string)
    }

    /// Server-side amounts: each sales line's `Amount` (from `Qty` × `UnitPrice` when absent), the
    /// `SubTotalLineDetail` line, `TotalAmt` (+ `TxnTaxDetail.TotalTax`) and `Balance`; a payment's allocation.
    private mutating func computeTotals(
        _ entity: String, _ object: inout Object, previous: Object?, now: Date
    ) throws(QBOFault) {
        switch entity {
        case "Invoice", "CreditMemo", "RefundReceipt":
            var subtotal = Decimal(0)
            var lines: [JSONValue] = []
            var number = 1
            for line in object["Line"]?.arrayValue ?? [] {
                guard case .object(var members) = line else { continue }
                if members["DetailType"]?.stringValue == "SubTotalLineDetail" { continue }
                let amount = Self.decimal(members["Amount"])
                if let amount, case .object(let detail) = members["SalesItemLineDetail"],
                    let quantity = Self.decimal(detail["Qty"]), let price = Self.decimal(detail["UnitPrice"]),
                    abs(NSDecimalNumber(decimal: quantity * price - amount).doubleValue) >= 0.005
                {
                    throw .businessRule(
                        "Amount calculation incorrect: Qty \(quantity) * UnitPrice \(price) != Amount \(amount)")
                }
                members["Amount"] = Self.number(amount ?? 0)
                members["Id"] = .string(String(number))
                members["LineNum"] = .number(String(number))
                number += 1
                subtotal += amount ?? 0
                lines.append(.object(members))
            }
            lines.append(
                ["Amount": Self.number(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": [:]])
            object["Line"] = .array(lines)
            let tax = Self.decimal(object["TxnTaxDetail"]?["TotalTax"]) ?? 0
            var taxDetail = object["TxnTaxDetail"]?.objectValue ?? [:]
            taxDetail["TotalTax"] = Self.number(tax)
            object["TxnTaxDetail"] = .object(taxDetail)
            let total = subtotal + tax
            object["TotalAmt"] = Self.number(total)
            switch entity {
            case "Invoice":
                let paid =
                    previous.flatMap { previous in
                        Self.decimal(previous["TotalAmt"]).map { $0 - (Self.decimal(previous["Balance"]) ?? $0) }
                    } ?? 0
                guard total >= paid else {
                    throw .businessRule("The invoice total cannot be less than the payments applied to it")
                }
                object["Balance"] = Self.number(total - paid)
            case "CreditMemo":
                object["RemainingCredit"] = Self.number(total)
                object["Balance"] = Self.number(total)
            default:
                object["Balance"] = 0
            }
            object["HomeTotalAmt"] = object["TotalAmt"]
        case "Payment":
            if let previous { try applyPayment(previous, sign: 1, now: now) }
            let total = Self.decimal(object["TotalAmt"]) ?? 0
            var applied = Decimal(0)
            // Applied: what lines linking a transaction carry; a line linking none is not applied to anything.
            for line in object["Line"]?.arrayValue ?? [] where line["LinkedTxn"]?.arrayValue?.isEmpty == false {
                applied += Self.decimal(line["Amount"]) ?? 0
            }
            guard applied <= total else {
                if let previous { try? applyPayment(previous, sign: -1, now: now) }
                throw .businessRule("The payment's lines apply more than its total amount")
            }
            do {
                try applyPayment(object, sign: -1, now: now)
            } catch {
                if let previous { try? applyPayment(previous, sign: -1, now: now) }
                throw error
            }
            object["UnappliedAmt"] = Self.number(total - applied)
            object["TotalAmt"] = Self.number(total)
        default:
            break
        }
    }

    /// Moves the `Balance` of the invoices a payment's lines link to: `sign` −1 applies the payment, +1 undoes it.
    private mutating func applyPayment(_ payment: Object, sign: Decimal, now: Date) throws(QBOFault) {
        var updates: [(String, Decimal)] = []
        for line in payment["Line"]?.arrayValue ?? [] {
            let amount = Self.decimal(line["Amount"]) ?? 0
            for linked in line["LinkedTxn"]?.arrayValue ?? [] where linked["TxnType"]?.stringValue == "Invoice" {
                guard let id = linked["TxnId"]?.stringValue, let invoice = entities["Invoice"]?[id] else {
                    throw .invalidReference("LinkedTxn")
                }
                let balance = Self.decimal(invoice["Balance"]) ?? 0
                let total = Self.decimal(invoice["TotalAmt"]) ?? 0
                let next = balance + sign * amount
                guard next >= 0, next <= total else {
                    throw .businessRule(
                        "The payment amount \(amount) is more than the open balance \(balance) of invoice \(id)")
                }
                updates.append((id, next))
            }
        }
        for (id, balance) in updates {
            entities["Invoice"]?[id]?["Balance"] = Self.number(balance)
            let token = Int(entities["Invoice"]?[id]?["SyncToken"]?.stringValue ?? "0") ?? 0
            entities["Invoice"]?[id]?["SyncToken"] = .string(String(token + 1))
            if case .object(var meta) = entities["Invoice"]?[id]?["MetaData"] {
                meta["LastUpdatedTime"] = .string(Self.time(now))
                entities["Invoice"]?[id]?["MetaData"] = .object(meta)
            }
            changes.append(Change(entity: "Invoice", id: id, operation: "Update", at: now))
        }
    }

    /// A company's starting chart: accounts of several types (income, bank, receivable, undeposited funds, other
    /// income, expense), tax codes, and service items with their income accounts.
    private mutating func seed(now: Date) {
        let time = Self.time(now)
        func add(_ entity: String, _ fields: Object) {
            var object = fields
            let id = String(nextID)
            nextID += 1
            object["Id"] = .string(id)
            object["SyncToken"] = "0"
            object["domain"] = "QBO"
            object["sparse"] = false
            object["Active"] = true
            object["MetaData"] = ["CreateTime": .string(time), "LastUpdatedTime": .string(time)]
            entities[entity, default: [:]][id] = object
        }
        func account(_ name: String, _ number: String, _ type: String, _ subType: String) -> Object {
            [
                "Name": .string(name), "FullyQualifiedName": .string(name), "AcctNum": .string(number),
                "AccountType": .string(type), "AccountSubType": .string(subType), "SubAccount": false,
                "Classification": (Self.accountClassifications[type] ?? nil).map(JSONValue.string) ?? .null,
                "CurrentBalance": 0, "CurrentBalanceWithSubAccounts": 0,
            ]
        }
        // Ids 1–7 are what tests and docs have always named (1 Tuition Income, 5 GST 18%, 7 Services).
        add("Account", account("Tuition Income", "4000", "Income", "ServiceFeeIncome"))
        add("Account", account("Transport Income", "4100", "Income", "ServiceFeeIncome"))
        add("Account", account("Checking", "1100", "Bank", "Checking"))
        add("Account", account("Accounts Receivable (A/R)", "1200", "Accounts Receivable", "AccountsReceivable"))
        add("TaxCode", ["Name": "GST 18%", "Description": "GST 18%", "Taxable": true])
        add("TaxCode", ["Name": "Exempt", "Description": "Exempt", "Taxable": false])
        add(
            "Item",
            [
                "Name": "Services", "FullyQualifiedName": "Services", "Type": "Service",
                "IncomeAccountRef": ["value": "1", "name": "Tuition Income"],
            ])
        add("Account", account("Undeposited Funds", "1150", "Other Current Asset", "UndepositedFunds"))
        add("Account", account("Late Fee Income", "4900", "Other Income", "OtherMiscellaneousIncome"))
        add("Account", account("Salaries", "6000", "Expense", "PayrollExpenses"))
        add(
            "Item",
            [
                "Name": "Transport", "FullyQualifiedName": "Transport", "Type": "Service",
                "IncomeAccountRef": ["value": "2", "name": "Transport Income"],
            ])
    }

    // MARK: Values

    static func decimal(_ value: JSONValue?) -> Decimal? {
        switch value {
        case .number(let text)?, .string(let text)?: Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        default: nil
        }
    }

    static func number(_ value: Decimal) -> JSONValue {
        var rounded = Decimal()
        var source = value
        NSDecimalRound(&rounded, &source, 2, .bankers)
        return .number(NSDecimalNumber(decimal: rounded).stringValue)
    }

    /// An instant a client sent (`changedSince`): ISO 8601, with or without fractional seconds.
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// QuickBooks' instants: ISO 8601 with the company's offset (the emulator's companies keep UTC).
    static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        return formatter.string(from: date).replacingOccurrences(of: "Z", with: "-00:00")
    }
}

import Accounting
import Foundation

/// One QuickBooks Online company (realm) as the emulator keeps it: its entities by type and `Id`, and a change log
/// for CDC. The rules the real service enforces live here: required fields and references, unique `DisplayName`
/// (6240), `DocNumber` (6140, when the company uses custom transaction numbers), `SyncToken` optimistic locking
/// (5010), currencies (a customer's transactions are in its currency; a foreign one needs multicurrency), and
/// server-computed amounts: tax from the lines' tax codes and their rates, totals from the lines (discounts
/// subtract), `HomeTotalAmt` from the exchange rate, and balances (a payment's `LinkedTxn` reduces its invoice's
/// `Balance`; overpaying is refused), voids and deletes.
struct QBOCompany: Sendable {
    typealias Object = [String: JSONValue]

    /// The entity types the emulator serves, by the lower-case name in their URL.
    static let entityNames: [String: String] = [
        "customer": "Customer", "item": "Item", "account": "Account", "taxcode": "TaxCode", "taxrate": "TaxRate",
        "invoice": "Invoice",
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
    /// The company's country: its home currency and the tax codes and rates it starts with.
    let country: QuickBooksCountry
    var homeCurrency: String { country.homeCurrency }
    /// `Preferences.SalesFormsPrefs.CustomTxnNumbers`: off in a new company, when a `DocNumber` sent is stored as
    /// sent, a duplicate too; on, a second sales form with the same `DocNumber` is refused (6140) unless the request
    /// says `include=allowduplicatedocnum`.
    var customTransactionNumbers = false
    /// `Preferences.CurrencyPrefs.MultiCurrencyEnabled`: off in a new company (everything in the home currency).
    var multicurrencyEnabled = false
    /// The foreign currencies the company uses, each with the rate QuickBooks holds for it: home-currency units for
    /// one unit of it (what a transaction without `ExchangeRate` gets).
    var exchangeRates: [String: Decimal] = [:]

    init(realmID: String, country: QuickBooksCountry = .india, now: Date) {
        self.realmID = realmID
        self.country = country
        seed(now: now)
    }

    func object(_ entity: String, id: String) -> Object? { entities[entity]?[id] }

    /// The `Preferences` entity, in part: the sales forms' custom numbers and the currency settings.
    var preferences: Object {
        [
            "Id": "1", "SyncToken": "0", "domain": "QBO", "sparse": false,
            "SalesFormsPrefs": ["CustomTxnNumbers": .bool(customTransactionNumbers)],
            "CurrencyPrefs": [
                "HomeCurrency": ["value": .string(homeCurrency)], "MultiCurrencyEnabled": .bool(multicurrencyEnabled),
            ],
        ]
    }

    func all(_ entity: String) -> [Object] {
        (entities[entity] ?? [:]).values.sorted {
            Int($0["Id"]?.stringValue ?? "") ?? 0 < Int($1["Id"]?.stringValue ?? "") ?? 0
        }
    }

    // MARK: Writes

    mutating func create(
        _ entity: String, _ input: Object, now: Date, allowDuplicateDocNumber: Bool = false
    ) throws(QBOFault) -> Object {
        var object = input
        object["Id"] = nil
        object["SyncToken"] = nil
        try validate(entity, &object, replacing: nil, now: now, allowDuplicateDocNumber: allowDuplicateDocNumber)
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
    mutating func update(
        _ entity: String, _ input: Object, sparse: Bool, now: Date, allowDuplicateDocNumber: Bool = false
    ) throws(QBOFault) -> Object {
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
        try validate(entity, &object, replacing: id, now: now, allowDuplicateDocNumber: allowDuplicateDocNumber)
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
        if entity == "Invoice" {
            object["HomeTotalAmt"] = 0
            object["HomeBalance"] = 0
            object["TxnTaxDetail"] = ["TotalTax": 0]
        }
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

    private func validate(
        _ entity: String, _ object: inout Object, replacing id: String?, now: Date, allowDuplicateDocNumber: Bool
    ) throws(QBOFault) {
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
            if let currency = object["CurrencyRef"]?["value"]?.stringValue { try usableCurrency(currency) }
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
        case "TaxCode", "TaxRate":
            throw .unsupported("Operation create/update is not supported for \(entity); use TaxService")
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
                if let code = members["DiscountLineDetail"]?["TaxCodeRef"]?["value"]?.stringValue,
                    !["TAX", "NON"].contains(code), !usable("TaxCode", code)
                {
                    throw .invalidReference("TaxCodeRef")
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
            if let number = object["DocNumber"]?.stringValue, customTransactionNumbers, !allowDuplicateDocNumber,
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
        // The company's date by the emulator's clock (its companies keep UTC), never the machine's.
        if object["TxnDate"] == nil, Self.transactions.contains(entity) {
            object["TxnDate"] = .string(String(Self.time(now).prefix(10)))
        }
        if Self.transactions.contains(entity) { try currency(of: &object) }
    }

    /// A transaction's currency and rate. It is its customer's currency (QuickBooks answers every transaction with
    /// it; one naming another currency is refused); a foreign currency needs multicurrency and the currency in the
    /// company's list; `ExchangeRate` (home-currency units for one unit) is the one sent, else the one the company
    /// holds. With multicurrency on, a home-currency transaction answers `ExchangeRate` 1.
    private func currency(of object: inout Object) throws(QBOFault) {
        let customer = object["CustomerRef"]?["value"]?.stringValue.flatMap { self.object("Customer", id: $0) }
        let customerCurrency = customer?["CurrencyRef"]?["value"]?.stringValue ?? homeCurrency
        let currency = object["CurrencyRef"]?["value"]?.stringValue ?? customerCurrency
        try usableCurrency(currency)
        guard currency == customerCurrency else { throw .currencyMismatch(currency, customer: customerCurrency) }
        var reference = object["CurrencyRef"]?.objectValue ?? [:]
        reference["value"] = .string(currency)
        object["CurrencyRef"] = .object(reference)
        if currency == homeCurrency {
            if multicurrencyEnabled { object["ExchangeRate"] = 1 }
            return
        }
        if let sent = object["ExchangeRate"], sent != .null {
            guard let rate = Self.decimal(sent), rate > 0 else { throw .invalidExchangeRate(sent) }
        } else if let held = exchangeRates[currency] {
            object["ExchangeRate"] = .number(NSDecimalNumber(decimal: held).stringValue)
        }
    }

    /// A currency a customer or transaction may name: the home currency, or, with multicurrency on, one in the
    /// company's currency list.
    private func usableCurrency(_ currency: String) throws(QBOFault) {
        guard currency != homeCurrency else { return }
        guard multicurrencyEnabled else { throw .multicurrencyOff(currency, home: homeCurrency) }
        guard exchangeRates[currency] != nil else { throw .invalidReference("CurrencyRef") }
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

    /// Server-side amounts, in the transaction currency's minor unit: each line's `Amount` (a percent-based
    /// discount's from the sales lines), the `SubTotalLineDetail` line, the tax (`TxnTaxDetail`: one `TaxLine` per
    /// rate of the lines' tax codes, its taxable amount × the rate), `TotalAmt` (sales − discounts + tax),
    /// `HomeTotalAmt` (× `ExchangeRate`, in the home currency's unit) and `Balance`; a payment's allocation.
    private mutating func computeTotals(
        _ entity: String, _ object: inout Object, previous: Object?, now: Date
    ) throws(QBOFault) {
        let currency = object["CurrencyRef"]?["value"]?.stringValue ?? homeCurrency
        let digits = Self.digits(currency)
        switch entity {
        case "Invoice", "CreditMemo", "RefundReceipt":
            var sales = Decimal(0)
            for line in object["Line"]?.arrayValue ?? [] where Self.isSale(line) {
                sales += Self.rounded(Self.decimal(line["Amount"]) ?? 0, digits)
            }
            var subtotal = Decimal(0)
            var discounts = Decimal(0)
            /// The taxable amount of each tax code the lines name.
            var taxable: [String: Decimal] = [:]
            var lines: [JSONValue] = []
            var number = 1
            for line in object["Line"]?.arrayValue ?? [] {
                guard case .object(var members) = line else { continue }
                let kind = members["DetailType"]?.stringValue
                if kind == "SubTotalLineDetail" { continue }
                var amount = Self.rounded(Self.decimal(members["Amount"]) ?? 0, digits)
                if kind == "DiscountLineDetail" {
                    let detail = members["DiscountLineDetail"]
                    if detail?["PercentBased"]?.boolValue == true,
                        let percent = Self.decimal(detail?["DiscountPercent"])
                    {
                        amount = Self.rounded(sales * percent / 100, digits)
                    }
                    discounts += amount
                    if let code = detail?["TaxCodeRef"]?["value"]?.stringValue, let id = taxCodeID(code, in: object) {
                        taxable[id, default: 0] -= amount
                    }
                } else if kind != "DescriptionOnly" {
                    if let quantity = Self.decimal(members["SalesItemLineDetail"]?["Qty"]),
                        let price = Self.decimal(members["SalesItemLineDetail"]?["UnitPrice"]),
                        abs(NSDecimalNumber(decimal: quantity * price - amount).doubleValue)
                            >= 0.5 * pow(10, Double(-digits))
                    {
                        throw .businessRule(
                            "Amount calculation incorrect: Qty \(quantity) * UnitPrice \(price) != Amount \(amount)")
                    }
                    subtotal += amount
                    if let code = members["SalesItemLineDetail"]?["TaxCodeRef"]?["value"]?.stringValue,
                        let id = taxCodeID(code, in: object)
                    {
                        taxable[id, default: 0] += amount
                    }
                }
                members["Amount"] = Self.number(amount, digits: digits)
                members["Id"] = .string(String(number))
                members["LineNum"] = .number(String(number))
                number += 1
                lines.append(.object(members))
            }
            lines.append(
                [
                    "Amount": Self.number(subtotal, digits: digits), "DetailType": "SubTotalLineDetail",
                    "SubTotalLineDetail": [:],
                ])
            object["Line"] = .array(lines)
            let (tax, taxLines) = self.tax(taxable, digits: digits)
            var taxDetail: Object = ["TotalTax": Self.number(tax, digits: digits)]
            if let code = object["TxnTaxDetail"]?["TxnTaxCodeRef"], code != .null { taxDetail["TxnTaxCodeRef"] = code }
            if !taxLines.isEmpty { taxDetail["TaxLine"] = .array(taxLines) }
            object["TxnTaxDetail"] = .object(taxDetail)
            let total = subtotal - discounts + tax
            guard total >= 0 else {
                throw .businessRule("Business Validation Error: The transaction total cannot be negative")
            }
            object["TotalAmt"] = Self.number(total, digits: digits)
            let rate = currency == homeCurrency ? 1 : Self.decimal(object["ExchangeRate"]) ?? 1
            let homeDigits = Self.digits(homeCurrency)
            object["HomeTotalAmt"] = Self.number(Self.rounded(total * rate, homeDigits), digits: homeDigits)
            switch entity {
            case "Invoice":
                let paid =
                    previous.flatMap { previous in
                        Self.decimal(previous["TotalAmt"]).map { $0 - (Self.decimal(previous["Balance"]) ?? $0) }
                    } ?? 0
                guard total >= paid else {
                    throw .businessRule("The invoice total cannot be less than the payments applied to it")
                }
                object["Balance"] = Self.number(total - paid, digits: digits)
                object["HomeBalance"] = Self.number(Self.rounded((total - paid) * rate, homeDigits), digits: homeDigits)
            case "CreditMemo":
                object["RemainingCredit"] = Self.number(total, digits: digits)
                object["Balance"] = Self.number(total, digits: digits)
            default:
                object["Balance"] = 0
            }
        case "Payment":
            if let previous { try applyPayment(previous, sign: 1, now: now) }
            let total = Self.rounded(Self.decimal(object["TotalAmt"]) ?? 0, digits)
            var applied = Decimal(0)
            // Applied: what lines linking a transaction carry; a line linking none is not applied to anything.
            for line in object["Line"]?.arrayValue ?? [] where line["LinkedTxn"]?.arrayValue?.isEmpty == false {
                applied += Self.rounded(Self.decimal(line["Amount"]) ?? 0, digits)
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
            object["UnappliedAmt"] = Self.number(total - applied, digits: digits)
            object["TotalAmt"] = Self.number(total, digits: digits)
        default:
            break
        }
    }

    /// A line that sells something (not a discount, subtotal or description).
    private static func isSale(_ line: JSONValue) -> Bool {
        !["SubTotalLineDetail", "DiscountLineDetail", "DescriptionOnly"].contains(line["DetailType"]?.stringValue)
    }

    /// The tax code a line's `TaxCodeRef` means: an id of the company's, or US `TAX` (the transaction's
    /// `TxnTaxDetail.TxnTaxCodeRef`, else the company's sales tax code); `NON` is untaxed.
    private func taxCodeID(_ code: String, in object: Object) -> String? {
        switch code {
        case "NON": nil
        case "TAX": object["TxnTaxDetail"]?["TxnTaxCodeRef"]?["value"]?.stringValue ?? Self.salesTaxCodeID
        default: code
        }
    }

    /// The tax on each code's taxable amount: one `TaxLine` per rate of the codes (`SalesTaxRateList`), its
    /// taxable amount × `RateValue` %, rounded to the currency's minor unit; and their total.
    private func tax(_ taxable: [String: Decimal], digits: Int) -> (Decimal, [JSONValue]) {
        var byRate: [String: Decimal] = [:]
        for (code, amount) in taxable {
            for detail in object("TaxCode", id: code)?["SalesTaxRateList"]?["TaxRateDetail"]?.arrayValue ?? [] {
                if let rate = detail["TaxRateRef"]?["value"]?.stringValue { byRate[rate, default: 0] += amount }
            }
        }
        var total = Decimal(0)
        var lines: [JSONValue] = []
        for (id, base) in byRate.sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
            guard let rate = object("TaxRate", id: id), let percent = Self.decimal(rate["RateValue"]) else { continue }
            let amount = Self.rounded(base * percent / 100, digits)
            total += amount
            lines.append([
                "Amount": Self.number(amount, digits: digits), "DetailType": "TaxLineDetail",
                "TaxLineDetail": [
                    "TaxRateRef": ["value": .string(id), "name": rate["Name"] ?? .null], "PercentBased": true,
                    "TaxPercent": Self.number(percent, digits: 4),
                    "NetAmountTaxable": Self.number(base, digits: digits),
                ],
            ])
        }
        return (total, lines)
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
            let invoice = entities["Invoice"]?[id] ?? [:]
            let currency = invoice["CurrencyRef"]?["value"]?.stringValue ?? homeCurrency
            entities["Invoice"]?[id]?["Balance"] = Self.number(balance, digits: Self.digits(currency))
            if invoice["HomeBalance"] != nil {
                let rate = currency == homeCurrency ? 1 : Self.decimal(invoice["ExchangeRate"]) ?? 1
                let homeDigits = Self.digits(homeCurrency)
                entities["Invoice"]?[id]?["HomeBalance"] = Self.number(
                    Self.rounded(balance * rate, homeDigits), digits: homeDigits)
            }
            let token = Int(entities["Invoice"]?[id]?["SyncToken"]?.stringValue ?? "0") ?? 0
            entities["Invoice"]?[id]?["SyncToken"] = .string(String(token + 1))
            if case .object(var meta) = entities["Invoice"]?[id]?["MetaData"] {
                meta["LastUpdatedTime"] = .string(Self.time(now))
                entities["Invoice"]?[id]?["MetaData"] = .object(meta)
            }
            changes.append(Change(entity: "Invoice", id: id, operation: "Update", at: now))
        }
    }

    /// The id of the company's sales tax code (what a US line's `TAX` means when the transaction names none).
    static let salesTaxCodeID = "5"

    /// A company's starting chart: accounts of several types (income, bank, receivable, undeposited funds, other
    /// income, expense), service items with their income accounts, and its country's tax codes with their rates.
    private mutating func seed(now: Date) {
        let time = Self.time(now)
        @discardableResult
        func add(_ entity: String, _ fields: Object) -> String {
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
            return id
        }
        func account(_ name: String, _ number: String, _ type: String, _ subType: String) -> Object {
            [
                "Name": .string(name), "FullyQualifiedName": .string(name), "AcctNum": .string(number),
                "AccountType": .string(type), "AccountSubType": .string(subType), "SubAccount": false,
                "Classification": (Self.accountClassifications[type] ?? nil).map(JSONValue.string) ?? .null,
                "CurrentBalance": 0, "CurrentBalanceWithSubAccounts": 0,
            ]
        }
        func taxCode(_ name: String) -> Object {
            [
                "Name": .string(name), "Description": .string(name), "Taxable": true, "TaxGroup": true,
                "Hidden": false, "SalesTaxRateList": ["TaxRateDetail": []],
                "PurchaseTaxRateList": ["TaxRateDetail": []],
            ]
        }
        /// A sales rate, listed on its tax code.
        func rate(_ name: String, _ percent: String, on code: String) {
            let id = add(
                "TaxRate",
                [
                    "Name": .string(name), "Description": .string(name), "RateValue": .number(percent),
                    "SpecialTaxType": "NONE", "DisplayType": "ReadOnly",
                ])
            var details = entities["TaxCode"]?[code]?["SalesTaxRateList"]?["TaxRateDetail"]?.arrayValue ?? []
            details.append([
                "TaxRateRef": ["value": .string(id), "name": .string(name)], "TaxTypeApplicable": "TaxOnAmount",
                "TaxOrder": 0,
            ])
            entities["TaxCode"]?[code]?["SalesTaxRateList"] = ["TaxRateDetail": .array(details)]
        }
        // Ids 1–7 are what tests and docs have always named (1 Tuition Income, 5 the sales tax code — GST 18% in
        // India —, 6 Exempt, 7 Services).
        add("Account", account("Tuition Income", "4000", "Income", "ServiceFeeIncome"))
        add("Account", account("Transport Income", "4100", "Income", "ServiceFeeIncome"))
        add("Account", account("Checking", "1100", "Bank", "Checking"))
        add("Account", account("Accounts Receivable (A/R)", "1200", "Accounts Receivable", "AccountsReceivable"))
        let sales = add("TaxCode", taxCode(country.salesTaxCodeName))
        var exempt = taxCode("Exempt")
        exempt["Taxable"] = false
        exempt["TaxGroup"] = false
        add("TaxCode", exempt)
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
        // Ids from 12: the country's rates, and its other tax codes.
        switch country {
        case .india:
            // GST within a state: half as CGST, half as SGST; between states all as IGST.
            for percent in ["18", "0", "5", "12", "28"] {
                let code = percent == "18" ? sales : add("TaxCode", taxCode("GST \(percent)%"))
                let half = NSDecimalNumber(decimal: (Decimal(string: percent) ?? 0) / 2).stringValue
                rate("CGST \(half)%", half, on: code)
                rate("SGST \(half)%", half, on: code)
            }
            for percent in ["5", "12", "18", "28"] {
                rate("IGST \(percent)%", percent, on: add("TaxCode", taxCode("IGST \(percent)%")))
            }
        case .unitedKingdom:
            rate("20.0% S", "20", on: sales)
            rate("5.0% R", "5", on: add("TaxCode", taxCode("5.0% R")))
            rate("0.0% Z", "0", on: add("TaxCode", taxCode("0.0% Z")))
        case .unitedStates:
            rate("California", "7.25", on: sales)
        }
    }

    // MARK: Values

    static func decimal(_ value: JSONValue?) -> Decimal? {
        switch value {
        case .number(let text)?, .string(let text)?: Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        default: nil
        }
    }

    /// An amount as QuickBooks answers it, to `digits` places (a currency's minor unit).
    static func number(_ value: Decimal, digits: Int = 2) -> JSONValue {
        .number(NSDecimalNumber(decimal: rounded(value, digits)).stringValue)
    }

    /// Rounded half away from zero to `digits` places.
    static func rounded(_ value: Decimal, _ digits: Int) -> Decimal {
        var result = Decimal()
        var source = value
        NSDecimalRound(&result, &source, digits, .plain)
        return result
    }

    /// The digits of a currency's minor unit (ISO 4217: JPY 0, INR 2, KWD 3); 2 for a code the table lacks.
    static func digits(_ currency: String) -> Int { Currency(code: currency)?.minorUnitExponent ?? 2 }

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

/// The countries whose companies the emulator starts: each one's home currency, and its tax codes and rates.
public enum QuickBooksCountry: String, Sendable, CaseIterable {
    /// GST: codes `GST 0%`, `GST 5%`, `GST 12%`, `GST 18%` and `GST 28%`, each with its CGST and SGST rates of half
    /// the rate, and `IGST 5%` … `IGST 28%`; `Exempt`.
    case india = "IN"
    /// VAT: `20.0% S`, `5.0% R`, `0.0% Z`; `Exempt`.
    case unitedKingdom = "GB"
    /// Sales tax: `California` at 7.25 % (lines say `TAX` or `NON`); `Exempt`.
    case unitedStates = "US"

    public var homeCurrency: String {
        switch self {
        case .india: "INR"
        case .unitedKingdom: "GBP"
        case .unitedStates: "USD"
        }
    }

    /// The name of tax code 5, the company's usual sales tax code.
    var salesTaxCodeName: String {
        switch self {
        case .india: "GST 18%"
        case .unitedKingdom: "20.0% S"
        case .unitedStates: "California"
        }
    }
}

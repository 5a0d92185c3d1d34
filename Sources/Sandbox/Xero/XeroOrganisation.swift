import Accounting
import Foundation

/// Why Xero refused one element of a write: its `ValidationErrors` messages.
struct XeroValidation: Error, Sendable {
    var messages: [String]
    /// A 404 rather than a validation error (an id in the path that Xero does not hold).
    var notFound = false

    init(_ messages: String...) { self.messages = messages }

    static func notFound(_ what: String) -> XeroValidation {
        var error = XeroValidation("\(what) not found")
        error.notFound = true
        return error
    }
}

/// One Xero organisation (tenant) as the emulator keeps it: its records by collection and id, the webhook events of
/// its changes, and its journals. The rules Xero enforces live here and in its extensions: unique contact names,
/// account codes and names, item codes and invoice numbers; references that must exist (`AccountCode`, `TaxType`,
/// `ItemCode`, `ContactID`); totals computed per line (Xero's "Rounding in Xero" guide); payments no larger than what
/// is due; voids only without payments.
struct XeroOrganisation: Sendable {
    typealias Object = [String: JSONValue]

    /// Each collection's id key.
    static let idKeys: [String: String] = [
        "Contacts": "ContactID", "Invoices": "InvoiceID", "Payments": "PaymentID", "CreditNotes": "CreditNoteID",
        "Items": "ItemID", "Accounts": "AccountID", "TaxRates": "TaxType", "Currencies": "Code",
    ]

    enum Mode {
        /// `PUT /X`: create only.
        case create
        /// `POST /X/{id}`: update only.
        case update
        /// `POST /X`: update when the element names an existing record, create otherwise.
        case createOrUpdate
    }

    let tenantID: String
    let name: String
    let baseCurrency: String
    let countryCode: String
    let created: Date
    private(set) var records: [String: [String: Object]] = [:]
    private(set) var order: [String: [String]] = [:]
    /// Each foreign currency's rate: units of it for one unit of the base currency.
    private(set) var rates: [String: Decimal] = [:]
    var events: [XeroWebhookEvent] = []
    private(set) var journals: [Object] = []
    var nextInvoiceNumber = 1
    var nextCreditNoteNumber = 1
    var nextTaxNumber = 1

    init(tenantID: String, name: String, baseCurrency: String, countryCode: String, now: Date) {
        self.tenantID = tenantID
        self.name = name
        self.baseCurrency = baseCurrency
        self.countryCode = countryCode
        self.created = now
        seed(now: now)
    }

    func all(_ collection: String) -> [Object] {
        (order[collection] ?? []).compactMap { records[collection]?[$0] }
    }

    func record(_ collection: String, _ id: String) -> Object? { records[collection]?[id] }

    mutating func store(_ collection: String, _ object: Object, now: Date) {
        guard let key = Self.idKeys[collection], let id = object[key]?.stringValue else { return }
        if records[collection]?[id] == nil { order[collection, default: []].append(id) }
        var object = object
        // Currencies and tax rates carry no UpdatedDateUTC in Xero's schemas.
        if collection != "Currencies", collection != "TaxRates" {
            object["UpdatedDateUTC"] = .string(Self.dateJSON(now))
        }
        records[collection, default: [:]][id] = object
    }

    mutating func record(
        event category: XeroWebhookEvent.Category, _ type: XeroWebhookEvent.EventType, id: String,
        now: Date, creditNote: (type: String, status: String)? = nil
    ) {
        events.append(
            XeroWebhookEvent(
                tenantID: tenantID, category: category, eventType: type, resourceID: id, occurredAt: now,
                creditNote: creditNote))
    }

    mutating func addJournal(
        source: String, sourceType: String, date: Date,
        lines: [(
            account: String, net: Decimal,
            tax: Decimal
        )], now: Date
    ) {
        let number = journals.count + 1
        let journalLines: [JSONValue] = lines.map { line in
            let account = accountByCode(line.account)
            return [
                "JournalLineID": .string(UUID().uuidString.lowercased()),
                "AccountID": account?["AccountID"] ?? .null, "AccountCode": .string(line.account),
                "AccountType": account?["Type"] ?? .null, "AccountName": account?["Name"] ?? .null,
                "NetAmount": Self.money(line.net), "GrossAmount": Self.money(line.net + line.tax),
                "TaxAmount": Self.money(line.tax), "TrackingCategories": [],
            ]
        }
        journals.append([
            "JournalID": .string(UUID().uuidString.lowercased()), "JournalDate": .string(Self.dateJSON(date)),
            "JournalNumber": .number(String(number)), "CreatedDateUTC": .string(Self.dateJSON(now)),
            "SourceID": .string(source), "SourceType": .string(sourceType), "JournalLines": .array(journalLines),
        ])
    }

    // MARK: Settings

    var organisation: Object {
        [
            "OrganisationID": .string(tenantID), "APIKey": "", "Name": .string(name), "LegalName": .string(name),
            "PaysTax": true, "Version": .string(Self.version(countryCode)), "OrganisationType": "COMPANY",
            "BaseCurrency": .string(baseCurrency), "CountryCode": .string(countryCode), "IsDemoCompany": false,
            "OrganisationStatus": "ACTIVE", "FinancialYearEndDay": 31, "FinancialYearEndMonth": 3,
            "SalesTaxBasis": "ACCRUALS", "SalesTaxPeriod": "QUARTERLY1", "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Exclusive", "ShortCode": .string("!" + String(tenantID.prefix(5))),
            "Edition": "BUSINESS", "Class": "STANDARD", "CreatedDateUTC": .string(Self.dateJSON(created)),
            "OrganisationEntityType": "COMPANY", "Timezone": "GMTSTANDARDTIME", "Addresses": [], "Phones": [],
            "ExternalLinks": [], "PaymentTerms": [:],
        ]
    }

    static func version(_ country: String) -> String {
        switch country {
        case "GB": "UK"
        case "AU": "AU"
        case "NZ": "NZ"
        case "US": "US"
        default: "GLOBAL"
        }
    }

    mutating func addCurrency(_ code: String, rate: Decimal, now: Date) {
        guard code != baseCurrency else { return }
        rates[code] = rate
        store("Currencies", ["Code": .string(code), "Description": .string(Self.currencyName(code))], now: now)
    }

    func hasCurrency(_ code: String) -> Bool { code == baseCurrency || rates[code] != nil }

    func rate(_ code: String) -> Decimal { code == baseCurrency ? 1 : rates[code] ?? 1 }

    func accountByCode(_ code: String) -> Object? { all("Accounts").first { $0["Code"]?.stringValue == code } }

    func taxRate(_ type: String) -> Object? { records["TaxRates"]?[type] }

    /// A tax rate's percentage (its components added; a compound one is not modelled).
    func percent(_ type: String) -> Decimal? {
        guard let rate = taxRate(type) else { return nil }
        return Self.decimal(rate["EffectiveRate"]) ?? 0
    }

    /// Adds a tax rate as a person does in Xero: its `TaxType` is `TAX001`, `TAX002`, … (components each with
    /// their rate).
    mutating func addTaxRate(name: String, components: [(String, Decimal)], now: Date) -> String {
        let type =
            "TAX" + String(repeating: "0", count: max(0, 3 - String(nextTaxNumber).count)) + String(nextTaxNumber)
        nextTaxNumber += 1
        addTax(type, name, components: components, now: now)
        return type
    }

    mutating func addTax(_ type: String, _ name: String, components: [(String, Decimal)], now: Date) {
        let total = components.reduce(Decimal(0)) { $0 + $1.1 }
        let rate = Self.rateNumber(total)
        store(
            "TaxRates",
            [
                "Name": .string(name), "TaxType": .string(type),
                "TaxComponents": .array(
                    components.map {
                        [
                            "Name": .string($0.0), "Rate": Self.rateNumber($0.1), "IsCompound": false,
                            "IsNonRecoverable": false,
                        ]
                    }),
                "Status": "ACTIVE", "CanApplyToAssets": true, "CanApplyToEquity": true, "CanApplyToExpenses": true,
                "CanApplyToLiabilities": true, "CanApplyToRevenue": true, "DisplayTaxRate": rate, "EffectiveRate": rate,
            ], now: now)
    }

    // MARK: Seed

    private mutating func seed(now: Date) {
        store(
            "Currencies", ["Code": .string(baseCurrency), "Description": .string(Self.currencyName(baseCurrency))],
            now: now)
        let sales: String
        let purchases: String
        switch countryCode {
        case "GB":
            addTax("OUTPUT2", "20% (VAT on Income)", components: [("VAT", 20)], now: now)
            addTax("INPUT2", "20% (VAT on Expenses)", components: [("VAT", 20)], now: now)
            addTax("RROUTPUT", "5% (VAT on Income)", components: [("VAT", 5)], now: now)
            addTax("ZERORATEDOUTPUT", "Zero Rated Income", components: [("VAT", 0)], now: now)
            addTax("ZERORATEDINPUT", "Zero Rated Expenses", components: [("VAT", 0)], now: now)
            addTax("EXEMPTOUTPUT", "Exempt Income", components: [("VAT", 0)], now: now)
            addTax("NONE", "No VAT", components: [("VAT", 0)], now: now)
            (sales, purchases) = ("OUTPUT2", "INPUT2")
        default:
            // A "global" organisation: Xero's three default rates at 0 %, and the rates a person adds, which Xero
            // names TAX001, TAX002, … (India's GST rates, added as an Indian organisation does).
            addTax("NONE", "Tax Exempt", components: [("Tax", 0)], now: now)
            addTax("INPUT", "Tax on Purchases", components: [("Tax", 0)], now: now)
            addTax("OUTPUT", "Tax on Sales", components: [("Tax", 0)], now: now)
            if countryCode == "IN" {
                _ = addTaxRate(name: "GST 18%", components: [("CGST", 9), ("SGST", 9)], now: now)
                _ = addTaxRate(name: "IGST 18%", components: [("IGST", 18)], now: now)
                _ = addTaxRate(name: "GST 5%", components: [("CGST", 2.5), ("SGST", 2.5)], now: now)
                _ = addTaxRate(name: "GST 12%", components: [("CGST", 6), ("SGST", 6)], now: now)
                _ = addTaxRate(name: "GST 28%", components: [("CGST", 14), ("SGST", 14)], now: now)
            }
            (sales, purchases) = ("OUTPUT", "INPUT")
        }
        let taxAccount = countryCode == "GB" ? "VAT" : "Sales Tax"
        let accounts: [(String, String, String, String, String?, String?)] = [
            ("090", "Business Bank Account", "BANK", "ASSET", nil, "NONE"),
            ("200", "Sales", "REVENUE", "REVENUE", nil, sales),
            ("260", "Other Revenue", "REVENUE", "REVENUE", nil, sales),
            ("310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE", nil, purchases),
            ("400", "Advertising", "OVERHEADS", "EXPENSE", nil, purchases),
            ("610", "Accounts Receivable", "CURRENT", "ASSET", "DEBTORS", "NONE"),
            ("800", "Accounts Payable", "CURRLIAB", "LIABILITY", "CREDITORS", "NONE"),
            ("820", taxAccount, "CURRLIAB", "LIABILITY", "GST", "NONE"),
            ("860", "Rounding", "CURRLIAB", "LIABILITY", "ROUNDING", "NONE"),
            ("970", "Owner A Funds Introduced", "EQUITY", "EQUITY", nil, "NONE"),
        ]
        for (code, name, type, accountClass, system, tax) in accounts {
            var account: Object = [
                "AccountID": .string(UUID().uuidString.lowercased()), "Code": .string(code), "Name": .string(name),
                "Type": .string(type), "Class": .string(accountClass), "Status": "ACTIVE",
                "TaxType": tax.map(JSONValue.string) ?? .null,
                "EnablePaymentsToAccount": .bool(code == "970"), "ShowInExpenseClaims": false,
                "ReportingCode": "", "HasAttachments": false, "AddToWatchlist": false,
            ]
            if let system { account["SystemAccount"] = .string(system) }
            if type == "BANK" {
                account["BankAccountNumber"] = "12345678"
                account["BankAccountType"] = "BANK"
                account["CurrencyCode"] = .string(baseCurrency)
            }
            store("Accounts", account, now: now)
        }
    }

    // MARK: Contacts, items, accounts

    mutating func saveContact(_ input: Object, id: String?, mode: Mode, now: Date) throws(XeroValidation) -> Object {
        var existing = id.flatMap { record("Contacts", $0) }
        if id != nil, existing == nil { throw .notFound("Contact") }
        if existing == nil, let given = input["ContactID"]?.stringValue {
            guard mode != .create, let found = record("Contacts", given) else {
                throw XeroValidation("The contact with the specified ContactID could not be found")
            }
            existing = found
        }
        if existing == nil, mode == .createOrUpdate, let name = input["Name"]?.stringValue {
            existing = all("Contacts").first { $0["Name"]?.stringValue == name }
        }
        if mode == .update, existing == nil { throw .notFound("Contact") }
        var contact = existing ?? [:]
        for (key, value) in input where !["ContactID", "UpdatedDateUTC", "StatusAttributeString"].contains(key) {
            contact[key] = value
        }
        guard let name = contact["Name"]?.stringValue?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
            throw XeroValidation("The contact name must be specified")
        }
        guard name.count <= 255 else { throw XeroValidation("The contact name must not exceed 255 characters") }
        let contactID = existing?["ContactID"]?.stringValue ?? UUID().uuidString.lowercased()
        if all("Contacts").contains(where: {
            $0["Name"]?.stringValue == name && $0["ContactID"]?.stringValue != contactID
                && $0["ContactStatus"]?.stringValue != "ARCHIVED"
        }) {
            throw XeroValidation(
                "The contact name \(name) is already assigned to another contact. The contact name must be unique "
                    + "across all active contacts.")
        }
        if let number = contact["ContactNumber"]?.stringValue, number.count > 50 {
            throw XeroValidation("The Contact Number must not exceed 50 characters")
        }
        contact["ContactID"] = .string(contactID)
        contact["ContactStatus"] = contact["ContactStatus"] ?? "ACTIVE"
        contact["Addresses"] = contact["Addresses"] ?? []
        contact["Phones"] = contact["Phones"] ?? []
        contact["ContactGroups"] = contact["ContactGroups"] ?? []
        contact["ContactPersons"] = contact["ContactPersons"] ?? []
        contact["IsSupplier"] = contact["IsSupplier"] ?? false
        contact["IsCustomer"] = contact["IsCustomer"] ?? false
        contact["HasAttachments"] = false
        contact["HasValidationErrors"] = false
        store("Contacts", contact, now: now)
        record(event: .contact, existing == nil ? .create : .update, id: contactID, now: now)
        return records["Contacts"]?[contactID] ?? contact
    }

    mutating func saveItem(_ input: Object, id: String?, mode: Mode, now: Date) throws(XeroValidation) -> Object {
        var existing = id.flatMap { record("Items", $0) }
        if id != nil, existing == nil { throw .notFound("Item") }
        if existing == nil, mode != .create, let code = input["Code"]?.stringValue {
            existing = all("Items").first { $0["Code"]?.stringValue == code }
        }
        if existing == nil, let given = input["ItemID"]?.stringValue {
            guard mode != .create, let found = record("Items", given) else { throw .notFound("Item") }
            existing = found
        }
        var item = existing ?? [:]
        for (key, value) in input where !["ItemID", "UpdatedDateUTC", "StatusAttributeString"].contains(key) {
            item[key] = value
        }
        guard let code = item["Code"]?.stringValue, !code.isEmpty else { throw XeroValidation("Code is required") }
        guard code.count <= 30 else { throw XeroValidation("Code must not exceed 30 characters") }
        let itemID = existing?["ItemID"]?.stringValue ?? UUID().uuidString.lowercased()
        if all("Items").contains(where: { $0["Code"]?.stringValue == code && $0["ItemID"]?.stringValue != itemID }) {
            throw XeroValidation("Item code '\(code)' already exists")
        }
        for details in ["SalesDetails", "PurchaseDetails"] {
            if let account = item[details]?["AccountCode"]?.stringValue, accountByCode(account) == nil {
                throw XeroValidation("Account code '\(account)' is not a valid code")
            }
            if let tax = item[details]?["TaxType"]?.stringValue, taxRate(tax) == nil {
                throw XeroValidation(
                    "The TaxType code '\(tax)' does not exist or cannot be used for this type of "
                        + "transaction.")
            }
        }
        item["ItemID"] = .string(itemID)
        item["Name"] = item["Name"] ?? .string(code)
        item["IsSold"] = item["IsSold"] ?? .bool(item["SalesDetails"] != nil)
        item["IsPurchased"] = item["IsPurchased"] ?? .bool(item["PurchaseDetails"] != nil)
        item["IsTrackedAsInventory"] = false
        store("Items", item, now: now)
        return records["Items"]?[itemID] ?? item
    }

    static let accountTypes: [String: String] = [
        "BANK": "ASSET", "CURRENT": "ASSET", "CURRLIAB": "LIABILITY", "DEPRECIATN": "EXPENSE", "DIRECTCOSTS": "EXPENSE",
        "EQUITY": "EQUITY", "EXPENSE": "EXPENSE", "FIXED": "ASSET", "INVENTORY": "ASSET", "LIABILITY": "LIABILITY",
        "NONCURRENT": "ASSET", "OTHERINCOME": "REVENUE", "OVERHEADS": "EXPENSE", "PREPAYMENT": "ASSET",
        "REVENUE": "REVENUE", "SALES": "REVENUE", "TERMLIAB": "LIABILITY",
    ]

    /// `PUT /Accounts`: a new account (unique code of at most 10 characters, unique name, a known type).
    mutating func createAccount(_ input: Object, now: Date) throws(XeroValidation) -> Object {
        var account = input
        var messages: [String] = []
        let code = input["Code"]?.stringValue ?? ""
        let name = input["Name"]?.stringValue ?? ""
        if code.isEmpty { messages.append("Please enter a Code.") }
        if code.count > 10 { messages.append("Please enter a Code with 10 characters or fewer.") }
        if !code.isEmpty, accountByCode(code) != nil { messages.append("Please enter a unique Code.") }
        if name.isEmpty { messages.append("Please enter a Name.") }
        if !name.isEmpty, all("Accounts").contains(where: { $0["Name"]?.stringValue == name }) {
            messages.append("Please enter a unique Name.")
        }
        let type = input["Type"]?.stringValue ?? ""
        if Self.accountTypes[type] == nil { messages.append("Please select a valid Type.") }
        if let tax = input["TaxType"]?.stringValue, taxRate(tax) == nil {
            messages.append("The TaxType code '\(tax)' does not exist or cannot be used for this type of transaction.")
        }
        guard messages.isEmpty else { throw XeroValidation(messages: messages) }
        account["AccountID"] = .string(UUID().uuidString.lowercased())
        account["Class"] = .string(Self.accountTypes[type] ?? "")
        account["Status"] = "ACTIVE"
        account["EnablePaymentsToAccount"] = input["EnablePaymentsToAccount"] ?? false
        account["ShowInExpenseClaims"] = input["ShowInExpenseClaims"] ?? false
        account["HasAttachments"] = false
        store("Accounts", account, now: now)
        return account
    }

    mutating func addTaxRate(_ input: Object, now: Date) throws(XeroValidation) -> Object {
        guard let name = input["Name"]?.stringValue, !name.isEmpty else { throw XeroValidation("Name is required") }
        var components: [(String, Decimal)] = []
        for component in input["TaxComponents"]?.arrayValue ?? [] {
            guard let rate = Self.decimal(component["Rate"]), rate >= 0, rate <= 100 else {
                throw XeroValidation("A tax component's Rate must be between 0 and 100")
            }
            components.append((component["Name"]?.stringValue ?? name, rate))
        }
        guard !components.isEmpty else { throw XeroValidation("At least one tax component is required") }
        let type = addTaxRate(name: name, components: components, now: now)
        return records["TaxRates"]?[type] ?? [:]
    }
}

extension XeroValidation {
    init(messages: [String]) { self.messages = messages }
}

import Accounting
import Foundation

extension SageBusiness {
    /// The contact types a contact may carry (`contact_type_ids`), by Sage's ids.
    static let contactTypes = ["CUSTOMER": "Customer", "VENDOR": "Supplier"]

    /// Currencies the emulator knows, with the rate a business holds for each against its own currency (units of
    /// the foreign currency for one of the base currency): an artefact in one without `exchange_rate` gets it.
    static let currencies: [String: (name: String, rate: Decimal)] = [
        "GBP": ("Pound Sterling", 1), "EUR": ("Euro", Decimal(string: "1.15") ?? 1),
        "USD": ("US Dollar", Decimal(string: "1.27") ?? 1),
    ]

    func currencyLink(_ code: String) -> JSONValue {
        [
            "id": .string(code), "displayed_as": .string("\(Self.currencies[code]?.name ?? code) (\(code))"),
            "$path": .string("/currencies/\(code)"),
        ]
    }

    /// `POST /contacts` (`id` nil) or `PUT /contacts/{id}`.
    mutating func saveContact(_ input: Object, id: String?, now: Date) throws(SageBusinessCloudFailure) -> Object {
        var contact: Object
        if let id {
            guard let existing = record("contacts", id) else { throw .notFound }
            contact = existing
        } else {
            contact = ["id": .string(Self.newID()), "balance": Self.money(0), "system": false, "deletable": true]
            guard input["name"] != nil else { throw .blank("name") }
            guard input["contact_type_ids"] != nil else { throw .blank("contact_type_ids") }
        }
        if input["name"] != nil {
            guard let name = try Self.text(input["name"], "name", limit: 100), !name.isEmpty else {
                throw .blank("name")
            }
            contact["name"] = .string(name)
        }
        if let types = input["contact_type_ids"] {
            let ids = types.arrayValue?.compactMap(\.stringValue) ?? []
            guard !ids.isEmpty, ids.count == types.arrayValue?.count, ids.allSatisfy({ Self.contactTypes[$0] != nil })
            else { throw .invalid("contact_type_ids", "is invalid") }
            contact["contact_types"] = .array(
                ids.map {
                    [
                        "id": .string($0), "displayed_as": .string(Self.contactTypes[$0] ?? $0),
                        "$path": .string("/contact_types/\($0)"),
                    ]
                })
        }
        for key in ["reference", "tax_number", "notes", "locale", "source_guid", "registered_number"] {
            if let text = try Self.text(input[key], key, limit: key == "notes" ? 2000 : 100) {
                contact[key] = .string(text)
            }
        }
        if let reference = contact["reference"]?.stringValue,
            all("contacts").contains(where: {
                $0["reference"]?.stringValue == reference && $0["id"] != contact["id"]
            })
        {
            throw .invalid("reference", "has already been taken")
        }
        if let credit = input["credit_days"] {
            guard let days = credit.intValue, (0...999).contains(days) else {
                throw .invalid("credit_days", "is invalid")
            }
            contact["credit_days"] = .number(String(days))
        }
        if let limit = input["credit_limit"] {
            guard let amount = Self.decimal(limit), amount >= 0 else { throw .invalid("credit_limit", "is invalid") }
            contact["credit_limit"] = Self.money(amount)
        }
        let currency = try input["currency_id"].map { value throws(SageBusinessCloudFailure) -> String in
            guard let code = value.stringValue, Self.currencies[code] != nil else {
                throw .invalid("currency_id", "is invalid")
            }
            return code
        }
        contact["currency"] = currencyLink(currency ?? contact["currency"]?["id"]?.stringValue ?? region.currency)
        for (key, resource) in [
            ("default_sales_ledger_account_id", "ledger_accounts"), ("default_sales_tax_rate_id", "tax_rates"),
        ] {
            guard let value = input[key] else { continue }
            guard let target = value.stringValue, record(resource, target) != nil else {
                throw .invalid(key, "is invalid")
            }
            let linked = String(key.dropLast(3))
            contact[linked] =
                resource == "ledger_accounts" ? .object(record(resource, target) ?? [:]) : link(resource, target)
        }
        if let address = input["main_address"]?.objectValue {
            contact["main_address"] = .object(try Self.address(address, source: "main_address"))
        }
        if let person = input["main_contact_person"]?.objectValue {
            var kept: Object = [:]
            for key in ["name", "job_title", "telephone", "mobile", "email", "fax"] {
                if let text = try Self.text(person[key], "main_contact_person.\(key)", limit: 255) {
                    kept[key] = .string(text)
                }
            }
            if let email = kept["email"] { contact["email"] = email }
            contact["main_contact_person"] = .object(kept)
        }
        let name = contact["name"]?.stringValue ?? ""
        contact["displayed_as"] = .string(
            contact["reference"]?.stringValue.map { "\(name) (\($0))" } ?? name)
        store("contacts", contact, now: now)
        return record("contacts", contact["id"]?.stringValue ?? "") ?? contact
    }

    /// An address a client sent, kept in the answer's shape (`country` for `country_id`).
    static func address(_ input: Object, source: String) throws(SageBusinessCloudFailure) -> Object {
        var address: Object = [:]
        for key in ["address_line_1", "address_line_2", "city", "postal_code", "region"] {
            if let text = try text(input[key], "\(source).\(key)", limit: 255) { address[key] = .string(text) }
        }
        if let country = try text(input["country_id"], "\(source).country_id", limit: 2) {
            address["country"] = ["id": .string(country), "displayed_as": .string(country)]
        }
        return address
    }

    /// `DELETE /contacts/{id}`: refused while the contact has transactions.
    mutating func deleteContact(_ id: String, now: Date) throws(SageBusinessCloudFailure) {
        guard record("contacts", id) != nil else { throw .notFound }
        let used = ["sales_invoices", "sales_credit_notes", "contact_payments"].contains { resource in
            all(resource).contains { $0["contact"]?["id"]?.stringValue == id }
        }
        if used { throw .invalid("contact", "cannot be deleted as it has transactions") }
        remove("contacts", id, now: now)
    }

    func isCustomer(_ id: String) -> Bool {
        record("contacts", id)?["contact_types"]?.arrayValue?.contains { $0["id"] == "CUSTOMER" } == true
    }

    /// `POST /products` or `POST /services`: a catalogue item for invoice lines.
    mutating func createItem(_ resource: String, _ input: Object, now: Date) throws(SageBusinessCloudFailure) -> Object
    {
        guard let description = try Self.text(input["description"], "description", limit: 255),
            !description.isEmpty
        else { throw .blank("description") }
        var item: Object = [
            "id": .string(Self.newID()), "displayed_as": .string(description), "description": .string(description),
            "active": true, "deletable": true, "deactivatable": true, "used_on_recurring_invoice": false,
        ]
        if let code = try Self.text(input["item_code"], "item_code", limit: 50) { item["item_code"] = .string(code) }
        for (key, kind, linked) in [
            ("sales_ledger_account_id", "ledger_accounts", "sales_ledger_account"),
            ("purchase_ledger_account_id", "ledger_accounts", "purchase_ledger_account"),
            ("sales_tax_rate_id", "tax_rates", "sales_tax_rate"),
        ] {
            guard let value = input[key] else {
                if key == "sales_ledger_account_id" || (key == "purchase_ledger_account_id" && resource == "products") {
                    throw .blank(key)
                }
                continue
            }
            guard let target = value.stringValue, record(kind, target) != nil else {
                throw .invalid(key, "is invalid")
            }
            item[linked] = link(kind, target)
        }
        store(resource, item, now: now)
        return record(resource, item["id"]?.stringValue ?? "") ?? item
    }
}

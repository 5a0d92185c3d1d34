import Accounting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The Accounting API's reads and writes, in Xero's shapes: collection wrappers in and out, `pagination`, `where`,
/// `IDs`/`InvoiceNumbers`/`ContactIDs`/`Statuses`, `If-Modified-Since`, and `summarizeErrors`.
extension XeroSandbox {
    /// The collections answered in pages when `page` is given.
    static let paged: Set<String> = ["Contacts", "Invoices", "CreditNotes", "Payments"]

    func list(tenant: String, collection path: String, request: Request) throws(Failure) -> (Int, JSONValue) {
        let collection = try Self.collection(path)
        guard let organisation = organisations[tenant] else { throw Failure.notFound }
        switch collection {
        case "Organisation":
            return (200, ["Organisations": [.object(organisation.organisation)]])
        case "Journals":
            let offset = request.xeroParameter("offset").flatMap { Int($0.prefix(12)) } ?? 0
            return (200, ["Journals": .array(organisation.journals(after: offset).map(JSONValue.object))])
        default:
            break
        }
        var found = organisation.all(collection)
        if let text = request.xeroParameter("where"), !text.isEmpty {
            let query: XeroQuery
            do { query = try XeroQuery(parsing: text, collection: collection) } catch {
                throw Failure.query(error.message)
            }
            found = found.filter(query.matches)
        }
        let lists: [(String, String)] = [
            ("IDs", XeroOrganisation.idKeys[collection] ?? ""), ("InvoiceNumbers", "InvoiceNumber"),
            ("Statuses", "Status"),
        ]
        for (parameter, key) in lists {
            guard let text = request.xeroParameter(parameter), !text.isEmpty else { continue }
            let wanted = Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
            found = found.filter { wanted.contains(($0[key]?.stringValue ?? "").lowercased()) }
        }
        if let text = request.xeroParameter("ContactIDs"), !text.isEmpty {
            let wanted = Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
            found = found.filter { wanted.contains(($0["Contact"]?["ContactID"]?.stringValue ?? "").lowercased()) }
        }
        if collection == "Contacts", request.xeroParameter("includeArchived")?.lowercased() != "true" {
            found = found.filter { $0["ContactStatus"]?.stringValue != "ARCHIVED" }
        }
        if let header = request.headers[HTTPField.Name("If-Modified-Since")!] {
            guard let since = XeroOrganisation.instant(header) else {
                throw Failure.postData("The If-Modified-Since header is not a valid date")
            }
            found = found.filter { (XeroOrganisation.parseDate($0["UpdatedDateUTC"]) ?? .distantPast) > since }
        }
        if let order = request.xeroParameter("order"), !order.isEmpty {
            let parts = order.split(separator: " ")
            let field = String(parts.first ?? "")
            guard XeroQuery.fields[collection]?.contains(field) == true else {
                throw Failure.query(
                    "No property or field '\(field)' exists in type '\(XeroQuery.typeNames[collection] ?? collection)'")
            }
            let descending = parts.count > 1 && parts[1].uppercased() == "DESC"
            found.sort { left, right in
                let a = left[field].map(Self.sortKey) ?? ""
                let b = right[field].map(Self.sortKey) ?? ""
                return descending ? a > b : a < b
            }
        }
        var answer: [String: JSONValue] = [:]
        if Self.paged.contains(collection), let pageText = request.xeroParameter("page") {
            guard let page = Int(pageText.prefix(9)), page >= 1 else {
                throw Failure.postData("page must be a whole number of at least 1")
            }
            let size = min(max(request.xeroParameter("pageSize").flatMap { Int($0.prefix(9)) } ?? 100, 1), 1000)
            let start = (page - 1) * size
            let slice = start < found.count ? Array(found[start..<min(found.count, start + size)]) : []
            answer["pagination"] = [
                "page": .number(String(page)), "pageSize": .number(String(size)),
                "pageCount": .number(String((found.count + size - 1) / size)),
                "itemCount": .number(String(found.count)),
            ]
            found = slice
        }
        answer[collection] = .array(found.map(JSONValue.object))
        return (200, .object(answer))
    }

    static func sortKey(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .number(let text): String(repeating: "0", count: max(0, 20 - text.count)) + text
        default: value.canonicalString
        }
    }

    func one(tenant: String, collection path: String, id: String) throws(Failure) -> (Int, JSONValue) {
        let collection = try Self.collection(path)
        guard let organisation = organisations[tenant] else { throw Failure.notFound }
        if collection == "Journals" {
            let journal = organisation.journals.first {
                $0["JournalID"]?.stringValue == id || $0["JournalNumber"]?.canonicalString == id
            }
            guard let journal else { throw Failure.notFound }
            return (200, ["Journals": [.object(journal)]])
        }
        let key = XeroOrganisation.idKeys[collection] ?? ""
        let alternates = ["Invoices": "InvoiceNumber", "CreditNotes": "CreditNoteNumber", "Contacts": "ContactNumber"]
        let alternate = alternates[collection]
        let found =
            organisation.record(collection, id)
            ?? organisation.all(collection).first { object in
                object[key]?.stringValue?.lowercased() == id.lowercased()
                    || alternate.map { object[$0]?.stringValue == id } == true
            }
        guard let found else { throw Failure.notFound }
        return (200, [collection: [.object(found)]])
    }

    /// The elements of a write's body: `{"Invoices":[…]}`, or one element on its own.
    static func elements(_ body: ByteBuffer, collection: String) throws(Failure) -> [[String: JSONValue]] {
        guard case .object(let members)? = try? JSONValue(parsing: Array(body.readableBytesView)) else {
            throw Failure.postData("Invalid Json data")
        }
        if let wrapped = members[collection] {
            guard case .array(let values) = wrapped else { throw Failure.postData("Invalid Json data") }
            var elements: [[String: JSONValue]] = []
            for value in values {
                guard case .object(let element) = value else { throw Failure.postData("Invalid Json data") }
                elements.append(element)
            }
            return elements
        }
        return [members]
    }

    /// `PUT /X` (create), `POST /X` (create or update), `POST /X/{id}` (update one): every element handled on a copy
    /// of the organisation. With `summarizeErrors` absent or true, one refused element refuses the request (400
    /// `ValidationException`, nothing saved); with `summarizeErrors=false`, 200 with each element's
    /// `StatusAttributeString` and the good ones saved.
    func write(
        tenant: String, collection path: String, id: String?, create: Bool, body: ByteBuffer, request: Request
    ) throws(Failure) -> (Int, JSONValue) {
        let collection = try Self.collection(path)
        guard var organisation = organisations[tenant] else { throw Failure.notFound }
        let elements = try Self.elements(body, collection: collection)
        let summarize = request.xeroParameter("summarizeErrors")?.lowercased() != "false"
        let unitPlaces = request.xeroParameter("unitdp") == "4" ? 4 : 2
        let mode: XeroOrganisation.Mode = id != nil ? .update : create ? .create : .createOrUpdate
        let time = now
        var answers: [JSONValue] = []
        var failed = false
        for element in elements {
            var attempt = organisation
            do throws(XeroValidation) {
                var saved = try Self.apply(
                    collection, element, id: id, mode: mode, to: &attempt, now: time, unitPlaces: unitPlaces)
                organisation = attempt
                if !["Accounts", "TaxRates"].contains(collection) { saved["StatusAttributeString"] = "OK" }
                answers.append(.object(saved))
            } catch {
                if error.notFound { throw Failure.notFound }
                failed = true
                var echo = element
                // Dates are answered as Xero writes them, even in an echo.
                for key in ["Date", "DueDate"] {
                    if let date = XeroOrganisation.parseDate(echo[key]) {
                        echo[key] = .string(XeroOrganisation.dateJSON(date))
                    }
                }
                echo["ValidationErrors"] = .array(error.messages.map { ["Message": .string($0)] })
                echo["StatusAttributeString"] = "ERROR"
                if ["Invoices", "CreditNotes"].contains(collection) { echo["HasErrors"] = true }
                if ["Contacts", "Payments"].contains(collection) { echo["HasValidationErrors"] = true }
                answers.append(.object(echo))
            }
        }
        if failed, summarize { try Self.refuse(answers) }
        commit(organisation)
        return (200, [collection: .array(answers)])
    }

    static func refuse(_ answers: [JSONValue]) throws(Failure) -> Never {
        throw Failure.validation(
            answers.filter { $0["StatusAttributeString"]?.stringValue == "ERROR" }.map { answer in
                guard case .object(var members) = answer else { return answer }
                members["StatusAttributeString"] = nil
                return .object(members)
            })
    }

    static func apply(
        _ collection: String, _ element: [String: JSONValue], id: String?, mode: XeroOrganisation.Mode,
        to organisation: inout XeroOrganisation, now: Date, unitPlaces: Int
    ) throws(XeroValidation) -> [String: JSONValue] {
        switch collection {
        case "Contacts":
            return try organisation.saveContact(element, id: id, mode: mode, now: now)
        case "Invoices":
            return try organisation.saveInvoice(element, id: id, mode: mode, now: now, unitPlaces: unitPlaces)
        case "CreditNotes":
            return try organisation.saveCreditNote(element, id: id, mode: mode, now: now, unitPlaces: unitPlaces)
        case "Items":
            return try organisation.saveItem(element, id: id, mode: mode, now: now)
        case "Payments":
            if let id { return try organisation.deletePayment(id, element, now: now) }
            return try organisation.createPayment(element, now: now)
        case "Accounts":
            guard mode == .create else { throw XeroValidation("Accounts are created with PUT") }
            return try organisation.createAccount(element, now: now)
        case "TaxRates":
            guard mode != .update else { throw XeroValidation("Tax rates are not changed by the emulator") }
            return try organisation.addTaxRate(element, now: now)
        default:
            throw XeroValidation("\(collection) cannot be written")
        }
    }

    func allocations(tenant: String, creditNoteID: String, body: ByteBuffer, request: Request) throws(Failure) -> (
        Int, JSONValue
    ) {
        guard var organisation = organisations[tenant] else { throw Failure.notFound }
        guard organisation.document(.creditNote, creditNoteID) != nil else { throw Failure.notFound }
        let elements = try Self.elements(body, collection: "Allocations")
        let summarize = request.xeroParameter("summarizeErrors")?.lowercased() != "false"
        var answers: [JSONValue] = []
        var failed = false
        let time = now
        for element in elements {
            var attempt = organisation
            do throws(XeroValidation) {
                let saved = try attempt.allocate(creditNoteID: creditNoteID, element, now: time)
                organisation = attempt
                answers.append(.object(saved))
            } catch {
                failed = true
                var echo = element
                echo["ValidationErrors"] = .array(error.messages.map { ["Message": .string($0)] })
                echo["StatusAttributeString"] = "ERROR"
                answers.append(.object(echo))
            }
        }
        if failed, summarize { try Self.refuse(answers) }
        commit(organisation)
        return (200, ["Allocations": .array(answers)])
    }
}

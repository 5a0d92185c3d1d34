import Connectors
import Foundation

extension TallySandbox {
    /// What Tally answers a body it cannot read, or an envelope it does not know (seen from a real TallyPrime for a
    /// body that is not well-formed XML): no counters, no `STATUS`, no `LINEERROR`.
    static let unknownRequest = "Unknown Request, cannot be processed"

    /// An answer: its bytes in the request's encoding, whether it answers an import (a lost-answer fault applies
    /// only to those), and how many objects that import held.
    struct Answer: Sendable {
        let body: Data
        let encoding: TallyEncoding
        let isImport: Bool
        var objects = 0
    }

    /// Answers one `POST /` body. Never throws: whatever arrives gets one of Tally's answers. The processor time it
    /// takes is added to `answeringCPU`.
    func answer(_ body: Data, contentType: String?) -> Answer {
        let started = ThreadCPU.now()
        defer { answeringCPU += ThreadCPU.now() - started }
        let encoding = TallyEncoding.of(body, contentType: contentType)
        guard let root = try? TallyXML.parse(body, encoding: encoding), let request = TallyRequest(root) else {
            return Answer(
                body: Self.document(.leaf("RESPONSE", Self.unknownRequest), encoding), encoding: encoding,
                isImport: false)
        }
        var objects = 0
        if case .importData(let imported) = request.kind { objects = imported.count }
        return Answer(
            body: Self.document(answer(request), encoding), encoding: encoding, isImport: request.isImport,
            objects: objects)
    }

    func answer(_ request: TallyRequest) -> TallyElement {
        switch request.kind {
        case .importData(let objects):
            return importAnswer(request, objects)
        case .collection(let type, _) where type.lowercased() == "company":
            if request.company != nil, companyIndex(request) == nil {
                return Self.failure("Could not set 'SVCurrentCompany' to '\(request.company ?? "")'", request)
            }
            let list = companies.filter { loaded.contains(TallyCompany.key($0.name)) }.map(\.companyElement)
            return Self.exported([TallyElement("COLLECTION", children: list)])
        case .collection(let type, let filters):
            let formulae: [TallyFormula]
            do throws(TallyFormula.Failure) {
                formulae = try filters.map { filter throws(TallyFormula.Failure) in
                    guard let formula = filter.formula else {
                        throw TallyFormula.Failure(message: "Could not find Formula '\(filter.name)'")
                    }
                    return try TallyFormula(formula)
                }
            } catch {
                return Self.failure(error.message, request)
            }
            return withCompany(request) { company in
                guard let objects = company.collection(type: type, filters: formulae) else {
                    return Self.failure("Unknown collection type '\(type)'", request)
                }
                return Self.exported([TallyElement("COLLECTION", children: objects)])
            }
        case .report(let name):
            return withCompany(request) { company in report(name, request, company) }
        case .unsupported(let message):
            return Self.failure(message, request)
        }
    }

    /// Runs `body` with the company the request names (`SVCURRENTCOMPANY`; the first loaded one when it names none),
    /// or answers Tally's error for a company that is not loaded.
    func withCompany(_ request: TallyRequest, _ body: (TallyCompany) -> TallyElement) -> TallyElement {
        guard let index = companyIndex(request) else {
            return Self.failure("Could not set 'SVCurrentCompany' to '\(request.company ?? "")'", request)
        }
        return body(companies[index])
    }

    func companyIndex(_ request: TallyRequest) -> Int? {
        guard let name = request.company else {
            return companies.firstIndex { loaded.contains(TallyCompany.key($0.name)) }
        }
        guard loaded.contains(TallyCompany.key(name)) else { return nil }
        return index(of: name)
    }

    // MARK: Imports

    func importAnswer(_ request: TallyRequest, _ objects: [TallyElement]) -> TallyElement {
        var result = TallyImportResult()
        if version == .erp9 && !request.legacy {
            // Tally.ERP 9 does not know the versioned Import form.
            result.errors = 1
            result.lineErrors = [Self.unknownRequest]
            return Self.imported(result, legacy: true)
        }
        guard let index = companyIndex(request) else {
            result.errors = 1
            result.lineErrors = ["Could not set 'SVCurrentCompany' to '\(request.company ?? "")'"]
            return Self.imported(result, legacy: request.legacy)
        }
        for object in objects {
            do throws(TallyRefusal) {
                switch object.name {
                case "LEDGER": try companies[index].applyLedger(object, result: &result)
                case "GROUP": try companies[index].applyGroup(object, result: &result)
                case "VOUCHER": try companies[index].applyVoucher(object, result: &result)
                default: throw TallyRefusal("Unknown object '\(object.name)'")
                }
            } catch {
                result.errors += 1
                result.lineErrors.append(error.message)
            }
        }
        return Self.imported(result, legacy: request.legacy)
    }

    /// An import's answer: legacy `<RESPONSE>`, or versioned `ENVELOPE` with `STATUS` and `IMPORTRESULT`.
    static func imported(_ result: TallyImportResult, legacy: Bool) -> TallyElement {
        let lineErrors = result.lineErrors.map { TallyElement.leaf("LINEERROR", $0) }
        if legacy { return TallyElement("RESPONSE", children: lineErrors + result.counters) }
        return TallyElement(
            "ENVELOPE",
            children: [
                Self.header(status: result.errors == 0 ? 1 : 0),
                TallyElement(
                    "BODY",
                    children: [
                        TallyElement(
                            "DATA", children: lineErrors + [TallyElement("IMPORTRESULT", children: result.counters)])
                    ]),
            ])
    }

    // MARK: Reports

    func report(_ name: String, _ request: TallyRequest, _ company: TallyCompany) -> TallyElement {
        switch name.lowercased() {
        case "trial balance":
            let explode = request.variables["EXPLODEFLAG"]?.lowercased() == "yes"
            return TallyElement("ENVELOPE", children: company.trialBalance(explode: explode))
        case "day book":
            var bounds: [Int?] = []
            for variable in ["SVFROMDATE", "SVTODATE"] {
                guard let text = request.variables[variable], !text.isEmpty else {
                    bounds.append(nil)
                    continue
                }
                guard let date = TallyRequest.date(text) else {
                    return Self.failure("Invalid date '\(text)' in \(variable)", request)
                }
                bounds.append(date)
            }
            return Self.importFile(
                report: "Vouchers", company: company.name, objects: company.dayBook(from: bounds[0], to: bounds[1]))
        case "list of accounts":
            return Self.importFile(report: "All Masters", company: company.name, objects: company.masterElements)
        default:
            return Self.failure("Could not find Report '\(name)'", request)
        }
    }

    /// Day Book and List of Accounts export as Tally's import file: one object per `TALLYMESSAGE`.
    static func importFile(report: String, company: String, objects: [TallyElement]) -> TallyElement {
        TallyElement(
            "ENVELOPE",
            children: [
                TallyElement("HEADER", children: [.leaf("TALLYREQUEST", "Import Data")]),
                TallyElement(
                    "BODY",
                    children: [
                        TallyElement(
                            "IMPORTDATA",
                            children: [
                                TallyElement(
                                    "REQUESTDESC",
                                    children: [
                                        .leaf("REPORTNAME", report),
                                        TallyElement("STATICVARIABLES", children: [.leaf("SVCURRENTCOMPANY", company)]),
                                    ]),
                                TallyElement(
                                    "REQUESTDATA",
                                    children: objects.map { object in
                                        TallyElement(
                                            "TALLYMESSAGE", attributes: [.init("xmlns:UDF", "TallyUDF")],
                                            children: [object])
                                    }),
                            ])
                    ]),
            ])
    }

    // MARK: Shapes

    static func header(status: Int) -> TallyElement {
        TallyElement("HEADER", children: [.leaf("VERSION", "1"), .leaf("STATUS", "\(status)")])
    }

    /// A versioned export's answer: `STATUS` 1 and the data.
    static func exported(_ data: [TallyElement]) -> TallyElement {
        TallyElement(
            "ENVELOPE",
            children: [
                header(status: 1),
                TallyElement("BODY", children: [TallyElement("DESC"), TallyElement("DATA", children: data)]),
            ])
    }

    /// A refused request in its dialect's form: a `LINEERROR` (versioned: with `STATUS` 0).
    static func failure(_ message: String, _ request: TallyRequest) -> TallyElement {
        if request.isImport {
            var result = TallyImportResult()
            result.errors = 1
            result.lineErrors = [message]
            return imported(result, legacy: request.legacy)
        }
        if request.legacy { return TallyElement("ENVELOPE", children: [.leaf("LINEERROR", message)]) }
        return TallyElement(
            "ENVELOPE",
            children: [
                header(status: 0),
                TallyElement("BODY", children: [TallyElement("DATA", children: [.leaf("LINEERROR", message)])]),
            ])
    }

    /// The answer's bytes, without an XML declaration (Tally writes none): Tally's `&#4;` written where the
    /// elements carry its stand-in.
    static func document(_ root: TallyElement, _ encoding: TallyEncoding) -> Data {
        var text = ""
        root.write(into: &text)
        return encoding.encode(text.replacingOccurrences(of: "\u{E004}", with: "&#4;"))
    }
}

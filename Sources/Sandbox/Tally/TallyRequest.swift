import Connectors

/// One request to Tally's XML server, read from its `ENVELOPE` in either header dialect (platforms.md §4.2):
/// versioned (`VERSION` 1, `TALLYREQUEST` Export/Import/Execute, `TYPE` Data/Collection/Object/Function, `ID`) or
/// legacy (`TALLYREQUEST` `Import Data`/`Export Data` with `REQUESTDESC/REPORTNAME`).
struct TallyRequest: Sendable {
    enum Kind: Sendable {
        /// `Export` `Collection`: the inline TDL collection's `TYPE` and its `FILTER` formulae, by name.
        case collection(type: String, filters: [(name: String, formula: String?)])
        /// `Export` `Data`, or legacy `Export Data`: a report by name.
        case report(String)
        /// `Import` `Data`, or legacy `Import Data`: the objects of every `TALLYMESSAGE`, in order.
        case importData([TallyElement])
        /// Anything else Tally would not answer with data (`Function`, `Object`, `Execute`): its description.
        case unsupported(String)
    }

    let kind: Kind
    /// The legacy dialect (`Import Data`/`Export Data`), answered in its own forms.
    let legacy: Bool
    /// `STATICVARIABLES`, by upper-cased name.
    let variables: [String: String]

    var company: String? { variables["SVCURRENTCOMPANY"].flatMap { $0.isEmpty ? nil : $0 } }

    var isImport: Bool {
        if case .importData = kind { return true }
        return false
    }

    /// Reads an envelope; `nil` when it is not one Tally understands.
    init?(_ root: TallyElement) {
        guard root.name == "ENVELOPE", let header = root.child("HEADER") else { return nil }
        let body = root.child("BODY")
        let request = (header.value("TALLYREQUEST") ?? "").lowercased()
        if header.value("VERSION") == "1" {
            let desc = body?.child("DESC")
            variables = Self.variables(desc?.child("STATICVARIABLES"))
            legacy = false
            let id = header.value("ID") ?? ""
            let type = (header.value("TYPE") ?? "").lowercased()
            switch (request, type) {
            case ("export", "collection"):
                let collections = desc?.child("TDL")?.child("TDLMESSAGE")?.children("COLLECTION") ?? []
                let collection =
                    collections.first { ($0[attribute: "NAME"] ?? "").lowercased() == id.lowercased() }
                    ?? collections.first
                guard let collection else {
                    kind = .unsupported("Could not find Collection '\(id)'")
                    return
                }
                let formulae = (desc?.child("TDL")?.child("TDLMESSAGE")?.children("SYSTEM") ?? [])
                    .filter { ($0[attribute: "TYPE"] ?? "").lowercased() == "formulae" }
                let names = (collection.children("FILTER") + collection.children("FILTERS")).flatMap { filter in
                    filter.text.split(separator: ",").map { String($0.trimmingWhitespace) }.filter { !$0.isEmpty }
                }
                kind = .collection(
                    type: collection.value("TYPE") ?? "",
                    filters: names.map { name in
                        let formula = formulae.first { ($0[attribute: "NAME"] ?? "").lowercased() == name.lowercased() }
                        return (name, formula.map { String($0.text.trimmingWhitespace) })
                    })
            case ("export", "data"):
                kind = .report(id)
            case ("import", "data"):
                kind = .importData(Self.objects(body?.child("DATA")))
            default:
                kind = .unsupported("Could not find \(header.value("TYPE") ?? "request") '\(id)'")
            }
        } else if request == "import data" {
            let importData = body?.child("IMPORTDATA")
            variables = Self.variables(importData?.child("REQUESTDESC")?.child("STATICVARIABLES"))
            legacy = true
            kind = .importData(Self.objects(importData?.child("REQUESTDATA")))
        } else if request == "export data" {
            let desc = body?.child("EXPORTDATA")?.child("REQUESTDESC")
            variables = Self.variables(desc?.child("STATICVARIABLES"))
            legacy = true
            kind = .report(desc?.value("REPORTNAME") ?? "")
        } else {
            return nil
        }
    }

    static func variables(_ element: TallyElement?) -> [String: String] {
        var variables: [String: String] = [:]
        for child in element?.children ?? [] {
            variables[child.name.uppercased()] = String(child.text.trimmingWhitespace)
        }
        return variables
    }

    static func objects(_ data: TallyElement?) -> [TallyElement] {
        (data?.children("TALLYMESSAGE") ?? []).flatMap(\.children)
    }

    /// A report date: `d-MMM-yyyy` (`1-Apr-2024`, as tally-database-loader sends) or `yyyymmdd`.
    static func date(_ text: String) -> Int? {
        if let date = TallyCompany.date(text) { return date }
        let parts = text.split(separator: "-")
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        guard parts.count == 3, parts[0].count <= 2, parts[2].count == 4, let day = Int(parts[0]),
            let month = months.firstIndex(of: parts[1].lowercased()), let year = Int(parts[2])
        else { return nil }
        return TallyCompany.date(String(year * 10_000 + (month + 1) * 100 + day))
    }
}

import Foundation

/// The request envelopes Ledgerwire sends to Tally's XML server (platforms.md §4.2–4.4).
public enum TallyEnvelope {
    /// An import of `objects` (ledgers, or vouchers) into `company`, in the dialect of `version`: TallyPrime's
    /// versioned `Import`/`Data`, or Tally.ERP 9's legacy `Import Data`.
    public static func importing(
        _ objects: [TallyElement], into company: String, report: ImportReport, version: TallySettings.Version
    ) -> TallyElement {
        let variables = TallyElement("STATICVARIABLES", children: [.leaf("SVCURRENTCOMPANY", company)])
        let message = TallyElement(
            "TALLYMESSAGE", attributes: [.init("xmlns:UDF", "TallyUDF")], children: objects)
        switch version {
        case .prime:
            return TallyElement(
                "ENVELOPE",
                children: [
                    TallyElement(
                        "HEADER",
                        children: [
                            .leaf("VERSION", "1"), .leaf("TALLYREQUEST", "Import"), .leaf("TYPE", "Data"),
                            .leaf("ID", report.rawValue),
                        ]),
                    TallyElement(
                        "BODY",
                        children: [
                            TallyElement("DESC", children: [variables]), TallyElement("DATA", children: [message]),
                        ]),
                ])
        case .erp9:
            return TallyElement(
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
                                        "REQUESTDESC", children: [.leaf("REPORTNAME", report.rawValue), variables]),
                                    TallyElement("REQUESTDATA", children: [message]),
                                ])
                        ]),
                ])
        }
    }

    /// What an import holds: Tally's report name for it.
    public enum ImportReport: String, Sendable {
        case masters = "All Masters"
        case vouchers = "Vouchers"
    }

    /// The objects of one type (`Company`, `Group`, `Ledger`, `Voucher`) for which every formula in `filters` holds,
    /// as a collection exported with inline TDL. `company` is the company to read (`nil` for the list of companies,
    /// which every loaded company answers).
    public static func collection(
        of type: String, company: String?, filters: [String] = [], fetch: String = "*"
    ) -> TallyElement {
        let name = "Ledgerwire " + (type.hasSuffix("y") ? type.dropLast() + "ies" : type + "s")
        var variables = TallyElement("STATICVARIABLES")
        if let company { variables.children.append(.leaf("SVCURRENTCOMPANY", company)) }
        variables.children.append(.leaf("SVEXPORTFORMAT", "$$SysName:XML"))
        var collection = TallyElement(
            "COLLECTION", attributes: [.init("NAME", name)], children: [.leaf("TYPE", type), .leaf("FETCH", fetch)])
        var formulae: [TallyElement] = []
        if !filters.isEmpty {
            let names = filters.indices.map { "LedgerwireFilter\($0 + 1)" }
            collection.children.append(.leaf("FILTER", names.joined(separator: ",")))
            for (formula, filterName) in zip(filters, names) {
                formulae.append(
                    TallyElement(
                        "SYSTEM", attributes: [.init("TYPE", "Formulae"), .init("NAME", filterName)], text: formula))
            }
        }
        return TallyElement(
            "ENVELOPE",
            children: [
                TallyElement(
                    "HEADER",
                    children: [
                        .leaf("VERSION", "1"), .leaf("TALLYREQUEST", "Export"), .leaf("TYPE", "Collection"),
                        .leaf("ID", name),
                    ]),
                TallyElement(
                    "BODY",
                    children: [
                        TallyElement(
                            "DESC",
                            children: [
                                variables,
                                TallyElement(
                                    "TDL", children: [TallyElement("TDLMESSAGE", children: [collection] + formulae)]),
                            ])
                    ]),
            ])
    }

    /// A TDL string literal: `text` in double quotes (a quote in it doubled, as TDL escapes one).
    public static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

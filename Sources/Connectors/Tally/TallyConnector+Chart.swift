import Accounting
import Foundation

extension TallyConnector {
    /// The company's ledgers by their primary group: income ledgers (Sales Accounts, Direct and Indirect Incomes) for
    /// revenue accounts, bank and cash ledgers for deposit accounts, and the GST ledgers under Duties & Taxes — each one
    /// alone, and each rate's set (`{cgst, sgst, igst}`) as one tax-code choice named by its rate. Mappings hold ledger
    /// names, so each entry's id is the name.
    public func remoteChart(context: ConnectorContext) async throws -> RemoteChart {
        let session = try session(context)
        let groupElements = try await session.client.collection(
            TallyEnvelope.collection(of: "Group", company: session.settings.company))
        var parents: [String: String] = [:]
        for group in groupElements {
            guard let name = group[attribute: "NAME"] ?? group.child("NAME.LIST")?.value("NAME") else { continue }
            parents[name.lowercased()] = TallyDirectory.Ledger.clean(group.value("PARENT") ?? "")
        }
        /// The first of Tally's reserved groups that `group` is, or is under (Bank Accounts sits under Current Assets,
        /// Duties & Taxes under Current Liabilities).
        func kind(of group: String) -> String {
            var current = group
            var seen: Set<String> = []
            while seen.insert(current.lowercased()).inserted {
                if Self.groupKinds.contains(current.lowercased()) { return current }
                guard let parent = parents[current.lowercased()], !parent.isEmpty,
                    parent.caseInsensitiveCompare("Primary") != .orderedSame
                else { break }
                current = parent
            }
            return group
        }
        try await session.refreshLedgers()
        var accounts: [RemoteChart.Entry] = []
        var taxes: [(entry: RemoteChart.Entry, head: String, rate: Decimal?)] = []
        for ledger in await session.directory.ledgers.values.sorted(by: { $0.name < $1.name }) {
            let group = kind(of: ledger.parent)
            switch group.lowercased() {
            case "sales accounts", "direct incomes", "indirect incomes":
                accounts.append(
                    RemoteChart.Entry(
                        id: ledger.name, name: ledger.name, code: nil, active: true, type: group,
                        classification: ledger.parent, uses: [.account]))
            case "bank accounts", "cash-in-hand", "bank od a/c":
                accounts.append(
                    RemoteChart.Entry(
                        id: ledger.name, name: ledger.name, code: nil, active: true, type: group,
                        classification: ledger.parent, uses: [.depositAccount]))
            case "duties & taxes":
                let head = ledger.element.value("GSTDUTYHEAD") ?? Self.dutyHead(ledger.name)
                let rate =
                    ledger.element.value("RATEOFTAXCALCULATION").flatMap { Decimal(string: $0) }
                    ?? Self.rate(in: ledger.name)
                taxes.append(
                    (
                        RemoteChart.Entry(
                            id: ledger.name, name: ledger.name, code: nil, active: true, type: head,
                            classification: group, subType: rate.map { "\($0)%" }, uses: [.taxCode]), head, rate
                    ))
            default:
                continue
            }
        }
        return RemoteChart(
            accounts: accounts, taxCodes: Self.rateSets(taxes) + taxes.map(\.entry), items: [],
            books: "Tally company")
    }

    /// The groups whose ledgers a mapping can name.
    static let groupKinds: Set<String> = [
        "sales accounts", "direct incomes", "indirect incomes", "bank accounts", "cash-in-hand", "bank od a/c",
        "duties & taxes",
    ]

    /// For each integrated-tax ledger of rate R with central and state ledgers of R/2: one choice of the three.
    private static func rateSets(_ taxes: [(entry: RemoteChart.Entry, head: String, rate: Decimal?)])
        -> [RemoteChart.Entry]
    {
        var sets: [RemoteChart.Entry] = []
        for integrated in taxes where integrated.head == "Integrated Tax" {
            guard let rate = integrated.rate, rate > 0 else { continue }
            let half = rate / 2
            guard let central = taxes.first(where: { $0.head == "Central Tax" && $0.rate == half }),
                let state = taxes.first(where: { $0.head == "State Tax" && $0.rate == half })
            else { continue }
            let ledgers = TallyTaxLedgers(cgst: central.entry.id, sgst: state.entry.id, igst: integrated.entry.id)
            sets.append(
                RemoteChart.Entry(
                    id: ledgers.json.canonicalString, name: "GST \(rate)%", code: nil, active: true, type: "GST",
                    classification: "Duties & Taxes", subType: "\(rate)%", uses: [.taxCode]))
        }
        return sets
    }

    /// A GST ledger's duty head from its name, when Tally does not say: `Output CGST 9%` is central tax.
    static func dutyHead(_ name: String) -> String {
        let upper = name.uppercased()
        if upper.contains("IGST") { return "Integrated Tax" }
        if upper.contains("CGST") { return "Central Tax" }
        if upper.contains("SGST") || upper.contains("UTGST") { return "State Tax" }
        return "Other"
    }

    /// The rate a ledger's name states (`Output CGST 9%` → 9).
    static func rate(in name: String) -> Decimal? {
        guard let percent = name.firstIndex(of: "%") else { return nil }
        let digits = name[..<percent].reversed().prefix { $0.isNumber || $0 == "." }
        return Decimal(string: String(digits.reversed()))
    }
}

public import Accounting

extension RemoteChart {
    /// The list a mapping of `kind` picks from: the accounts for revenue and deposit accounts, else the tax codes or
    /// the items; for a platform's own kind, every entry the platform says it can be (`Entry.uses`).
    public func entries(for kind: CodeMappings.Kind) -> [Entry] {
        switch kind {
        case .account, .depositAccount: accounts
        case .taxCode: taxCodes
        case .item: items
        default: (accounts + taxCodes + items).filter { $0.uses.contains(kind) }
        }
    }

    /// The entries a mapping of `kind` may name: active, and of that kind (`Entry.uses`).
    public func choices(for kind: CodeMappings.Kind) -> [Entry] {
        entries(for: kind).filter { $0.active && $0.uses.contains(kind) }
    }

    /// Why the platform's `id` cannot be the target of a `kind` mapping, in words a person can act on ("999 is not
    /// a tax code in this QuickBooks company", "account 7 ("Salaries") is an Expense account, not an income
    /// account"); `nil` when it can.
    public func problem(mapping kind: CodeMappings.Kind, to id: String) -> String? {
        if kind == .taxCode, id.hasPrefix("{"), !entries(for: kind).contains(where: { $0.id == id }) {
            // Several ledgers for one tax code (Tally): each must be a tax ledger.
            guard let ledgers = TallyTaxLedgers(mapping: id) else {
                return "\(id) is not an object of cgst, sgst and igst ledger names"
            }
            return ledgers.ledgers.lazy.compactMap { problem(mapping: kind, to: $0) }.first
        }
        guard let entry = entries(for: kind).first(where: { $0.id == id }) else {
            var text = "\(id) is not \(Self.article(Self.noun(kind))) \(Self.noun(kind)) in this \(books)"
            if let other = elsewhere(id, not: kind) { text += " (it is \(other))" }
            return text
        }
        let named = "\(Self.noun(kind)) \(id) (\"\(entry.name)\")"
        guard entry.active else { return "\(named) is inactive in this \(books)" }
        guard entry.uses.contains(kind) else {
            let what = entry.type.map { "\(Self.article($0)) \($0) \(Self.noun(kind))" } ?? "of another kind"
            return "\(named) is \(what), not \(Self.expected(kind))"
        }
        return nil
    }

    /// What `id` is in the chart's other lists, when it is there: the likely mix-up.
    private func elsewhere(_ id: String, not kind: CodeMappings.Kind) -> String? {
        for other in [CodeMappings.Kind.account, .taxCode, .item] where Self.noun(other) != Self.noun(kind) {
            if let entry = entries(for: other).first(where: { $0.id == id }) {
                return "the \(Self.noun(other)) \"\(entry.name)\""
            }
        }
        return nil
    }

    private static func noun(_ kind: CodeMappings.Kind) -> String {
        switch kind {
        case .account, .depositAccount: "account"
        case .taxCode: "tax code"
        case .item: "item"
        default: String(kind.rawValue.map { $0 == "_" ? " " : $0 })
        }
    }

    private static func expected(_ kind: CodeMappings.Kind) -> String {
        switch kind {
        case .account: "an income account"
        case .depositAccount: "a bank or other current asset account (where payments are deposited)"
        case .taxCode: "a tax code"
        case .item: "a service or non-inventory item"
        default: "\(article(noun(kind))) \(noun(kind))"
        }
    }

    private static func article(_ word: String) -> String {
        word.first.map { "aeiouAEIOU".contains($0) } == true ? "an" : "a"
    }
}

public import Accounting

/// The GST ledgers one of billing's tax codes posts to (`tax_codes{code: {cgst, sgst, igst}}`): central and state tax
/// for a supply within the school's state, integrated tax for one to another state. A mapping to one ledger name posts
/// every supply there; `{}` is a tax code of no tax.
///
/// Stored as the mapping's platform id: a ledger name as it is, the object as its canonical JSON text.
public struct TallyTaxLedgers: Sendable, Hashable {
    public var cgst: String?
    public var sgst: String?
    public var igst: String?

    public init(cgst: String? = nil, sgst: String? = nil, igst: String? = nil) {
        self.cgst = cgst
        self.sgst = sgst
        self.igst = igst
    }

    /// Reads a mapping's stored value: `{"cgst": …, "sgst": …, "igst": …}`, `{}`, or one ledger name.
    public init?(mapping value: String) {
        guard value.hasPrefix("{") else {
            guard !value.isEmpty else { return nil }
            self.init(cgst: value, sgst: value, igst: value)
            return
        }
        guard case .object(let members) = try? JSONValue(parsing: Array(value.utf8)),
            Set(members.keys).isSubset(of: ["cgst", "sgst", "igst"])
        else { return nil }
        var ledgers = TallyTaxLedgers()
        for (key, member) in members {
            guard let name = member.stringValue, !name.isEmpty else { return nil }
            switch key {
            case "cgst": ledgers.cgst = name
            case "sgst": ledgers.sgst = name
            default: ledgers.igst = name
            }
        }
        self = ledgers
    }

    /// The JSON object a mapping is given in, as stored.
    public var json: JSONValue {
        .object(
            ["cgst": cgst, "sgst": sgst, "igst": igst].compactMapValues { $0 }.mapValues(JSONValue.string))
    }

    /// The ledger names it names, each once.
    public var ledgers: [String] {
        var names: [String] = []
        for name in [cgst, sgst, igst].compactMap(\.self) where !names.contains(name) { names.append(name) }
        return names
    }
}

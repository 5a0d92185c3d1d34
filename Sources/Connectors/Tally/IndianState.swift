import Foundation

/// A state or union territory of India as GST knows it: its name, its ISO 3166-2:IN code and its two-digit GST state
/// code. A state is written many ways (`Karnataka`, `KA`, `IN-KA`, `29`); they all name the same place of supply.
public struct IndianState: Sendable, Hashable {
    public var name: String
    /// The ISO 3166-2:IN subdivision code without the country (`KA`).
    public var isoCode: String
    /// The GST state code (`29`), the first two digits of a GSTIN registered there.
    public var gstCode: String
    /// Other names and codes in use (`Orissa`, `OR`, `Pondicherry`, …).
    var aliases: [String]

    init(_ name: String, _ isoCode: String, _ gstCode: String, aliases: [String] = []) {
        self.name = name
        self.isoCode = isoCode
        self.gstCode = gstCode
        self.aliases = aliases
    }

    /// The state `text` names by name, ISO code (with or without `IN-`) or GST code, or `nil`.
    public init?(_ text: String) {
        let key = Self.key(text)
        guard !key.isEmpty, let state = Self.byKey[key] else { return nil }
        self = state
    }

    /// Whether `left` and `right` name the same state; two texts that name no known state compare as written
    /// (case and spacing aside).
    public static func same(_ left: String, _ right: String) -> Bool {
        if let one = IndianState(left), let other = IndianState(right) { return one == other }
        return key(left) == key(right)
    }

    /// Lower case letters and digits only, `&` read as `and`, an `IN-` prefix dropped.
    static func key(_ text: String) -> String {
        var text = text.lowercased().replacingOccurrences(of: "&", with: "and")
        if text.hasPrefix("in-") { text.removeFirst(3) }
        return String(
            text.unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }.map(Character.init))
    }

    private static let byKey: [String: IndianState] = {
        var keys: [String: IndianState] = [:]
        for state in all {
            for text in [state.name, state.isoCode, state.gstCode] + state.aliases {
                keys[key(text)] = state
            }
        }
        return keys
    }()

    /// Every state and union territory with a GST state code.
    public static let all: [IndianState] = [
        IndianState("Jammu and Kashmir", "JK", "01"),
        IndianState("Himachal Pradesh", "HP", "02"),
        IndianState("Punjab", "PB", "03"),
        IndianState("Chandigarh", "CH", "04"),
        IndianState("Uttarakhand", "UK", "05", aliases: ["UT", "Uttaranchal", "UL"]),
        IndianState("Haryana", "HR", "06"),
        IndianState("Delhi", "DL", "07", aliases: ["NCT of Delhi", "New Delhi"]),
        IndianState("Rajasthan", "RJ", "08"),
        IndianState("Uttar Pradesh", "UP", "09"),
        IndianState("Bihar", "BR", "10"),
        IndianState("Sikkim", "SK", "11"),
        IndianState("Arunachal Pradesh", "AR", "12"),
        IndianState("Nagaland", "NL", "13"),
        IndianState("Manipur", "MN", "14"),
        IndianState("Mizoram", "MZ", "15"),
        IndianState("Tripura", "TR", "16"),
        IndianState("Meghalaya", "ML", "17"),
        IndianState("Assam", "AS", "18"),
        IndianState("West Bengal", "WB", "19"),
        IndianState("Jharkhand", "JH", "20"),
        IndianState("Odisha", "OD", "21", aliases: ["Orissa", "OR"]),
        IndianState("Chhattisgarh", "CG", "22", aliases: ["CT"]),
        IndianState("Madhya Pradesh", "MP", "23"),
        IndianState("Gujarat", "GJ", "24"),
        IndianState(
            "Dadra and Nagar Haveli and Daman and Diu", "DH", "26",
            aliases: ["DN", "DD", "25", "Daman and Diu", "Dadra and Nagar Haveli"]),
        IndianState("Maharashtra", "MH", "27"),
        IndianState("Karnataka", "KA", "29"),
        IndianState("Goa", "GA", "30"),
        IndianState("Lakshadweep", "LD", "31"),
        IndianState("Kerala", "KL", "32"),
        IndianState("Tamil Nadu", "TN", "33"),
        IndianState("Puducherry", "PY", "34", aliases: ["Pondicherry"]),
        IndianState("Andaman and Nicobar Islands", "AN", "35"),
        IndianState("Telangana", "TS", "36", aliases: ["TG"]),
        IndianState("Andhra Pradesh", "AP", "37", aliases: ["AD", "28"]),
        IndianState("Ladakh", "LA", "38"),
    ]
}

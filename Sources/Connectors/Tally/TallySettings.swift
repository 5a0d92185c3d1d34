public import Accounting
public import Foundation

/// An integration's Tally settings (`settings` of a `tally` integration, API.md "Platforms").
public struct TallySettings: Sendable, Hashable {
    /// Which Tally: TallyPrime takes the versioned import envelope, Tally.ERP 9 the legacy `Import Data` one.
    public enum Version: String, Sendable, Hashable, CaseIterable {
        case prime
        case erp9

        /// As a person calls it.
        public var productName: String {
            switch self {
            case .prime: "TallyPrime"
            case .erp9: "Tally.ERP 9"
            }
        }
    }

    /// How requests reach Tally: straight to `url`, or through the `tally-agent` beside it, which connects out to
    /// Ledgerwire (`AgentRelay`).
    public enum Connection: String, Sendable, Hashable, CaseIterable {
        case direct
        case agent
    }

    /// Tally's XML server, `http://127.0.0.1:9000` by default.
    public var url: URL
    /// The company's name as loaded in Tally.
    public var company: String
    public var version: Version
    public var encoding: TallyEncoding
    public var connection: Connection
    /// The company's GST state: a customer billed elsewhere is an inter-state supply (IGST).
    public var state: String?
    public var gstin: String?
    /// The ledger that takes the paisa an odd CGST/SGST split leaves over.
    public var roundOffLedger: String
    /// Where billing's instants (`received_at`, `refunded_at`) become voucher dates.
    public var timeZone: TimeZone

    public static let defaultURL = URL(string: "http://127.0.0.1:9000")!

    /// Reads `settings`; a wrong value is a `ConnectorError.validation` naming the setting.
    public init(_ settings: JSONValue) throws(ConnectorError) {
        func text(_ key: String) -> String? {
            settings[key]?.stringValue.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }
        if let raw = text("url") {
            guard let url = URL(string: raw), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ConnectorError.validation(
                    code: "tally_settings", message: "settings.url must be Tally's address, like http://127.0.0.1:9000")
            }
            self.url = url
        } else {
            url = Self.defaultURL
        }
        guard let company = text("company") else {
            throw ConnectorError.validation(
                code: "tally_settings", message: "settings.company must name the company as it is loaded in Tally")
        }
        self.company = company
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, default value: T) throws(ConnectorError) -> T
        where T.RawValue == String {
            guard let raw = text(key) else { return value }
            guard let chosen = T(rawValue: raw.lowercased()) else {
                let allowed = T.allCases.map(\.rawValue).joined(separator: " or ")
                throw ConnectorError.validation(code: "tally_settings", message: "settings.\(key) must be \(allowed)")
            }
            return chosen
        }
        version = try choice("version", default: Version.prime)
        encoding = try choice("encoding", default: TallyEncoding.utf8)
        connection = try choice("connection", default: Connection.direct)
        state = text("state")
        gstin = text("gstin")
        roundOffLedger = text("round_off_ledger") ?? "Round Off"
        if let zone = text("time_zone") {
            guard let timeZone = TimeZone(identifier: zone) else {
                throw ConnectorError.validation(
                    code: "tally_settings", message: "settings.time_zone must be a time zone like Asia/Kolkata")
            }
            self.timeZone = timeZone
        } else {
            timeZone = TimeZone(identifier: "Asia/Kolkata") ?? .gmt
        }
    }

    /// Where requests go: Tally's address, or the integration's agent (`AgentRelay`).
    public func endpoint(integrationID: String) -> URL {
        switch connection {
        case .direct: url
        case .agent: URL(string: "agent://\(integrationID)/") ?? url
        }
    }

    /// Where the company is, in words: the address, or the agent.
    public var whereabouts: String {
        switch connection {
        case .direct: "Tally at \(url.absoluteString)"
        case .agent: "the Tally agent"
        }
    }

    /// Tally's date (`yyyymmdd`) of an instant, in the school's time zone.
    public func date(of instant: Timestamp) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let date = Date(timeIntervalSince1970: Double(instant.microsecondsSinceEpoch) / 1_000_000)
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return TallyDate.text(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
    }
}

/// Tally's dates: `yyyymmdd`.
public enum TallyDate {
    public static func text(_ date: LocalDate) -> String {
        String(date.description.filter { $0 != "-" })
    }

    static func text(year: Int, month: Int, day: Int) -> String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2)
    }

    /// `2026-04-01` for `20260401`, or `nil` when it is not a date.
    public static func iso(_ text: String) -> String? {
        let digits = text.trimmingCharacters(in: .whitespaces)
        guard digits.count == 8, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        let iso = "\(digits.prefix(4))-\(digits.dropFirst(4).prefix(2))-\(digits.suffix(2))"
        return LocalDate(parsing: iso) == nil ? nil : iso
    }
}

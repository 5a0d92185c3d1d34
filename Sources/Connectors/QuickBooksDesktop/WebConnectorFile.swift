import Crypto
public import Foundation

/// The `.qwc` file a person loads into the QuickBooks Web Connector (platforms.md §3.3): which server to poll, as
/// whom, and how often. The password is not in it; the person types it into the Web Connector.
public struct WebConnectorFile: Sendable, Hashable {
    /// Why a file could not be written, naming the setting to fix.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public let field: String
        public let message: String

        public var description: String { "\(field) \(message)" }
    }

    /// Unique among the Web Connector's applications: one line per integration there.
    public let appName: String
    /// `/qbwc`: https, or plain http to this machine only (the Web Connector refuses anything else).
    public let appURL: URL
    /// A page about the application; the Web Connector requires it to be reachable, on the same host as `appURL`.
    public let supportURL: URL
    public let userName: String
    /// Identifies the application in the company file.
    public let ownerID: UUID
    /// Identifies the company file the application works with.
    public let fileID: UUID
    /// How often the Web Connector runs, in minutes.
    public let runEveryMinutes: Int
    public let appDescription: String

    /// The most minutes between runs a `.qwc` takes here: a day.
    public static let maximumRunEveryMinutes = 1_440

    public init(
        appName: String, appURL: URL, supportURL: URL, userName: String, ownerID: UUID, fileID: UUID,
        runEveryMinutes: Int, appDescription: String = ""
    ) throws(Refusal) {
        try Self.checkServed(appURL, field: "app_url")
        try Self.checkServed(supportURL, field: "support_url")
        guard supportURL.host?.lowercased() == appURL.host?.lowercased() else {
            throw Refusal(field: "support_url", message: "must be on the same host as app_url")
        }
        let name = appName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw Refusal(field: "name", message: "must not be empty") }
        let user = userName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !user.isEmpty else { throw Refusal(field: "username", message: "must not be empty") }
        guard (1...Self.maximumRunEveryMinutes).contains(runEveryMinutes) else {
            throw Refusal(
                field: "run_every_minutes", message: "must be a whole number from 1 to \(Self.maximumRunEveryMinutes)")
        }
        self.appName = name
        self.appURL = appURL
        self.supportURL = supportURL
        self.userName = user
        self.ownerID = ownerID
        self.fileID = fileID
        self.runEveryMinutes = runEveryMinutes
        self.appDescription = appDescription
    }

    /// The Web Connector polls only `https`, or `http` on this machine.
    private static func checkServed(_ url: URL, field: String) throws(Refusal) {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), !host.isEmpty else {
            throw Refusal(field: field, message: "must be an absolute https URL")
        }
        let local = host == "localhost" || host == "127.0.0.1" || host == "::1" || host == "[::1]"
        guard scheme == "https" || (scheme == "http" && local) else {
            throw Refusal(
                field: field, message: "must use https (the Web Connector takes plain http for localhost only)")
        }
    }

    /// A GUID derived from `seed`, the same every time: a `.qwc` downloaded again is the same application and company.
    public static func guid(from seed: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data(seed.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50  // version 5 (name-based)
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// The file's XML, in the order of the Web Connector's own samples; GUIDs in braces, upper case.
    public var xml: String {
        func element(_ name: String, _ value: String) -> String {
            var text = "<\(name)>"
            XMLText.escape(value, into: &text, quotes: false)
            return text + "</\(name)>\n"
        }
        return "<?xml version=\"1.0\"?>\n<QBWCXML>\n"
            + element("AppName", appName)
            + "<AppID></AppID>\n"
            + element("AppURL", appURL.absoluteString)
            + element("AppDescription", appDescription)
            + element("AppSupport", supportURL.absoluteString)
            + element("UserName", userName)
            + element("OwnerID", "{\(ownerID.uuidString)}")
            + element("FileID", "{\(fileID.uuidString)}")
            + "<QBType>QBFS</QBType>\n"
            + "<Scheduler>\n" + element("RunEveryNMinutes", String(runEveryMinutes)) + "</Scheduler>\n"
            + "<IsReadOnly>false</IsReadOnly>\n</QBWCXML>\n"
    }
}

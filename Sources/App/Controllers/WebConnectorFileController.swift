import Accounting
import Connectors
import Foundation
import Hummingbird
import NIOCore
import Persistence

/// A QuickBooks Desktop integration's settings as the Web Connector needs them (API.md "Platforms (v1.1)").
enum WebConnectorSettings {
    /// The shortest and longest password the Web Connector is given.
    static let passwordLengths = 12...128

    /// The problems with QuickBooks Desktop `settings`, each naming its field.
    static func problems(with settings: [String: JSONValue]) -> [FieldError] {
        var problems: [FieldError] = []
        if let value = settings["password"], value != .null {
            if let password = value.stringValue, passwordLengths.contains(password.count) {
            } else {
                problems.append(
                    FieldError(
                        field: "settings.password",
                        message: "must be text of \(passwordLengths.lowerBound) to \(passwordLengths.upperBound) "
                            + "characters (leave it out and Ledgerwire makes one)"))
            }
        }
        if let value = settings["username"], value != .null {
            let name = value.stringValue?.trimmingCharacters(in: .whitespaces) ?? ""
            if name.isEmpty || name.utf8.count > 256 {
                problems.append(FieldError(field: "settings.username", message: "must be text of 1 to 256 bytes"))
            }
        }
        if let value = settings["run_every_minutes"], value != .null {
            let limit = WebConnectorFile.maximumRunEveryMinutes
            if !(value.intValue.map { (1...limit).contains($0) } ?? false) {
                problems.append(
                    FieldError(
                        field: "settings.run_every_minutes", message: "must be a whole number from 1 to \(limit)"))
            }
        }
        if let value = settings["app_url"], value != .null {
            if let text = value.stringValue, let url = URL(string: text), servedURLProblem(url) == nil {
            } else {
                problems.append(
                    FieldError(
                        field: "settings.app_url",
                        message: "must be this server's https address ending in /qbwc (plain http for localhost only)"))
            }
        }
        for key in ["sales_tax_item"] {
            if let value = settings[key], value != .null, value.stringValue?.isEmpty ?? true {
                problems.append(FieldError(field: "settings.\(key)", message: "must be a QuickBooks ListID"))
            }
        }
        return problems
    }

    /// Why the Web Connector would not poll `url`, or `nil`.
    static func servedURLProblem(_ url: URL) -> String? {
        do {
            _ = try WebConnectorFile(
                appName: "check", appURL: url, supportURL: url, userName: "check", ownerID: UUID(), fileID: UUID(),
                runEveryMinutes: 5)
            return nil
        } catch {
            return error.message
        }
    }

    /// A password for the Web Connector: 24 letters and digits (about 140 bits), none that read alike.
    static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

/// `GET /api/v1/integrations/{id}/qwc`: the `.qwc` file a school's QuickBooks Web Connector loads ("Add an
/// application"), pointing it at this server's `/qbwc` for the integration's company. The same file on every download
/// (its GUIDs come from the integration's id); no password in it: the Web Connector asks for it once.
struct WebConnectorFileController {
    let database: AppDatabase

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/integrations/{id}/qwc", use: download)
        return routes
    }

    @Sendable func download(request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.require(.financeManager)
        let integration = try await database.integration(from: context, role: .financeManager)
        let file = try Self.file(for: integration, host: request.head.authority)
        return Self.response(file, integration: integration)
    }

    /// The integration's `.qwc`, its address `settings.app_url` or else this server's as the request reached it.
    /// - Throws: a 409 for another platform, a 422 when the address is not one the Web Connector polls.
    static func file(for integration: Integration, host: String?) throws -> WebConnectorFile {
        guard integration.platform == .quickBooksDesktop else {
            throw Problem(
                status: .conflict, title: "Conflict",
                detail:
                    "a .qwc file is for QuickBooks Desktop integrations; this one is \(integration.platform.rawValue)")
        }
        let settings = integration.settings
        let appURL: URL
        if let text = settings["app_url"]?.stringValue, let url = URL(string: text) {
            appURL = url
        } else {
            let host = host ?? "localhost"
            let local = host.hasPrefix("localhost") || host.hasPrefix("127.0.0.1") || host.hasPrefix("[::1]")
            guard let url = URL(string: "\(local ? "http" : "https")://\(host)/qbwc") else {
                throw Problem.invalid([FieldError(field: "settings.app_url", message: "set this server's address")])
            }
            appURL = url
        }
        var support = URLComponents(url: appURL, resolvingAgainstBaseURL: false)
        support?.path = "/"
        support?.query = nil
        do {
            return try WebConnectorFile(
                appName: "Ledgerwire: \(integration.name)", appURL: appURL, supportURL: support?.url ?? appURL,
                userName: settings["username"]?.stringValue ?? integration.name,
                ownerID: WebConnectorFile.guid(from: "owner:\(integration.id)"),
                fileID: WebConnectorFile.guid(from: "file:\(integration.id)"),
                runEveryMinutes: settings["run_every_minutes"]?.intValue ?? 5,
                appDescription: "Keeps \(integration.name)'s QuickBooks in step with Cognify billing")
        } catch {
            throw Problem.invalid([FieldError(field: "settings.\(error.field)", message: error.message)])
        }
    }

    static func response(_ file: WebConnectorFile, integration: Integration) -> Response {
        let name = integration.name.filter { $0.isLetter || $0.isNumber || $0 == "-" }.prefix(40)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/xml; charset=utf-8",
                .contentDisposition:
                    "attachment; filename=\"ledgerwire-\(name.isEmpty ? "quickbooks" : String(name)).qwc\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: file.xml)))
    }
}

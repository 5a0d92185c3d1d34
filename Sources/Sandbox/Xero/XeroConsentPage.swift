import HTTPTypes
import Hummingbird
import NIOCore

/// The emulator's stand-in for Xero's consent page: the app's name, what it asks for, the organisations the person
/// may connect (a checkbox each, so one consent grants one or several), and Allow access or Cancel. Self-contained
/// (no script, no external resource), a label on every control, every value escaped.
struct XeroConsentPage {
    let request: XeroSandbox.AuthorizeRequest
    let organisations: [(tenantID: String, name: String)]

    static let scopeDescriptions: [String: String] = [
        "offline_access": "Keep access to your data when you are not using the app",
        "accounting.transactions": "View and manage your business transactions",
        "accounting.transactions.read": "View your business transactions",
        "accounting.contacts": "View and manage your contacts", "accounting.contacts.read": "View your contacts",
        "accounting.settings": "View and manage your organisation settings",
        "accounting.settings.read": "View your organisation settings",
        "accounting.journals.read": "View your general ledger", "accounting.reports.read": "View your reports",
        "openid": "Know who you are in Xero", "profile": "See your name", "email": "See your email address",
    ]

    var html: String {
        let app = QuickBooksConsentPage.escape(request.appName)
        var hidden: [(String, String)] = [
            ("client_id", request.clientID), ("redirect_uri", request.redirectURI),
            ("scope", request.scopes.joined(separator: " ")), ("response_type", "code"),
        ]
        if let state = request.state { hidden.append(("state", state)) }
        let hiddenFields = hidden.map { name, value in
            #"<input type="hidden" name="\#(name)" value="\#(QuickBooksConsentPage.escape(value))">"#
        }
        let boxes = organisations.enumerated().map { index, organisation in
            let id = "tenant-\(index)"
            let checked = index == 0 ? " checked" : ""
            return
                #"<li><input type="checkbox" id="\#(id)" name="tenant" value="\#(QuickBooksConsentPage.escape(organisation.tenantID))"\#(checked)> <label for="\#(id)">\#(QuickBooksConsentPage.escape(organisation.name))</label></li>"#
        }
        let scopes = request.scopes.map {
            "<li>\(QuickBooksConsentPage.escape(Self.scopeDescriptions[$0] ?? $0))</li>"
        }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(app) wants to access your Xero data</title>
            <style>\(QuickBooksConsentPage.style)\(Self.style)</style>
            </head>
            <body>
            <main>
            <p class="brand">Xero sandbox</p>
            <h1><span id="app-name">\(app)</span> wants to access your Xero data</h1>
            <ul id="scopes">\(scopes.joined())</ul>
            <form method="post" action="/identity/connect/authorize">
            \(hiddenFields.joined(separator: "\n"))
            <fieldset><legend>Organisations to connect</legend>
            <ul id="organisations">\(boxes.joined())</ul>
            </fieldset>
            <div class="actions">
            <button type="submit" id="connect" name="decision" value="allow">Allow access</button>
            <button type="submit" id="cancel" name="decision" value="cancel">Cancel</button>
            </div>
            </form>
            </main>
            </body>
            </html>

            """
    }

    /// Each organisation's box beside its name, the list unmarked (QuickBooks' labels stand above their control).
    static let style =
        "#organisations{list-style:none;padding-left:0}#organisations label{display:inline;margin:0 0 0 .35rem}"
        + "#organisations li{margin:.5rem 0}"

    var response: Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                .xContentTypeOptions: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}

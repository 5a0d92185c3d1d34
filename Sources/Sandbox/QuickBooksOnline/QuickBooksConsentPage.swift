import HTTPTypes
import Hummingbird
import NIOCore

/// The emulator's stand-in for Intuit's consent page: the app's name, what it asks for in plain words, the company
/// to connect (a choice when the person has several), and Connect or Cancel. Self-contained (no script, no external
/// resource), a label on every control, every value escaped; it works at a phone's width.
struct QuickBooksConsentPage {
    let appName: String
    let request: QuickBooksOnlineSandbox.AuthorizeRequest
    /// The realm ids the person may connect, in the order offered.
    let companies: [String]
    /// The one selected at first.
    let chosen: String

    /// What each scope lets the app do, as a person reads it.
    static let scopeDescriptions: [String: String] = [
        "com.intuit.quickbooks.accounting":
            "Read and change your company's accounting data: customers, invoices, payments, accounts and taxes",
        "com.intuit.quickbooks.payment": "Process payments with QuickBooks Payments",
        "openid": "Know who you are with your Intuit account",
        "profile": "See your name",
        "email": "See your email address",
        "phone": "See your phone number",
        "address": "See your address",
    ]

    /// A company's name, as `CompanyInfo` gives it.
    static func companyName(_ realmID: String) -> String { "Sandbox Company \(realmID)" }

    var html: String {
        let app = Self.escape(appName)
        var hidden: [(String, String)] = [
            ("client_id", request.clientID), ("redirect_uri", request.redirectURI),
            ("scope", request.scopes.joined(separator: " ")), ("response_type", "code"),
        ]
        if let state = request.state { hidden.append(("state", state)) }
        let hiddenFields = hidden.map { name, value in
            #"<input type="hidden" name="\#(name)" value="\#(Self.escape(value))">"#
        }
        let company: String
        if companies.count > 1 {
            let options = companies.map { realm in
                let selected = realm == chosen ? " selected" : ""
                let name = Self.escape(Self.companyName(realm))
                return #"<option value="\#(Self.escape(realm))"\#(selected)>\#(name)</option>"#
            }
            company = """
                <label for="realm">Company to connect</label>
                <select id="realm" name="realm">\(options.joined())</select>
                """
        } else {
            company = """
                <p id="company">Company: <strong>\(Self.escape(Self.companyName(chosen)))</strong></p>
                <input type="hidden" name="realm" value="\(Self.escape(chosen))">
                """
        }
        let scopes = request.scopes.map { "<li>\(Self.escape(Self.scopeDescriptions[$0] ?? $0))</li>" }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Connect \(app) to QuickBooks</title>
            <style>\(Self.style)</style>
            </head>
            <body>
            <main>
            <p class="brand">QuickBooks Online sandbox</p>
            <h1>Connect <span id="app-name">\(app)</span> to your QuickBooks company</h1>
            <p>\(app) will be able to:</p>
            <ul id="scopes">\(scopes.joined())</ul>
            <form method="post" action="/connect/oauth2">
            \(hiddenFields.joined(separator: "\n"))
            \(company)
            <div class="actions">
            <button type="submit" id="connect" name="decision" value="connect">Connect</button>
            <button type="submit" id="cancel" name="decision" value="cancel">Cancel</button>
            </div>
            </form>
            <p class="note">You can disconnect \(app) at any time in QuickBooks, under Apps.</p>
            </main>
            </body>
            </html>

            """
    }

    var response: Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                HTTPField.Name("X-Frame-Options")!: "DENY", .xContentTypeOptions: "nosniff",
                HTTPField.Name("Referrer-Policy")!: "no-referrer",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// `text` safe in HTML text and in a quoted attribute.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static let style = """
        :root{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f3f4f6}
        body{margin:0}
        main{max-width:30rem;margin:2.5rem auto;padding:1.5rem 1.75rem;background:#fff;border-radius:8px;\
        box-shadow:0 1px 4px rgba(0,0,0,.15)}
        .brand{margin:0 0 .75rem;color:#2ca01c;font-weight:700;letter-spacing:.02em}
        h1{font-size:1.35rem;line-height:1.3;margin:0 0 1rem}
        ul{padding-left:1.25rem}
        li{margin:.35rem 0}
        label{display:block;font-weight:600;margin:1.25rem 0 .35rem}
        select{width:100%;font-size:1rem;padding:.5rem;border:1px solid #8c959f;border-radius:4px;background:#fff}
        .actions{display:flex;gap:.75rem;margin-top:1.5rem}
        button{flex:1;font-size:1rem;font-weight:600;padding:.7rem 1rem;border-radius:4px;border:2px solid #2ca01c;\
        cursor:pointer}
        #connect{background:#2ca01c;color:#fff}
        #cancel{background:#fff;color:#1e7014}
        :focus-visible{outline:3px solid #0b5cad;outline-offset:2px}
        .note{color:#57606a;font-size:.875rem;margin-top:1.5rem}
        @media (max-width:480px){main{margin:0;border-radius:0;box-shadow:none;min-height:100vh;\
        box-sizing:border-box}}
        """
}

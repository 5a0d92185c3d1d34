import HTTPTypes
import Hummingbird
import NIOCore

/// The emulator's stand-in for Sage's sign-in and consent page: the app's name, what it asks for, the user's lead
/// business, and Allow or Deny. Self-contained (no script, no external resource), a label on every control, every
/// value escaped.
struct SageBusinessCloudConsentPage {
    let request: SageBusinessCloudSandbox.AuthorizeRequest
    let businessName: String

    var html: String {
        let escape = QuickBooksConsentPage.escape
        var hidden: [(String, String)] = [
            ("client_id", request.clientID), ("redirect_uri", request.redirectURI), ("scope", request.scope),
            ("response_type", "code"), ("filter", "apiv3.1"),
        ]
        if let state = request.state { hidden.append(("state", state)) }
        let fields = hidden.map { #"<input type="hidden" name="\#($0.0)" value="\#(escape($0.1))">"# }
        let access =
            request.scope == "full_access" ? "view and change your accounting data" : "view your accounting data"
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Sage Accounting: allow access</title></head>
            <body><main>
            <h1>\(escape(request.appName)) would like to \(access)</h1>
            <p>Business: \(escape(businessName))</p>
            <form method="post" action="/oauth2/auth/central">
            \(fields.joined(separator: "\n"))
            <button type="submit" name="decision" value="allow">Allow</button>
            <button type="submit" name="decision" value="deny">Deny</button>
            </form>
            </main></body></html>
            """
    }

    var response: Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'", .xContentTypeOptions: "nosniff",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}

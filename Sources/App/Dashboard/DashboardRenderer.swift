import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

/// The dashboard's templates (`Templates/*.mustache`, shipped as the App target's resources and read once) and how a
/// page becomes a response.
///
/// Every value goes through Mustache's HTML escaping (`{{value}}`, which escapes `& < > " '`): no template uses the
/// unescaped forms (`{{{…}}}`, `{{&…}}`), and a test keeps it so.
struct DashboardRenderer: Sendable {
    let library: MustacheLibrary

    /// The templates bundled with the App target, read once; a missing or broken template fails every page with a
    /// 500 that says so, rather than the process.
    static let bundled: Result<DashboardRenderer, DashboardError> = Result {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw DashboardError(
                "the dashboard's templates are missing: ship ledgerwire_App.resources beside the binary")
        }
        return try DashboardRenderer(folder: folder)
    }.mapError { $0 as? DashboardError ?? DashboardError("the dashboard's templates could not be read: \($0)") }

    /// Reads every `*.mustache` of `folder`, each named by its file name without the extension.
    init(folder: URL) throws {
        var library = MustacheLibrary()
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasSuffix(".mustache")
        }
        for file in files.sorted() {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            try library.register(text, named: String(file.dropLast(".mustache".count)))
        }
        self.library = library
    }

    /// `screen` rendered with its page's template, as `text/html`.
    func response(_ screen: Screen, status: HTTPResponse.Status = .ok) throws -> Response {
        guard let html = library.render(screen, withTemplate: screen.template) else {
            throw DashboardError("the dashboard has no template \(screen.template)")
        }
        return Self.html(html, status: status)
    }

    static func html(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// The dashboard itself is broken (its templates are missing); answered 500 and logged.
struct DashboardError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

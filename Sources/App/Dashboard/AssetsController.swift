import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/assets/…`: the dashboard's stylesheet and its one script, shipped as the App target's resources and read once.
struct AssetsController {
    /// The files served, by name, with their media types.
    static let files: [String: String] = [
        "app.css": "text/css; charset=utf-8", "live.js": "text/javascript; charset=utf-8",
    ]

    /// Each file's bytes, or `nil` when the resources are missing (its route then answers 404).
    private static let contents: [String: ByteBuffer] = {
        var contents: [String: ByteBuffer] = [:]
        guard let folder = Bundle.module.url(forResource: "Assets", withExtension: nil) else { return contents }
        for name in files.keys {
            if let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) {
                contents[name] = ByteBuffer(bytes: data)
            }
        }
        return contents
    }()

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/assets/{name}") { _, context in
            let name = try context.parameters.require("name")
            guard let type = Self.files[name], let body = Self.contents[name] else {
                throw Problem.notFound("there is no asset \(name)")
            }
            var headers = HTTPFields()
            headers[.contentType] = type
            headers[.cacheControl] = "public, max-age=300"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
        return routes
    }
}

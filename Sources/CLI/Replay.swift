import ArgumentParser
import Crypto
import Foundation
import Ingestion

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `ledgerwire replay`: signs fixture events and posts them as Cognify billing would.
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign and post billing events (a file, or every *.json of a directory) to a Ledgerwire.",
        discussion: """
            Each file is one event body. It is posted with Standard Webhooks headers: webhook-id (derived from the \
            file's content, so replaying the same file twice is a duplicate, unless --fresh-ids), webhook-timestamp \
            (now) and webhook-signature. Files ending in .expected.json are skipped.
            """
    )

    @Argument(help: "An event file or a directory of them.")
    var path: String

    @Option(help: "The endpoint, e.g. http://127.0.0.1:8080/webhooks/billing.")
    var to: String

    @Option(help: "The signing secret, whsec_…")
    var secret: String

    @Flag(help: "Give every delivery a new random webhook-id.")
    var freshIDs = false

    func run() async throws {
        guard let url = URL(string: to), url.scheme == "http" || url.scheme == "https" else {
            throw ValidationError("--to must be an http(s) URL")
        }
        let key = try StandardWebhooks.keyBytes(fromSecret: secret)
        var failures = 0
        for file in try Self.eventFiles(at: path) {
            let body = try Data(contentsOf: URL(fileURLWithPath: file))
            let id =
                freshIDs
                ? "msg_" + UUID().uuidString.lowercased()
                : "msg_"
                    + SHA256.hash(data: body).prefix(12).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            let timestamp = Int64(Date().timeIntervalSince1970)
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "content-type")
            request.setValue(id, forHTTPHeaderField: "webhook-id")
            request.setValue(String(timestamp), forHTTPHeaderField: "webhook-timestamp")
            request.setValue(
                StandardWebhooks.sign(id: id, timestamp: timestamp, body: body, key: key),
                forHTTPHeaderField: "webhook-signature"
            )
            let (data, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if !(200..<300).contains(status) { failures += 1 }
            print("\(status) \(file) \(String(decoding: data, as: UTF8.self))")
        }
        if failures > 0 {
            print("\(failures) event(s) were not accepted")
            throw ExitCode(1)
        }
    }

    static func eventFiles(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("\(path) does not exist")
        }
        guard isDirectory.boolValue else { return [path] }
        return try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }
            .sorted()
            .map { "\(path)/\($0)" }
    }
}

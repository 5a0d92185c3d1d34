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
            (now) and webhook-signature. Files ending in .expected.json are skipped. Each answer is printed, then a \
            summary: sent, accepted, duplicate, rejected (4xx) and failed (no answer, or 5xx). Exits 1 when any was \
            rejected or failed.
            """
    )

    @Argument(help: "An event file or a directory of them.")
    var path: String

    @Option(help: "The endpoint, e.g. http://127.0.0.1:8080/webhooks/billing.")
    var to: String

    @Option(help: "The signing secret, whsec_…")
    var secret: String

    @Flag(name: .customLong("fresh-ids"), help: "Give every delivery a new random webhook-id.")
    var freshIDs = false

    func validate() throws {
        guard let url = URL(string: to), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError(
                "--to must be an http(s) URL such as http://127.0.0.1:8080/webhooks/billing, not \"\(to)\"")
        }
        guard (try? StandardWebhooks.keyBytes(fromSecret: secret)) != nil else {
            throw ValidationError(
                "the secret must be whsec_ followed by base64 (the secret of the billing webhook source, shown once by "
                    + "POST /api/v1/webhook-sources); check --secret")
        }
    }

    func run() async throws {
        // `validate()` checked both.
        guard let url = URL(string: to), let key = try? StandardWebhooks.keyBytes(fromSecret: secret) else {
            throw ExitCode.validationFailure
        }
        let files = try Self.eventFiles(at: path)
        var summary = ReplaySummary()
        for file in files {
            let body: Data
            do {
                body = try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw CommandFailure("could not read \(file); check that it is a readable file")
            }
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
            summary.sent += 1
            do {
                let (data, response) = try await URLSession.shared.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                summary.count(status: status, body: data)
                print("\(status) \(file) \(String(decoding: data, as: UTF8.self))")
            } catch {
                summary.failed += 1
                CommandOutput.standardError("failed \(file): \(Self.unreachable(url, error))\n")
            }
        }
        print(summary.line)
        if summary.rejected + summary.failed > 0 { throw ExitCode(1) }
    }

    /// Why `url` gave no answer, in words, with what to check: never Foundation's `NSURLErrorDomain … UserInfo` dump.
    static func unreachable(_ url: URL, _ error: any Error) -> String {
        let reason: String
        switch (error as? URLError)?.code {
        case .cannotConnectToHost?:
            reason = "connection refused — is `ledgerwire serve` running, on this host and port?"
        case .networkConnectionLost?:
            reason = "the connection closed before an answer came — did `ledgerwire serve` stop?"
        case .timedOut?:
            reason = "no answer in time — is `ledgerwire serve` running and not overloaded?"
        case .cannotFindHost?, .dnsLookupFailed?:
            reason = "the host name does not resolve; check --to"
        case .secureConnectionFailed?, .serverCertificateUntrusted?, .serverCertificateHasBadDate?,
            .serverCertificateNotYetValid?, .serverCertificateHasUnknownRoot?:
            reason = "the TLS connection failed (the server's certificate was refused); check --to"
        case let code?:
            reason =
                "the request failed (URL error \(code.rawValue)); check --to and that `ledgerwire serve` is running"
        case nil:
            reason = "\(error)"
        }
        return "could not reach \(url.absoluteString): \(reason)"
    }

    static func eventFiles(at path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("\(path) does not exist; give an event file or a directory of them")
        }
        guard isDirectory.boolValue else { return [path] }
        return try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }
            .sorted()
            .map { "\(path)/\($0)" }
    }
}

/// What became of the events a replay sent.
struct ReplaySummary {
    var sent = 0
    /// Answered 2xx and taken in (accepted, or superseded by a newer version already stored).
    var accepted = 0
    /// Answered 2xx as a delivery or record already stored.
    var duplicate = 0
    /// Answered 4xx: the signature, the body or the event was refused.
    var rejected = 0
    /// No answer (connection refused, lost, timed out) or 5xx.
    var failed = 0

    mutating func count(status: Int, body: Data) {
        switch status {
        case 200..<300:
            let answer = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
            if answer?["status"] as? String == "duplicate" { duplicate += 1 } else { accepted += 1 }
        case 400..<500: rejected += 1
        default: failed += 1
        }
    }

    var line: String {
        "replayed: \(sent) sent, \(accepted) accepted, \(duplicate) duplicate, \(rejected) rejected, \(failed) failed"
    }
}

public import Accounting
import Foundation

/// The relay's wire format, shared by the server's agent routes and the agent (docs/openapi.yaml, `/agent/v1`).
extension AgentRequest {
    /// `{id, method, path, headers: [{name, value}], body_base64, timeout_ms}`.
    public var json: JSONValue {
        .object([
            "id": .string(id),
            "method": .string(method),
            "path": .string(path),
            "headers": .array(headers.map { .object(["name": .string($0.name), "value": .string($0.value)]) }),
            "body_base64": .string(body.base64EncodedString()),
            "timeout_ms": .number(String(Self.milliseconds(timeout))),
        ])
    }

    /// Whole milliseconds, at least 1.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return 3_600_000 }
        return max(1, min(3_600_000, scaled + attoseconds / 1_000_000_000_000_000))
    }

    /// Reads what `json` wrote; `nil` for anything else. The timeout is bounded (1 ms to 1 hour).
    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let method = json["method"]?.stringValue,
            let path = json["path"]?.stringValue, path.hasPrefix("/"),
            let headerValues = json["headers"]?.arrayValue,
            let body = json["body_base64"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
            let milliseconds = json["timeout_ms"]?.intValue, (1...3_600_000).contains(milliseconds)
        else { return nil }
        var headers: [(name: String, value: String)] = []
        for header in headerValues {
            guard let name = header["name"]?.stringValue, let value = header["value"]?.stringValue else { return nil }
            headers.append((name, value))
        }
        self.init(
            id: id, method: method, path: path, headers: headers, body: body, timeout: .milliseconds(milliseconds))
    }
}

extension AgentReply {
    /// `{status, headers: {name: value}, body_base64}` or `{error: {code, message}}`.
    public var json: JSONValue {
        switch self {
        case .response(let response):
            .object([
                "status": .number(String(response.status)),
                "headers": .object(response.headers.mapValues(JSONValue.string)),
                "body_base64": .string(response.body.base64EncodedString()),
            ])
        case .failure(let code, let message):
            .object(["error": .object(["code": .string(code), "message": .string(message)])])
        }
    }

    /// Reads what `json` wrote, or says what is wrong with it (field, message).
    public static func parse(_ json: JSONValue) -> Result<AgentReply, AgentReplyProblem> {
        if let error = json["error"] {
            guard let code = error["code"]?.stringValue, failureCodes.contains(code) else {
                return .failure(.init(field: "error.code", message: "must be cannot_connect, timed_out or failed"))
            }
            guard let message = error["message"]?.stringValue else {
                return .failure(.init(field: "error.message", message: "must be a string"))
            }
            return .success(.failure(code: code, message: String(message.prefix(1000))))
        }
        guard let status = json["status"]?.intValue, (100...599).contains(status) else {
            return .failure(.init(field: "status", message: "must be an HTTP status from 100 to 599"))
        }
        var headers: [String: String] = [:]
        if let values = json["headers"] {
            guard let members = values.objectValue else {
                return .failure(.init(field: "headers", message: "must be an object of strings"))
            }
            for (name, value) in members {
                guard let text = value.stringValue else {
                    return .failure(.init(field: "headers.\(name)", message: "must be a string"))
                }
                headers[name] = text
            }
        }
        guard let body = json["body_base64"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) else {
            return .failure(.init(field: "body_base64", message: "must be base64"))
        }
        return .success(.response(TransportResponse(status: status, headers: headers, body: body)))
    }
}

/// What is wrong with an agent's reply: the field and what to fix.
public struct AgentReplyProblem: Error, Sendable, Hashable {
    public var field: String
    public var message: String
}

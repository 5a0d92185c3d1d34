import Accounting
import Foundation

extension OpenAPIDocument {
    /// One of the document's path templates (`/Invoices/{InvoiceID}`).
    struct Route: Sendable {
        enum Segment: Sendable, Equatable {
            case literal(String)
            case parameter(String)
        }

        let template: String
        let segments: [Segment]
        let item: JSONValue

        init(template: String, item: JSONValue) {
            self.template = template
            self.item = item
            self.segments = template.split(separator: "/").map { segment in
                segment.hasPrefix("{") && segment.hasSuffix("}")
                    ? .parameter(String(segment.dropFirst().dropLast())) : .literal(String(segment))
            }
        }

        /// The path parameters' values when `path` fits the template.
        func match(_ path: [String]) -> [(name: String, value: String)]? {
            guard path.count == segments.count else { return nil }
            var values: [(name: String, value: String)] = []
            for (segment, part) in zip(segments, path) {
                switch segment {
                case .literal(let literal) where literal == part: continue
                case .literal: return nil
                case .parameter(let name): values.append((name, part.removingPercentEncoding ?? part))
                }
            }
            return values
        }

        var literalCount: Int { segments.count { if case .literal = $0 { true } else { false } } }
    }

    /// An operation of the document: a method on a path template.
    struct Operation: Sendable {
        let route: Route
        let method: String
        let value: JSONValue

        var name: String { "\(method.uppercased()) \(route.template)" }
    }

    struct Parameter: Sendable {
        let name: String
        let location: String
        let schema: JSONValue
    }

    enum Resolution {
        case found(Operation, pathParameters: [(name: String, value: String)])
        case refused(String)

        var violations: [String] {
            if case .refused(let reason) = self { return [reason] }
            return []
        }
    }

    /// The operation `method path` names. Of the templates a path fits, the one with the most literal segments
    /// wins, and among equals the first whose path parameters fit their schemas (`{AttachmentID}` before
    /// `{FileName}` for a UUID).
    func operation(method: String, path: String) -> Resolution {
        var relative = path
        if !basePath.isEmpty, relative == basePath || relative.hasPrefix(basePath + "/") {
            relative = String(relative.dropFirst(basePath.count))
        }
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        guard relative.hasPrefix("/"), !parts.contains("") else {
            return .refused("\(method.uppercased()) \(path): not a path of the spec")
        }
        let candidates = routes.compactMap { route in route.match(parts).map { (route, $0) } }
            .sorted { $0.0.literalCount > $1.0.literalCount }
        guard !candidates.isEmpty else { return .refused("\(method.uppercased()) \(path): not a path of the spec") }
        let lowered = method.lowercased()
        let withMethod = candidates.filter { $0.0.item[lowered] != nil }
        guard let first = withMethod.first else {
            let allowed = Set(candidates.flatMap { $0.0.item.objectValue?.keys.map { $0 } ?? [] })
                .intersection(["get", "put", "post", "delete", "patch"]).map { $0.uppercased() }.sorted()
            return .refused(
                "\(method.uppercased()) \(path): \(candidates[0].0.template) takes no \(method.uppercased()) "
                    + "(it takes \(allowed.joined(separator: ", ")))")
        }
        let best = withMethod.filter { $0.0.literalCount == first.0.literalCount }
        let fitting =
            best.first { route, values in
                let operation = Operation(
                    route: route, method: method.uppercased(), value: route.item[lowered] ?? .null)
                let parameters = self.parameters(of: operation)
                return values.allSatisfy { name, value in
                    guard let schema = parameters.first(where: { $0.location == "path" && $0.name == name })?.schema
                    else { return false }
                    var check = SchemaCheck(document: self, mode: .request)
                    check.check(parameter: value, against: schema, at: name)
                    return check.found.isEmpty
                }
            } ?? first
        return .found(
            Operation(route: fitting.0, method: method.uppercased(), value: fitting.0.item[lowered] ?? .null),
            pathParameters: fitting.1)
    }

    /// The operation's parameters and its path's, `$ref`s followed; the operation's own win over the path's.
    func parameters(of operation: Operation) -> [Parameter] {
        let own = (operation.value["parameters"]?.arrayValue ?? []).compactMap(parameter)
        let shared = (operation.route.item["parameters"]?.arrayValue ?? []).compactMap(parameter)
        return own
            + shared.filter { common in !own.contains { $0.name == common.name && $0.location == common.location } }
    }

    private func parameter(_ value: JSONValue) -> Parameter? {
        guard let resolved = resolve(value), let name = resolved["name"]?.stringValue,
            let location = resolved["in"]?.stringValue
        else { return nil }
        return Parameter(name: name, location: location, schema: resolved["schema"] ?? ["type": "string"])
    }
}

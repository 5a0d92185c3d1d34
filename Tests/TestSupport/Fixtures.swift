public import Accounting
public import Foundation

/// The repository's `webhooks/` fixtures.
public enum Fixtures {
    /// The repository root, found from this file's path.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `webhooks/billing/`.
    public static var billingDirectory: URL { root.appendingPathComponent("webhooks/billing") }

    /// The names of every billing event fixture, without `.json`, sorted.
    public static func billingEventNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: billingDirectory.path)
            .filter { $0.hasSuffix(".json") && !$0.hasSuffix(".expected.json") }
            .map { String($0.dropLast(5)) }
            .sorted()
    }

    /// The raw bytes of `webhooks/billing/<name>.json`.
    public static func billingEvent(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: billingDirectory.appendingPathComponent("\(name).json")))
    }

    /// The fixture parsed, to edit in tests.
    public static func billingEventJSON(_ name: String) throws -> JSONValue {
        try JSONValue(parsing: billingEvent(name))
    }
}

extension JSONValue {
    /// A copy with the value at `path` (object keys and array indexes) replaced, or removed when `value` is nil.
    public func setting(_ path: [PathComponent], to value: JSONValue?) -> JSONValue {
        guard let first = path.first else { return value ?? .null }
        let rest = Array(path.dropFirst())
        switch (self, first) {
        case (.object(var members), .key(let key)):
            if rest.isEmpty, value == nil {
                members[key] = nil
            } else {
                members[key] = (members[key] ?? .object([:])).setting(rest, to: value)
            }
            return .object(members)
        case (.array(var elements), .index(let index)):
            elements[index] = elements[index].setting(rest, to: value)
            return .array(elements)
        default:
            return self
        }
    }

    /// A step of a path into a JSON document.
    public enum PathComponent: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, Sendable {
        case key(String)
        case index(Int)

        public init(stringLiteral value: String) { self = .key(value) }
        public init(integerLiteral value: Int) { self = .index(value) }
    }
}

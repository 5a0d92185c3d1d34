import Accounting
import HTTPTypes

/// A settings form as its template shows it: what was typed in each field (never a secret or a password), and the
/// API's refusal in plain words beside the field it names; what names no field of the form is said above it.
struct SettingsForm: Sendable {
    /// The fields the form has, each with the label its error starts with.
    let labels: [String: String]
    private(set) var values: [String: [String]] = [:]
    private(set) var errors: [String: [String]] = [:]
    /// Errors that name no field of the form, or a refusal with no field at all.
    private(set) var problems: [String] = []

    /// An empty form with these fields.
    init(labels: [String: String]) {
        self.labels = labels
    }

    /// The form as it was sent, keeping every field of it but the `secret` ones.
    init(labels: [String: String], sent form: [(name: String, value: String)], secret: Set<String> = []) {
        self.labels = labels
        for (name, value) in form where labels[name] != nil && !secret.contains(name) {
            values[name, default: []].append(value)
        }
    }

    /// The sent fields as the API's JSON body: each named field that is not empty, a string (an array when `many`
    /// holds its name), so that a field left empty is one the API calls missing.
    static func object(
        _ form: [(name: String, value: String)], fields: Set<String>, many: Set<String> = []
    ) -> [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        for (name, value) in form where fields.contains(name) && !value.isEmpty {
            if many.contains(name) {
                object[name] = .array((object[name]?.arrayValue ?? []) + [.string(value)])
            } else {
                object[name] = .string(value)
            }
        }
        return object
    }

    /// Takes in the API's refusal: each field error beside its field (`event_types[2]` beside `event_types`), as
    /// "Label message."
    mutating func refused(_ problem: Problem) {
        for error in problem.errors {
            let field = String(error.field.prefix { $0 != "[" && $0 != "." })
            if let label = labels[field] {
                errors[field, default: []].append(DashboardErrorMiddleware.sentence("\(label) \(error.message)"))
            } else {
                problems.append(DashboardErrorMiddleware.sentence("\(error.field) \(error.message)"))
            }
        }
        if problem.errors.isEmpty { problems.append(DashboardErrorMiddleware.sentence(problem.detail)) }
    }

    /// Whether the API refused the form.
    var isRefused: Bool { !errors.isEmpty || !problems.isEmpty }

    /// One field as its template shows it.
    func field(_ name: String) -> Field {
        Field(value: values[name]?.first ?? "", error: errors[name].map { $0.joined(separator: " ") })
    }

    /// Whether `value` was among what was sent in `name` (a ticked box, a chosen option).
    func sent(_ name: String, _ value: String) -> Bool {
        values[name]?.contains(value) ?? false
    }

    struct Field: Sendable {
        var value: String
        var error: String?
    }

    /// Runs `action`; a refusal that names what to fix (422, or 409 such as a taken email) comes back to be shown in
    /// the form. Any other error is thrown to the error page.
    static func attempt<Value>(_ action: () async throws -> Value) async throws -> Result<Value, Problem> {
        do {
            return .success(try await action())
        } catch {
            let problem = Problem(error)
            guard problem.status == .unprocessableContent || problem.status == .conflict else { throw error }
            return .failure(problem)
        }
    }
}

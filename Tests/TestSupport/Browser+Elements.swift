public import Accounting
import Foundation

/// An element of the page, as WebDriver refers to it until the page replaces it.
public struct Element: Sendable {
    /// WebDriver's key for an element reference (https://www.w3.org/TR/webdriver2/#elements).
    public static let referenceKey = "element-6066-11e4-a52e-4f735466cecf"

    public let browser: Browser
    public let id: String
    /// The CSS selector it was found by (for messages).
    public let selector: String

    private func command(_ method: String, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        try await browser.command(method, "element/\(id)/\(path)", body)
    }

    public func click() async throws { _ = try await command("POST", "click") }

    /// Empties an input or a text area.
    public func clear() async throws { _ = try await command("POST", "clear") }

    /// Types `text` into it, as keystrokes (`Key.enter`, `Key.tab` … are keys).
    public func type(_ text: String) async throws { _ = try await command("POST", "value", ["text": .string(text)]) }

    /// Its rendered text, as a person reads it.
    public var text: String {
        get async throws { try await command("GET", "text").stringValue ?? "" }
    }

    /// An HTML attribute as written (`nil` when absent).
    public func attribute(_ name: String) async throws -> String? {
        try await command("GET", "attribute/\(name)").stringValue
    }

    /// A DOM property (`value`, `checked`, `disabled`, …).
    public func property(_ name: String) async throws -> JSONValue {
        try await command("GET", "property/\(name)")
    }

    public var isDisplayed: Bool {
        get async throws { try await command("GET", "displayed").boolValue ?? false }
    }

    public var isEnabled: Bool {
        get async throws { try await command("GET", "enabled").boolValue ?? false }
    }

    /// Elements inside it matching `selector`.
    public func findAll(_ selector: String) async throws -> [Element] {
        let found = try await command("POST", "elements", ["using": "css selector", "value": .string(selector)])
        return (found.arrayValue ?? []).compactMap { browser.element($0, selector: "\(self.selector) \(selector)") }
    }
}

/// Keys for `type(_:)` and `press(_:)`, as WebDriver codes them.
public enum Key {
    public static let tab = "\u{E004}"
    public static let enter = "\u{E007}"
    public static let escape = "\u{E00C}"
    public static let space = "\u{E00D}"
    public static let arrowDown = "\u{E015}"
}

extension Browser {
    public func element(_ reference: JSONValue, selector: String) -> Element? {
        reference[Element.referenceKey]?.stringValue.map { Element(browser: self, id: $0, selector: selector) }
    }

    /// The first element matching `selector` now, or `nil`.
    public func find(_ selector: String) async throws -> Element? {
        do {
            let found = try await command("POST", "element", ["using": "css selector", "value": .string(selector)])
            return element(found, selector: selector)
        } catch let error as WebDriverClient.CommandError where error.code == "no such element" {
            return nil
        }
    }

    /// Every element matching `selector` now.
    public func findAll(_ selector: String) async throws -> [Element] {
        let found = try await command("POST", "elements", ["using": "css selector", "value": .string(selector)])
        return (found.arrayValue ?? []).compactMap { element($0, selector: selector) }
    }

    /// Whether an element matches `selector` now.
    public func exists(_ selector: String) async throws -> Bool { try await find(selector) != nil }

    /// The first element matching `selector`, waiting for it to appear.
    @discardableResult
    public func waitFor(_ selector: String, timeout: Duration? = nil) async throws -> Element {
        try await on(selector, timeout: timeout) { $0 }
    }

    /// Runs `action` on the element matching `selector`, waiting for it, and trying again while the page replaces
    /// or covers it (a page updating itself).
    public func on<T>(_ selector: String, timeout: Duration? = nil, _ action: (Element) async throws -> T) async throws
        -> T
    {
        var result: T?
        try await waitUntil("\(selector) can be used", timeout: timeout) {
            guard let element = try await find(selector) else { return false }
            do {
                result = try await action(element)
                return true
            } catch let error as WebDriverClient.CommandError where Self.passing.contains(error.code) {
                return false
            }
        }
        guard let result else { throw BrowserFailure("\(selector) gave nothing") }
        return result
    }

    /// WebDriver errors that a moment later may be gone.
    public static let passing: Set<String> = [
        "stale element reference", "element not interactable", "element click intercepted",
    ]

    public func click(_ selector: String) async throws { try await on(selector) { try await $0.click() } }

    /// Clicks `selector` and waits until the page it was on has gone and the next one is there: a form posted (a
    /// file uploaded can take a moment), a link followed. Reading the page right after a bare `click` may read the
    /// page before.
    public func clickAndWaitForNextPage(_ selector: String) async throws {
        let page = try await waitFor("html")
        try await click(selector)
        try await waitUntil("the page after \(selector) loads") {
            do {
                _ = try await page.attribute("lang")
                return false
            } catch let error as WebDriverClient.CommandError where error.code == "stale element reference" {
                return true
            }
        }
        try await waitFor("body")
    }

    /// Replaces what the field `selector` holds with `text`.
    public func fill(_ selector: String, with text: String) async throws {
        try await on(selector) { field in
            try await field.clear()
            try await field.type(text)
        }
    }

    /// Picks the `<option>` of the `<select>` `selector` whose value is `value`.
    public func select(_ selector: String, value: String) async throws {
        try await choose(selector, "value \(value)") { try await $0.property("value") == .string(value) }
    }

    /// Picks the `<option>` of the `<select>` `selector` whose text is `label`.
    public func select(_ selector: String, label: String) async throws {
        try await choose(selector, "label \(label)") { try await $0.text == label }
    }

    private func choose(_ selector: String, _ what: String, _ matches: (Element) async throws -> Bool) async throws {
        let picked: Bool = try await on(selector) { list in
            for option in try await list.findAll("option") {
                guard try await matches(option) else { continue }
                try await option.click()
                return true
            }
            return false
        }
        guard picked else { throw BrowserFailure("\(selector) has no option with \(what)") }
    }

    /// The text of the element `selector`, waiting for it.
    public func text(_ selector: String) async throws -> String { try await on(selector) { try await $0.text } }

    /// An attribute of the element `selector`, waiting for it.
    public func attribute(_ name: String, of selector: String) async throws -> String? {
        try await on(selector) { try await $0.attribute(name) }
    }

    /// A DOM property of the element `selector`, waiting for it.
    public func property(_ name: String, of selector: String) async throws -> JSONValue {
        try await on(selector) { try await $0.property(name) }
    }

    /// Types `keys` where the focus is (`Key.tab` moves it, as a keyboard user does).
    public func press(_ keys: String) async throws {
        let active = try await command("GET", "element/active")
        guard let focused = element(active, selector: ":focus") else { throw BrowserFailure("nothing has the focus") }
        try await focused.type(keys)
    }
}

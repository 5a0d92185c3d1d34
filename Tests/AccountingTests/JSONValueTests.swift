import Accounting
import Testing

@Suite struct JSONValueTests {
    @Test func keepsNumbersAsTheirLiteralText() throws {
        let value = try JSONValue(parsing: Array(#"{"q": 1.50, "big": 12345678901234567890, "e": -2.5e-3}"#.utf8))
        #expect(value["q"] == .number("1.50"))
        #expect(value["big"] == .number("12345678901234567890"))
        #expect(value["e"] == .number("-2.5e-3"))
    }

    @Test func decodesEscapesAndUnicode() throws {
        let value = try JSONValue(parsing: Array(#"{"s": "a\"b\\c\n\u00e9\ud83c\udf93 ₹"}"#.utf8))
        #expect(value["s"] == .string("a\"b\\c\né🎓 ₹"))
    }

    @Test(arguments: [
        "", "{", #"{"a":1,}"#, #"{"a":1 "b":2}"#, "[1,]", "01", "1.", "-", #"{"a":1,"a":2}"#, "nul", #""\x""#,
        #"{"a":"\ud83c"}"#, "{} {}",
    ])
    func refusesMalformedDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Array(text.utf8)) }
    }

    @Test func refusesInvalidUtf8() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Array(deep.utf8)) }
    }

    @Test func serializesCanonicallyAndRoundTrips() throws {
        let text = #"{"b": [true, null, 2.50], "a": "x\ty\u0001"}"#
        let value = try JSONValue(parsing: Array(text.utf8))
        #expect(value.canonicalString == #"{"a":"x\ty\u0001","b":[true,null,2.50]}"#)
        #expect(try JSONValue(parsing: value.canonicalBytes) == value)
    }
}

@Suite struct FormURLEncodedTests {
    @Test func plusIsASpaceAndEscapesAreBytes() {
        #expect(FormURLEncoded.decode("select+*+from+Invoice") == "select * from Invoice")
        #expect(FormURLEncoded.decode("a%2Bb%20c") == "a+b c")
        #expect(FormURLEncoded.decode("%E2%82%B9500") == "₹500")
        #expect(FormURLEncoded.value(of: "code", in: "state=x&code=AB%3D1&code=second") == "AB=1")
        #expect(FormURLEncoded.fields("flag&x=").map(\.name) == ["flag", "x"])
    }

    @Test func encodedFieldsDecodeToWhatWasEncoded() {
        let fields: [(name: String, value: String)] = [
            ("redirect_uri", "http://127.0.0.1:8080/oauth/callback?x=1&y=2"), ("scope", "openid a+b ₹"),
        ]
        let body = FormURLEncoded.encode(fields)
        let expected =
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Foauth%2Fcallback%3Fx%3D1%26y%3D2"
            + "&scope=openid+a%2Bb+%E2%82%B9"
        #expect(body == expected)
        #expect(FormURLEncoded.fields(body).map { [$0.name, $0.value] } == fields.map { [$0.name, $0.value] })
    }

    /// Fields end at the byte `&` even where Unicode joins it to a neighbour into one character (U+0600 before it,
    /// a combining accent after it): the fuzzer found a name holding an `&` that was never `%26`.
    @Test func anAmpersandJoinedToItsNeighbourStillEndsTheField() {
        let before = FormURLEncoded.fields("a=1\u{0600}&b=2")
        #expect(before.map(\.name) == ["a", "b"])
        #expect(before.map(\.value) == ["1\u{0600}", "2"])
        let after = FormURLEncoded.fields("a=1&\u{0301}b=2")
        #expect(after.map(\.name) == ["a", "\u{0301}b"])
        #expect(!after.contains { $0.name.contains("&") || $0.value.contains("&") })
    }

    @Test func brokenEscapesAreKeptAsWritten() {
        #expect(FormURLEncoded.decode("100%") == "100%")
        #expect(FormURLEncoded.decode("%zz%4") == "%zz%4")
        #expect(FormURLEncoded.decode("%4%41") == "%4A")
        #expect(FormURLEncoded.decode("%FF") == "\u{FFFD}")
    }

    /// A run of `%` signs decodes left to right: each `%` that does not start an escape is one literal `%`, and the
    /// escape after the run is still read in its place (the fuzzer found an older decoder that reordered them).
    @Test func runsOfPercentSignsKeepTheirOrder() {
        #expect(FormURLEncoded.decode("%%%26") == "%%&")
        #expect(FormURLEncoded.decode("%%41%") == "%A%")
        #expect(FormURLEncoded.decode("a%%%%%%%%e26-27") == "a%%%%%%%\u{FFFD}6-27")
        #expect(FormURLEncoded.fields("gra%%%%%%%%e26-27%2F01").allSatisfy { !$0.name.contains("&") })
    }
}

import Accounting
import Testing

/// Uploads as browsers and curl send them: the file's part found by its field name, whatever comes before it.
@Suite struct MultipartFormDataTests {
    @Test func theBoundaryIsReadQuotedOrNot() {
        #expect(MultipartFormData.boundary(ofContentType: "multipart/form-data; boundary=XyZ") == "XyZ")
        #expect(
            MultipartFormData.boundary(ofContentType: "multipart/form-data;  Boundary=\"----abc\" ; charset=utf-8")
                == "----abc")
        #expect(MultipartFormData.boundary(ofContentType: "multipart/form-data") == nil)
        #expect(MultipartFormData.boundary(ofContentType: "multipart/form-data; boundary=\"\"") == nil)
        #expect(
            MultipartFormData.boundary(
                ofContentType: "multipart/form-data; boundary=" + String(repeating: "x", count: 201))
                == nil)
    }

    @Test func theFilesContentComesBackExactlyFromABrowsersBody() {
        let content = Array("No,Type,Account\r\n1,SI,SMITHJ01\r\n".utf8)
        let body = MultipartFormData.body(name: "file", filename: "AUDIT.CSV", content: content, boundary: "XyZ")
        #expect(MultipartFormData.part(named: "file", in: body, boundary: "XyZ").map(Array.init) == content)
        #expect(MultipartFormData.part(named: "format", in: body, boundary: "XyZ") == nil)
    }

    /// A field whose file name is "file" is not the field named file: the part after it is.
    @Test func aFilenameOfFileDoesNotNameTheField() {
        let body = Array(
            ("--XyZ\r\nContent-Disposition: form-data; name=\"format\"; filename=\"file\"\r\n\r\nsage50\r\n"
                + "--XyZ\r\ncontent-disposition: form-data; name=file\r\n\r\nrows\r\n--XyZ--\r\n").utf8)
        #expect(MultipartFormData.part(named: "file", in: body, boundary: "XyZ").map(Array.init) == Array("rows".utf8))
    }

    @Test func aBodyCutShortOrClosedHasNoPart() {
        let cut = Array("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nrows".utf8)
        #expect(MultipartFormData.part(named: "file", in: cut, boundary: "XyZ") == nil)
        #expect(MultipartFormData.part(named: "file", in: Array("--XyZ--\r\n".utf8), boundary: "XyZ") == nil)
        #expect(MultipartFormData.part(named: "file", in: [], boundary: "XyZ") == nil)
    }
}

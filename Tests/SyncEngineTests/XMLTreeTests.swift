import Connectors
import Foundation
import Testing

/// The XML readers of untrusted answers (the Web Connector's SOAP, qbXML, Tally's XML) keep away from inputs that
/// crash Foundation's parser.
@Suite struct XMLTreeTests {
    /// Found by FuzzQBXML and FuzzWebConnectorSOAP: `<?name?>` has libxml2 hand Foundation no data, which it passes
    /// to `strlen` (a segmentation fault). Every reader refuses it before parsing.
    @Test(arguments: [
        "<?x?><QBXML/>", "<QBXML><?qbxml?></QBXML>", "<?\u{00EF}sR?><a/>", "<??><a/>",
        // Wherever it stands: libxml2 need not read a broken document as it looks (CI's FuzzQBXML run found a `<?`
        // inside a broken start tag leading to one), so the check does not guess.
        "<a><![CDATA[<?x?>]]></a>", "<a><!-- <?x?> --></a>", "<R statusC<?xmlt a><b/><?\u{00EF}sRyreuQ?></R>",
    ])
    func aProcessingInstructionWithoutDataIsRefusedByEveryReader(document: String) {
        #expect(XMLTree.hasEmptyProcessingInstruction(document.utf8))
        #expect(throws: XMLTree.ParseError.self) {
            try XMLTree.read(Data(document.utf8), namespaces: false, maximumDepth: 8)
        }
        #expect(throws: XMLTree.ParseError.self) { try QBXML.responses(in: document) }
        #expect(throws: TallyXML.ParseError.self) { try TallyXML.parse(document) }
    }

    @Test(arguments: [
        "<?xml version=\"1.0\"?><a/>",
        "<a><?qbxml version=\"13.0\"?></a>",
        "<a><?x \n ?></a>",
        "<a><![CDATA[<?xml version=\"1.0\" ?><QBXML/>]]></a>",
        "<a b=\"?&gt;\">text ?&gt; <b/></a>",
    ])
    func processingInstructionsWithDataAreRead(document: String) throws {
        #expect(!XMLTree.hasEmptyProcessingInstruction(document.utf8))
        #expect(try XMLTree.read(Data(document.utf8), namespaces: false, maximumDepth: 8).name == "a")
    }

    @Test func anUnterminatedInstructionOrOneWithDataIsNotMistakenForAnEmptyOne() {
        for document in ["<?", "<?x", "<?x ?", "<", "?>", "<? ?>"] {
            #expect(!XMLTree.hasEmptyProcessingInstruction(document.utf8), "\(document)")
        }
    }
}

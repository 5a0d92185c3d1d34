import Accounting
import Connectors
import Testing

/// A job's conversation with a mailbox platform, replayed from its journal: no database.
@Suite struct PlatformMailboxTests {
    let find = PlatformMessage(contentType: "application/json", body: #"{"op":"find"}"#)
    let add = PlatformMessage(contentType: "application/json", body: #"{"op":"add"}"#)
    let found = PlatformMessage(contentType: "application/json", body: #"{"matches":[]}"#)
    let added = PlatformMessage(contentType: "application/json", body: #"{"id":"C-1"}"#)

    @Test func aFirstRunJournalsItsFirstMessageAndWaits() {
        let mailbox = PlatformMailbox(journal: [])
        #expect(throws: AwaitingPlatform(message: find)) { try mailbox.exchange(find) }
    }

    @Test func aRunAfterTheReplyReplaysItAndJournalsTheNextMessage() throws {
        let mailbox = PlatformMailbox(journal: [.init(message: find, reply: found)])
        #expect(try mailbox.exchange(find) == found)
        #expect(throws: AwaitingPlatform(message: add)) { try mailbox.exchange(add) }
    }

    @Test func aRunBeforeTheReplyWaitsWithoutJournallingTheMessageAgain() throws {
        let mailbox = PlatformMailbox(journal: [.init(message: find, reply: found), .init(message: add, reply: nil)])
        #expect(try mailbox.exchange(find) == found)
        #expect(throws: AwaitingPlatform(message: nil)) { try mailbox.exchange(add) }
    }

    @Test func aRunWithEveryReplyCompletesFromTheJournal() throws {
        let mailbox = PlatformMailbox(journal: [.init(message: find, reply: found), .init(message: add, reply: added)])
        #expect(try mailbox.exchange(find) == found)
        // The journalled message is the one answered, whatever this run builds in its place.
        #expect(try mailbox.exchange(PlatformMessage(contentType: "application/json", body: "{}")) == added)
    }
}

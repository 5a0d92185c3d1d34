public import Accounting
import Synchronization

/// How a connector reaches its platform.
public enum ExchangeChannel: Sendable, Hashable {
    /// Over HTTP, answered within the call (`ConnectorContext.transport`, within the rate limits): QuickBooks Online,
    /// Xero, Sage Business Cloud, Tally's XML server.
    case direct
    /// Through the job's mailbox (`ConnectorContext.mailbox`): the platform fetches the message when it next calls
    /// (the QuickBooks Web Connector's SOAP poll, an agent beside the books) or in a file, and its reply comes back
    /// later, minutes or days.
    case mailbox
}

/// A job's conversation with a mailbox platform, for one run of the connector: each `exchange` is the next message
/// of the conversation. The journal holds what was said before, so a run after the platform's reply replays the
/// earlier exchanges from it and goes on from there.
///
/// A connector on the mailbox channel must be deterministic over the replies: given the same replies it sends the
/// same messages in the same order (what it learnt from the platform comes from the replies, never from a clock or a
/// call outside the mailbox). Its writes must be keyed so that the platform applies a message it was handed twice
/// once (the message's id, the job's idempotency key).
public final class PlatformMailbox: Sendable {
    /// One earlier exchange of the conversation, as journalled.
    public struct Exchange: Sendable, Hashable {
        public var message: PlatformMessage
        /// `nil` while the platform has not answered.
        public var reply: PlatformMessage?

        public init(message: PlatformMessage, reply: PlatformMessage?) {
            self.message = message
            self.reply = reply
        }
    }

    private let journal: [Exchange]
    private let next = Mutex(0)

    /// - Parameter journal: the job's open conversation, in order.
    public init(journal: [Exchange]) {
        self.journal = journal
    }

    /// The platform's reply to `message`, the next message of the conversation.
    /// - Throws: `AwaitingPlatform` when the platform has not answered it yet: with `message` to journal when it is
    ///   new, or with none when it is in the mailbox already. The connector lets it through; the job then waits, with
    ///   no lease and no attempt used, until the reply wakes it.
    public func exchange(_ message: PlatformMessage) throws(AwaitingPlatform) -> PlatformMessage {
        let index = next.withLock { next in
            defer { next += 1 }
            return next
        }
        guard index < journal.count else { throw AwaitingPlatform(message: message) }
        // The journalled message is the one the platform was given: a replay answers it whatever the run builds now.
        guard let reply = journal[index].reply else { throw AwaitingPlatform(message: nil) }
        return reply
    }
}

/// A mailbox platform has yet to answer: the job waits for its reply (`PlatformMailbox.exchange`).
public struct AwaitingPlatform: Error, Sendable, Hashable {
    /// The new message to journal for the platform; `nil` when the one awaited is in its mailbox already.
    public var message: PlatformMessage?

    public init(message: PlatformMessage?) {
        self.message = message
    }
}

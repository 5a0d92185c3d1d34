import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

/// These run the real `ledgerwire` executable.
@Suite(.serialized) struct ServeProcessTests {
    static func customerEvent(_ id: String) -> [UInt8] {
        Array(
            #"""
            {"type":"customer.created","timestamp":"2026-11-21T09:00:00Z","tenant_id":"crash-test",
             "data":{"id":"\#(id)","name":"Student family \#(id)","currency":"GBP","updated_at":"2026-11-21T09:00:00Z"}}
            """#.utf8
        )
    }

    /// A server on a fresh database in `directory`, with a billing secret registered.
    static func startServer(in directory: TemporaryDirectory) async throws -> (ServerProcess, Signer) {
        let server = try await ServerProcess(database: directory.database, directory: directory.url)
        let signer = Signer()
        try await server.addBillingSecret(signer.secret)
        return (server, signer)
    }

    /// Eight concurrent clients post distinct customer events, `perClient` each, until the server goes away or
    /// `tally.stopped`; `signal` is sent to the server once `threshold` holds.
    static func burst(
        on server: ServerProcess,
        signer: Signer,
        prefix: String,
        perClient: Int,
        tally: Tally,
        signal: Int32,
        when threshold: @escaping @Sendable (Tally) -> Bool
    ) async {
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<8 {
                group.addTask {
                    for sequence in 0..<perClient where !tally.stopped.load(ordering: .relaxed) {
                        let id = "\(prefix)_\(client)_\(sequence)"
                        let body = customerEvent(id)
                        var headers = signer.headers(for: body, id: "msg_\(id)")
                        headers["content-type"] = "application/json"
                        guard
                            let (status, _) = await server.call(
                                "POST",
                                "/webhooks/billing",
                                headers: headers,
                                body: body
                            )
                        else { return }
                        tally.statuses.withLock { $0.append(status) }
                        if (200..<300).contains(status) { tally.acknowledged.withLock { $0.append(id) } }
                    }
                }
            }
            group.addTask {
                while !threshold(tally) { await Task.yield() }
                server.signal(signal)
                if signal == SIGKILL { tally.stopped.store(true, ordering: .relaxed) }
            }
        }
    }

    @Test func everyAcknowledgedEventSurvivesSIGKILLExactlyOnce() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, signer) = try await Self.startServer(in: directory)
        let tally = Tally()
        // Kill in the middle of the burst: once a few hundred events were acknowledged.
        await Self.burst(on: server, signer: signer, prefix: "cus", perClient: 100_000, tally: tally, signal: SIGKILL) {
            $0.acknowledgedCount >= 400
        }
        let exit = try await server.waitForExit()
        #expect(exit.signaled)

        // Restart on the same database: it must come up, and everything acknowledged must be there once.
        let restarted = try await ServerProcess(database: directory.database, directory: directory.url)
        let ready = await restarted.call("GET", "/ready")
        #expect(ready?.0 == 200)
        let acked = tally.acknowledged.withLock { $0 }
        #expect(acked.count >= 400)
        let queue = try DatabaseQueue(path: directory.database)
        let (deliveries, records, versions) = try await queue.read { db in
            (
                try [String: Int](
                    uniqueKeysWithValues: Row.fetchAll(
                        db, sql: "SELECT webhook_id, COUNT(*) AS n FROM deliveries GROUP BY webhook_id"
                    )
                    .map { ($0["webhook_id"] as String, $0["n"] as Int) }
                ),
                try [String: Int](
                    uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT local_id, version FROM records")
                        .map { ($0["local_id"] as String, $0["version"] as Int) }
                ),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record_versions") ?? 0
            )
        }
        for id in acked {
            #expect(deliveries["msg_\(id)"] == 1, "delivery of \(id)")
            #expect(records[id] == 1, "record of \(id)")
        }
        // Nothing was stored twice, acknowledged or not.
        #expect(versions == records.count)
        #expect(deliveries.values.allSatisfy { $0 == 1 })
        restarted.signal(SIGTERM)
        #expect(try await restarted.waitForExit().status == 0)
    }

    @Test func sigtermDrainsInFlightRequestsAndExitsZero() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, signer) = try await Self.startServer(in: directory)
        let tally = Tally()
        await Self.burst(on: server, signer: signer, prefix: "cus_term", perClient: 40, tally: tally, signal: SIGTERM) {
            $0.statusCount >= 50
        }
        let exit = try await server.waitForExit()
        #expect(exit.status == 0)
        #expect(!exit.signaled)
        let answered = tally.statuses.withLock { $0 }
        #expect(answered.count >= 50)
        #expect(answered.allSatisfy { $0 == 200 }, "every answered request was accepted: \(Set(answered))")
        let stored = try await DatabaseQueue(path: directory.database).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM deliveries WHERE status = 'accepted'") ?? 0
        }
        #expect(stored >= answered.count)
    }

    @Test func replayPostsFixturesAndAuditVerifyDetectsAnEditedRow() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, signer) = try await Self.startServer(in: directory)
        let (replayStatus, replayOutput) = try await ServerProcess.run(
            [
                "replay", Fixtures.billingDirectory.path, "--to", "\(server.baseURL)/webhooks/billing", "--secret",
                signer.secret,
            ],
            in: directory.url
        )
        #expect(replayStatus == 0, "\(replayOutput)")
        #expect(replayOutput.split(separator: "\n").filter { $0.hasPrefix("200 ") }.count == 10)
        // Replaying the same files again is a duplicate of each, not new records.
        let (_, again) = try await ServerProcess.run(
            [
                "replay", Fixtures.billingDirectory.path, "--to", "\(server.baseURL)/webhooks/billing", "--secret",
                signer.secret,
            ],
            in: directory.url
        )
        #expect(again.split(separator: "\n").filter { $0.contains(#""status":"duplicate""#) }.count == 10)
        server.signal(SIGTERM)
        #expect(try await server.waitForExit().status == 0)

        let (intactStatus, intact) = try await ServerProcess.run(
            ["audit", "verify", "--database", directory.database], in: directory.url)
        #expect(intactStatus == 0)
        // The webhook source, then 11 changes: the invoice's embedded customer repeats in-customer.created, so it is a
        // duplicate.
        #expect(intact.contains("audit chain intact: 12 entries"), "\(intact)")

        // Someone with the file lowers the Indian invoice's total in its history.
        let edited = try await DatabaseQueue(path: directory.database).write { db -> Int64 in
            let seq = try Int64.fetchOne(
                db,
                sql: "SELECT seq FROM integration_audit_log WHERE entity_id = 'inv_in_2026_0187'"
            )
            try db.execute(sql: "DROP TRIGGER integration_audit_log_no_update")
            try db.execute(
                sql:
                    "UPDATE integration_audit_log SET new_value = replace(new_value, '57820.00', '5782.00') WHERE seq = ?",
                arguments: [seq]
            )
            return seq ?? -1
        }
        let (brokenStatus, broken) = try await ServerProcess.run(
            ["audit", "verify", "--database", directory.database], in: directory.url)
        #expect(brokenStatus == 1)
        #expect(broken.contains("broken at entry \(edited) "), "\(broken)")
    }
}

#!/usr/bin/env python3
"""Breaks one safeguard at a time and shows which tests catch it (issue 13's mutation check).

    scripts/mutation-check.py [mutation ...]      (default: every mutation below)

For each mutation: the source is edited in place, the tests are built and the suites that guard it are run, the
failing tests are listed, and the source is put back (also on Ctrl-C or a failed build). A mutation no test catches
is reported as SURVIVED and the script exits 1. Run it on a clean tree: it refuses to start otherwise, so that
restoring a file never throws away work.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONNECTOR = "Sources/Connectors/QuickBooksOnline/QuickBooksOnlineConnector.swift"
SESSION = "Sources/Connectors/QuickBooksOnline/QuickBooksOnlineSession.swift"
LEDGER_CHANGES = "Sources/Persistence/LedgerChanges.swift"

# name: (what it breaks, [(file, exact text, replacement)], test filter)
MUTATIONS = {
    "requestid": (
        "writes carry no requestid, so QuickBooks cannot tell a write sent again from a new one",
        [(CONNECTOR, 'query: [("requestid", QuickBooksOnlineSession.requestID(request.idempotencyKey))]', "query: []"),
         (CONNECTOR, 'query: [("requestid", QuickBooksOnlineSession.requestID(key))]', "query: []")],
        "EndToEndTests",
    ),
    "resend": (
        "a write whose exchange broke is not sent again under its requestid; it waits for the job's next attempt",
        [(SESSION, '} catch .failed(let message) where query.contains(where: { $0.0 == "requestid" }) {',
          '} catch .failed(let message) where query.contains(where: { $0.0 == "requestid" }) && message.isEmpty {')],
        "EndToEndTests",
    ),
    "lookup": (
        "a create whose outcome is unknown is sent again without first looking for it in the books",
        [(CONNECTOR, "self.findsUncertainWrites = findsUncertainWrites", "self.findsUncertainWrites = false")],
        "EndToEndTests",
    ),
    "total-check": (
        "the connector accepts any total QuickBooks computed (a tax code mapped to the wrong rate goes unnoticed)",
        [(CONNECTOR, "guard Self.sameAmount(billing, total) else {",
          "guard Self.sameAmount(billing, total) || !billing.isEmpty else {")],
        "EndToEndTests",
    ),
    "echo-detection": (
        "a change in the books that is Ledgerwire's own write (same version, or what billing already holds) is "
        "taken as the bookkeeper's",
        [(LEDGER_CHANGES, "if let known: String = link[\"remote_version\"], known == change.remoteVersion {",
          "if let known: String = link[\"remote_version\"], known == change.remoteVersion, Bool(\"false\")! {"),
         (LEDGER_CHANGES, "        guard !change.deleted, let recordType = RecordType(rawValue: change.recordType),",
          "        guard Bool(\"false\")!, !change.deleted, let recordType = RecordType(rawValue: change.recordType),")],
        "EndToEndTests|SyncEngineTests",
    ),
}


def run(command):
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def main(names):
    if run(["git", "status", "--porcelain", "--untracked-files=no"]).stdout.strip():
        sys.exit("mutation-check: commit or set aside your changes first (it restores files with git checkout)")
    survived = []
    for name in names or MUTATIONS:
        what, edits, suites = MUTATIONS[name]
        print(f"== {name}: {what}", flush=True)
        touched = set()
        try:
            for path, old, new in edits:
                source = (ROOT / path).read_text()
                if source.count(old) != 1:
                    sys.exit(f"mutation-check: {name}: the text to break is not in {path} once; update this script")
                (ROOT / path).write_text(source.replace(old, new))
                touched.add(path)
            build = run(["swift", "build", "--build-tests"])
            if build.returncode != 0:
                sys.exit(f"mutation-check: {name} does not build:\n{build.stdout[-3000:]}{build.stderr[-3000:]}")
            tests = run(["swift", "test", "--skip-build", "--filter", suites])
            failed = sorted(set(re.findall(r"✘ Test (\S+?)(?:\(| recorded| failed)", tests.stdout)))
            if failed:
                print(f"   caught by {len(failed)} test(s):")
                for test in failed:
                    print(f"   - {test}")
            else:
                print("   SURVIVED: no test failed")
                survived.append(name)
        finally:
            if touched:
                run(["git", "checkout", "--", *sorted(touched)])
    run(["swift", "build", "--build-tests"])
    if survived:
        sys.exit(f"mutation-check: survived: {', '.join(survived)}")
    print("every mutation was caught")


if __name__ == "__main__":
    unknown = [name for name in sys.argv[1:] if name not in MUTATIONS]
    if unknown:
        sys.exit(f"mutation-check: unknown mutation(s) {unknown}; known: {', '.join(MUTATIONS)}")
    main(sys.argv[1:])

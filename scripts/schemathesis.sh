#!/usr/bin/env bash
# Runs schemathesis against docs/openapi.yaml and a real `ledgerwire serve` on loopback with a temporary database.
#
#   scripts/schemathesis.sh [extra schemathesis options...]
#
# /qbwc is left out: SOAP 1.1 answers a fault as HTTP 500, which not_a_server_error would count against it; the
# hostile-input suite and FuzzWebConnectorSOAP drive it instead.
# Checks, for every documented operation: no 5xx, status codes and content types as documented, and bodies that
# match the documented schemas. Installs the pinned schemathesis into .venv-schemathesis when it is missing, uses
# the binary of `swift build` (built if absent; LEDGERWIRE_BINARY names another), and stops the server at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
venv=.venv-schemathesis
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "version $version"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

binary="${LEDGERWIRE_BINARY:-$(swift build --show-bin-path)/ledgerwire}"
if [ ! -x "$binary" ]; then
    swift build --product ledgerwire
fi

workdir="$(mktemp -d)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Long enough for the server's minimum (32 characters), random per run.
token="schemathesis-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
LEDGERWIRE_ADMIN_TOKEN="$token" "$binary" serve --host 127.0.0.1 --port "$port" \
    --database "$workdir/ledgerwire.sqlite" >"$workdir/server.log" 2>&1 &
server=$!
stop() {
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$workdir"
}
trap stop EXIT

for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$server" 2>/dev/null; then
        echo "ledgerwire serve exited before it was ready:"
        cat "$workdir/server.log"
        exit 1
    fi
    sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/ready" >/dev/null

status=0
# A fixed seed makes a failure reproducible; `timeout` bounds the run whatever the server does.
timeout 300 "$venv/bin/schemathesis" run docs/openapi.yaml \
    --url "http://127.0.0.1:$port" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples 25 \
    --seed 11 \
    --exclude-path /qbwc \
    --request-timeout 10 \
    --no-color \
    "$@" || status=$?
if [ "$status" -ne 0 ]; then
    echo "schemathesis failed (exit $status); the server's last log lines:"
    tail -n 40 "$workdir/server.log"
fi
exit "$status"

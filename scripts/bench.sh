#!/usr/bin/env bash
# Ingestion benchmark: a release `ledgerwire serve` on a fresh database (durable commits: WAL, synchronous=FULL),
# loaded by `ledgerwire-bench` over loopback. Prints throughput and ack latency percentiles.
#
#   scripts/bench.sh                       # flat out (64 connections) and 1,000 events/s
#   DURATION=60 CONNECTIONS=128 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
CONNECTIONS=${CONNECTIONS:-64}
RATE=${RATE:-1000}
EVENT=${EVENT:-invoice}

swift build -c release --product ledgerwire >/dev/null
swift build -c release --product ledgerwire-bench >/dev/null
bin=$(swift build -c release --show-bin-path)

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
token="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
LEDGERWIRE_ADMIN_TOKEN="$token" "$bin/ledgerwire" serve --port 0 --database "$work/ledgerwire.sqlite" \
    --log-level error >"$work/stdout" &
server=$!
for _ in $(seq 1 200); do grep -q 'listening on' "$work/stdout" 2>/dev/null && break; sleep 0.05; done
base=$(sed -n 's/^ledgerwire listening on //p' "$work/stdout")
secret=$(curl -sf -X POST "$base/api/v1/webhook-sources" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"source":"billing"}' | sed 's/.*"secret":"\([^"]*\)".*/\1/')

echo "== machine: $(nproc) cores, $(uname -m); server $base; events: $EVENT"
echo "== flat out"
"$bin/ledgerwire-bench" --url "$base" --secret "$secret" --connections "$CONNECTIONS" --rate 0 \
    --duration "$DURATION" --warmup "$WARMUP" --event "$EVENT"
echo "== fixed rate"
"$bin/ledgerwire-bench" --url "$base" --secret "$secret" --connections "$CONNECTIONS" --rate "$RATE" \
    --duration "$DURATION" --warmup "$WARMUP" --event "$EVENT"
echo "== server metrics"
curl -sf "$base/metrics" | grep -E '^ledgerwire_(webhooks_total|commit_batch_size_(sum|count))' | grep -v ' 0$' || true

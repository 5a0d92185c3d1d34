#!/usr/bin/env bash
# Development TLS material for local HTTPS experiments (a self-signed certificate for 127.0.0.1/localhost).
# Never production keys: the output is git-ignored. Needs openssl.
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -subj "/CN=ledgerwire-dev" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout dev.key -out dev.crt
chmod 600 dev.key
echo "wrote certs/dev.crt and certs/dev.key"

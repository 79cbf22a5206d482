#!/usr/bin/env bash
# Public issuer throughput over HTTP on loopback (wrk, 2 threads, 16 connections): the JWKS and
# the OpenID discovery document of an RS256 and an ES256 credential, fetched without an API key;
# and, in the same run, GET /healthz, the floor of an HTTP exchange with this server.
#
# usage: bench/issuer-http.sh [SECONDS]     (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNECTIONS=${CONNECTIONS:-16}
source bench/lib.sh
WORK=$(mktemp -d "$PWD/target/bench.XXXXXX")
trap 'kill ${SERVER_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18184
URL=http://127.0.0.1:$PORT

run() { # LABEL PATH
  echo "$1: $(BENCH_PATH=$2 wrk -t2 -c"$CONNECTIONS" -d"${SECS}s" -s bench/get.lua "$URL" | grep RESULT)"
}

start_server $PORT
run "GET /healthz (reference)" /healthz
for case in "RS256 $FIXTURES/rsa2048-pkcs8.pem" "ES256 $FIXTURES/ec-p256-pkcs8.pem"; do
  set -- $case
  create_body "$1" "$2" | sed "s/__NAME__/issuer $1/" > "$WORK/body.json"
  issuer=$(curl -sf -X POST "$URL/api/v1/user_credentials" -H "Authorization: Bearer $BENCH_KEY" \
    -H 'content-type: application/json' -d @"$WORK/body.json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["issuer_url"])')
  path=${issuer#"$URL"}
  run "$1 public JWKS" "$path/jwks.json"
  run "$1 discovery document" "$path/.well-known/openid-configuration"
done
echo "server peak RSS: $(awk '/VmHWM/ {print int($2/1024)}' /proc/$SERVER_PID/status) MiB"

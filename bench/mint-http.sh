#!/usr/bin/env bash
# Mint throughput over HTTP on loopback (wrk, 2 threads, 16 connections): RS256 and ES256 with
# the token cache off, RS256 with it on; and, in the same run, the single-core
# `openssl speed rsa2048` sign rate they are compared with.
#
# usage: bench/mint-http.sh [SECONDS]     (needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}
CONNECTIONS=${CONNECTIONS:-16}
source bench/lib.sh
WORK=$(mktemp -d "$PWD/target/bench.XXXXXX")
trap 'kill ${SERVER_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18183
URL=http://127.0.0.1:$PORT

echo "== openssl speed -seconds 5 rsa2048 (one core)"
RSA=$(openssl speed -seconds 5 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
echo "rsa2048 signs/s: $RSA"

run() { # LABEL CREDENTIAL_ID
  local out
  out=$(BENCH_CREDENTIAL=$2 wrk -t2 -c"$CONNECTIONS" -d"${SECS}s" -s bench/mint.lua "$URL")
  echo "$1: $(echo "$out" | grep RESULT)"
}

for cache in 0 30; do
  rm -rf "$WORK/data"
  TOKEN_CACHE_SECONDS=$cache start_server $PORT
  for case in "RS256 $FIXTURES/rsa2048-pkcs8.pem" "ES256 $FIXTURES/ec-p256-pkcs8.pem"; do
    set -- $case
    create_body "$1" "$2" | sed "s/__NAME__/mint $1/" > "$WORK/body.json"
    curl -sf -X POST "$URL/api/v1/user_credentials" -H "Authorization: Bearer $BENCH_KEY" \
      -H 'content-type: application/json' -d @"$WORK/body.json" >/dev/null
  done
  # Credential 1 is RS256, 2 is ES256.
  if [ "$cache" = 0 ]; then
    run "RS256 token cache off" 1
    run "ES256 token cache off" 2
  else
    run "RS256 token cache on (30 s)" 1
  fi
  echo "server peak RSS: $(awk '/VmHWM/ {print int($2/1024)}' /proc/$SERVER_PID/status) MiB"
  kill $SERVER_PID; wait $SERVER_PID 2>/dev/null || true
done

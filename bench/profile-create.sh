#!/usr/bin/env bash
# Where a credential create spends its CPU: perf samples of the server while wrk drives creates.
# usage: bench/profile-create.sh ALG KEY_FIXTURE [SECONDS]
#   e.g. bench/profile-create.sh RS256 rsa2048-pkcs8.pem
# Needs wrk and perf (apt-get install wrk linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
ALG=$1; SECS=${3:-8}
source bench/lib.sh
WORK=$(mktemp -d "$PWD/target/profile.XXXXXX")
trap 'kill ${SERVER_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18182
start_server $PORT
create_body "$ALG" "$FIXTURES/$2" > "$WORK/body.json"
BENCH_RUN=$ALG BENCH_BODY_FILE="$WORK/body.json" \
  wrk -t2 -c16 -d$((SECS + 3))s -s bench/create.lua "http://127.0.0.1:$PORT" > "$WORK/wrk.txt" &
WRK=$!
sleep 2
perf record -F 999 -g -p "$SERVER_PID" -o "$WORK/perf.data" -- sleep "$SECS" 2>/dev/null
wait $WRK
grep RESULT "$WORK/wrk.txt"
echo "== share of server CPU samples, by function including callees"
perf report -i "$WORK/perf.data" --children --sort sym -g none 2>/dev/null \
  | grep -v '^#' | grep -v '^$' | grep -v '\[k\]' | head -${TOP:-25}

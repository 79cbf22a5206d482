#!/usr/bin/env bash
# Credential create throughput over HTTP (RS256 and ES256) against the raw SQLite durable insert
# rate on the same disk, measured in one run. Also reports the server's peak RSS.
#
# usage: bench/create-throughput.sh [SECONDS]     (needs wrk: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${1:-15}
CONNECTIONS=${CONNECTIONS:-16}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

source bench/lib.sh
WORK=$(mktemp -d "$PWD/target/bench.XXXXXX")
trap 'kill ${SERVER_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18181

echo "== raw SQLite: single-row durable inserts (WAL, synchronous=FULL, one transaction each)"
RAW=$(python3 bench/sqlite_insert.py "$WORK/raw.db" "$SECONDS_PER_RUN" | tee /dev/stderr | sed -n 's/.*rps=\([0-9.]*\).*/\1/p')

start_server $PORT

declare -A RPS
for case in "RS256 $FIXTURES/rsa2048-pkcs8.pem" "ES256 $FIXTURES/ec-p256-pkcs8.pem"; do
  set -- $case
  create_body "$1" "$2" > "$WORK/body-$1.json"
  echo "== HTTP creates, $1, wrk -t2 -c$CONNECTIONS -d${SECONDS_PER_RUN}s"
  OUT=$(BENCH_RUN=$1 BENCH_BODY_FILE="$WORK/body-$1.json" \
    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s bench/create.lua http://127.0.0.1:$PORT)
  echo "$OUT" | grep RESULT
  RPS[$1]=$(echo "$OUT" | sed -n 's/^RESULT.* rps=\([0-9.]*\).*/\1/p')
done

PEAK_KB=$(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status)
echo "== summary"
printf 'raw SQLite durable inserts/s : %s\n' "$RAW"
for alg in RS256 ES256; do
  printf '%s creates/s            : %s  (%.0f%% of raw)\n' "$alg" "${RPS[$alg]}" \
    "$(echo "${RPS[$alg]} * 100 / $RAW" | bc -l)"
done
printf 'server peak RSS               : %d MiB\n' $((PEAK_KB / 1024))

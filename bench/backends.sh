#!/usr/bin/env bash
# Create and mint throughput on each backend, in one run: one instance on SQLite, one instance
# on PostgreSQL, two instances on one PostgreSQL database (load spread over both: one wrk per
# instance, run at the same time, rates summed). Mints are RS256 and ES256 with the token cache
# off, so each one signs. PostgreSQL is a throwaway cluster on this machine (scripts/pg-cluster),
# so it shares the two cores with the servers and wrk.
#
# usage: bench/backends.sh [SECONDS]     (needs wrk and PostgreSQL's server binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
source bench/lib.sh
WORK=$(mktemp -d "$PWD/target/bench.XXXXXX")
PIDS=()
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null || true
  scripts/pg-cluster stop "$WORK/pg" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cargo build --release -q -p credvault
PG=$(scripts/pg-cluster start "$WORK/pg")
export TOKEN_CACHE_SECONDS=0
export CREDVAULT_MASTER_KEY=$(openssl rand -base64 32)

# load SCRIPT LABEL INSTANCES... : one wrk per instance at once (2 threads and 16 connections in
# all); prints "rps p50 p99" (summed rate, latencies of the first instance).
load() {
  local script=$1 label=$2; shift 2
  local i=0 threads=$((2 / $#)) conns=$((16 / $#)) wrks=()
  [ "$threads" -ge 1 ] || threads=1
  for port in "$@"; do
    i=$((i + 1))
    BENCH_RUN="$label-$i" wrk -t"$threads" -c"$conns" -d"${SECS}s" -s "$script" \
      "http://127.0.0.1:$port" >"$WORK/wrk.$i" 2>"$WORK/wrk.$i.err" &
    wrks+=($!)
  done
  wait "${wrks[@]}"
  awk '/^RESULT/ { for (f = 1; f <= NF; f++) { split($f, kv, "="); v[kv[1]] = kv[2] }
                  rps += v["rps"]; bad += v["non2xx"]; if (!p50) { p50 = v["p50_ms"]; p99 = v["p99_ms"] } }
       END { printf "%.0f %s %s %d\n", rps, p50, p99, bad }' "$WORK"/wrk.[0-9]
  rm -f "$WORK"/wrk.*
}

# credential ALG KEYFILE PORT: creates one credential, prints its id.
credential() {
  create_body "$1" "$2" | sed "s/__NAME__/mint $1/" >"$WORK/one.json"
  curl -sf -X POST "http://127.0.0.1:$3/api/v1/user_credentials" -H "Authorization: Bearer $BENCH_KEY" \
    -H 'content-type: application/json' -d @"$WORK/one.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

run_setup() { # LABEL DATABASE_URL(or "") INSTANCES
  local label=$1 url=$2 count=$3 ports=()
  rm -rf "$WORK/data"
  if [ -n "$url" ]; then export CREDVAULT_DATABASE_URL=$url; else unset CREDVAULT_DATABASE_URL; fi
  for i in $(seq "$count"); do
    start_server $((18200 + i))
    PIDS+=("$SERVER_PID")
    ports+=($((18200 + i)))
  done
  for alg in ES256 RS256; do
    key=$FIXTURES/ec-p256-pkcs8.pem; [ "$alg" = RS256 ] && key=$FIXTURES/rsa2048-pkcs8.pem
    create_body "$alg" "$key" >"$WORK/body-$alg.json"
    read -r rps p50 p99 bad < <(BENCH_BODY_FILE="$WORK/body-$alg.json" load bench/create.lua "create-$alg" "${ports[@]}")
    printf '%-26s %-22s %9s %8s %8s %6s\n' "$label" "create $alg" "$rps" "$p50" "$p99" "$bad"
  done
  for alg in RS256 ES256; do
    key=$FIXTURES/ec-p256-pkcs8.pem; [ "$alg" = RS256 ] && key=$FIXTURES/rsa2048-pkcs8.pem
    id=$(credential "$alg" "$key" "${ports[0]}")
    read -r rps p50 p99 bad < <(BENCH_CREDENTIAL=$id load bench/mint.lua "mint-$alg" "${ports[@]}")
    printf '%-26s %-22s %9s %8s %8s %6s\n' "$label" "mint $alg (cache off)" "$rps" "$p50" "$p99" "$bad"
  done
  kill "${PIDS[@]}" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

psql -q "$PG/postgres" -c "CREATE DATABASE bench_one" -c "CREATE DATABASE bench_two" \
  -c "CREATE DATABASE bench_raw"

# References, same run: the signing primitives on one core, and PostgreSQL's own rate of
# durable single-row inserts of a credential-sized row (16 clients, one commit each).
echo "== openssl speed -seconds 3 rsa2048 ecdsap256 (one core)"
openssl speed -seconds 3 rsa2048 ecdsap256 2>/dev/null | awk '/^rsa 2048 bits/ {print "rsa2048 signs/s: " $6} /256 bits ecdsa/ {print "ecdsap256 signs/s: " $7}'
echo "== pgbench: durable single-row inserts (1.3 KB row), 16 clients, ${SECS}s"
psql -q "$PG/bench_raw" -c "CREATE TABLE rows (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)"
echo "INSERT INTO rows (body) VALUES (decode(repeat('ab', 1300), 'hex'));" >"$WORK/insert.sql"
pgbench_bin=$(dirname "$(readlink -f "$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")")/pgbench
"$pgbench_bin" -n -c16 -j2 -T "$SECS" -f "$WORK/insert.sql" "$PG/bench_raw" 2>/dev/null | awk '/^tps/ {print "PostgreSQL inserts/s: " int($3)}'
echo
printf '%-26s %-22s %9s %8s %8s %6s\n' setup case req/s p50_ms p99_ms non2xx
run_setup "SQLite, 1 instance" "" 1
run_setup "PostgreSQL, 1 instance" "$PG/bench_one" 1
run_setup "PostgreSQL, 2 instances" "$PG/bench_two" 2

#!/usr/bin/env bash
# Create and update throughput with the audit log (API.md §8) against the build before it, in
# one run, on SQLite and on PostgreSQL: every change now also appends a hash-chained entry in
# its transaction. Each case runs the two builds one after the other on a fresh database, then
# once more in the other order, and reports both runs.
#
# usage: bench/audit-throughput.sh [SECONDS] [BEFORE_COMMIT]
#   BEFORE_COMMIT defaults to 86c67f7 (the last commit without the audit log); its release
#   build is made in a worktree under /tmp (set CREDVAULT_BIN_BEFORE to use a binary you have).
# needs wrk and PostgreSQL's server binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
BEFORE=${2:-86c67f7}
source bench/lib.sh
WORK=$(mktemp -d "$PWD/target/bench.XXXXXX")
cleanup() {
  kill ${SERVER_PID:-} 2>/dev/null || true
  scripts/pg-cluster stop "$WORK/pg" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -q -p credvault
cp target/release/credvault "$WORK/credvault-audit"
if [ -z "${CREDVAULT_BIN_BEFORE:-}" ]; then
  tree=/tmp/credvault-before-$BEFORE
  [ -d "$tree" ] || git worktree add -q "$tree" "$BEFORE"
  (cd "$tree" && cargo build --release -q -p credvault)
  CREDVAULT_BIN_BEFORE=$tree/target/release/credvault
fi
cp "$CREDVAULT_BIN_BEFORE" "$WORK/credvault-before"
PG=$(scripts/pg-cluster start "$WORK/pg")
export CREDVAULT_MASTER_KEY=$(openssl rand -base64 32)
create_body ES256 "$FIXTURES/ec-p256-pkcs8.pem" > "$WORK/body.json"
PORT=18301
UPDATE_IDS=200

# case BUILD BACKEND: a fresh database; creates for SECS seconds, then updates of 200 of them.
# Prints "create_rps create_p99 update_rps update_p99 failures".
case_run() {
  local build=$1 backend=$2 db
  rm -rf "$WORK/data"
  if [ "$backend" = postgres ]; then
    db="bench_$RANDOM$RANDOM"
    psql "$PG/postgres" -qc "CREATE DATABASE $db" >/dev/null
    export CREDVAULT_DATABASE_URL="$PG/$db"
  else
    unset CREDVAULT_DATABASE_URL
  fi
  CREDVAULT_BIN="$WORK/credvault-$build" start_server $PORT
  local c u
  c=$(BENCH_RUN=c BENCH_BODY_FILE="$WORK/body.json" wrk -t2 -c16 -d"${SECS}s" -s bench/create.lua \
    "http://127.0.0.1:$PORT" 2>"$WORK/err" | grep RESULT)
  u=$(BENCH_FIRST_ID=1 BENCH_LAST_ID=$UPDATE_IDS wrk -t2 -c16 -d"${SECS}s" -s bench/update.lua \
    "http://127.0.0.1:$PORT" 2>>"$WORK/err" | grep RESULT)
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  echo "$c $u" | awk '{ for (f = 1; f <= NF; f++) { split($f, kv, "="); if (kv[1] in v) w[kv[1]] = kv[2]; else v[kv[1]] = kv[2] } }
    END { printf "%.0f %s %.0f %s %d\n", v["rps"], v["p99_ms"], w["rps"], w["p99_ms"], v["non2xx"] + w["non2xx"] }'
}

echo "| backend | build | creates/s (ES256) | p99 | updates/s | p99 | failed |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for backend in sqlite postgres; do
  for build in before audit audit before; do
    read -r crps cp99 urps up99 bad < <(case_run $build $backend)
    echo "| $backend | $build | $crps | $cp99 ms | $urps | $up99 ms | $bad |"
  done
done

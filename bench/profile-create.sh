#!/usr/bin/env bash
# Where a credential create spends its CPU: perf samples of the server while wrk drives creates.
# usage: bench/profile-create.sh ALG KEY_FIXTURE [SECONDS]
#   e.g. bench/profile-create.sh RS256 rsa2048-pkcs8.pem
# Needs wrk and perf (apt-get install wrk linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
ALG=$1; KEYFILE=crates/credvault/tests/fixtures/keys/$2; SECS=${3:-8}
cargo build --release -q -p credvault
WORK=$(mktemp -d "$PWD/target/profile.XXXXXX")
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
KEY=cvk_bench_owner_key_00000000000000000000000000
PORT=18182
CREDVAULT_BOOTSTRAP_API_KEY=$KEY CREDVAULT_LOG=warn target/release/credvault serve \
  --listen 127.0.0.1:$PORT --data-dir "$WORK/data" &
PID=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:$PORT/readyz >/dev/null && break; sleep 0.1; done
curl -sf -X POST http://127.0.0.1:$PORT/api/v1/teams -H "Authorization: Bearer $KEY" \
  -H 'content-type: application/json' -d '{"name":"bench"}' >/dev/null
python3 -c 'import json,sys; print(json.dumps({"name":"__NAME__","mode":"JWT","team_id":1,
  "jwt_algorithm":sys.argv[1],"jwt_payload":{"iss":"bench","sub":"svc"},
  "jwt_auto_generate_time_claims":True,"jwt_private_key":open(sys.argv[2]).read()}))' \
  "$ALG" "$KEYFILE" > "$WORK/body.json"
BENCH_RUN=$ALG BENCH_BODY_FILE="$WORK/body.json" BENCH_KEY=$KEY \
  wrk -t2 -c16 -d$((SECS + 3))s -s bench/create.lua http://127.0.0.1:$PORT > "$WORK/wrk.txt" &
WRK=$!
sleep 2
perf record -F 999 -g -p $PID -o "$WORK/perf.data" -- sleep "$SECS" 2>/dev/null
wait $WRK
grep RESULT "$WORK/wrk.txt"
echo "== share of server CPU samples, by function including callees"
perf report -i "$WORK/perf.data" --children --sort sym -g none 2>/dev/null \
  | grep -v '^#' | grep -v '^$' | grep -v '\[k\]' | head -${TOP:-25}

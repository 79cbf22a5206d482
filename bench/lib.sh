# Shared by the bench scripts (source it): a release server on a scratch data directory under
# target/ (the repository's disk), with one team, and a JWT create body for wrk.

export BENCH_KEY=cvk_bench_owner_key_00000000000000000000000000
FIXTURES=crates/credvault/tests/fixtures/keys

# start_server PORT: builds, starts the server in $WORK/data (on CREDVAULT_DATABASE_URL when
# that is exported), waits for it, creates team 1 unless it exists. CREDVAULT_BIN runs another
# build instead (e.g. an older commit's, to compare two builds in one run).
# Sets SERVER_PID; the caller's EXIT trap should kill it and remove $WORK.
start_server() {
  local port=$1
  local bin=${CREDVAULT_BIN:-target/release/credvault}
  [ -n "${CREDVAULT_BIN:-}" ] || cargo build --release -q -p credvault
  # Rate limiting off: the load generator is one client sending far more than 5000/min.
  CREDVAULT_BOOTSTRAP_API_KEY=$BENCH_KEY CREDVAULT_LOG=warn CREDVAULT_RATE_LIMIT_PER_MINUTE=0 \
    CREDVAULT_TOKEN_CACHE_SECONDS=${TOKEN_CACHE_SECONDS:-30} \
    "$bin" serve \
    --listen "127.0.0.1:$port" --data-dir "$WORK/data" &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  # Not -f: a second instance on the same database finds the team already there (409).
  curl -s -X POST "http://127.0.0.1:$port/api/v1/teams" -H "Authorization: Bearer $BENCH_KEY" \
    -H 'content-type: application/json' -d '{"name":"bench"}' >/dev/null
}

# create_body ALG KEYFILE: a JSON create body whose name is the placeholder __NAME__.
create_body() {
  python3 -c 'import json,sys; print(json.dumps({"name":"__NAME__","mode":"JWT","team_id":1,
    "jwt_algorithm":sys.argv[1],"jwt_payload":{"iss":"bench","sub":"svc"},
    "jwt_auto_generate_time_claims":True,"jwt_private_key":open(sys.argv[2]).read()}))' "$1" "$2"
}

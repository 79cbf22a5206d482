#!/usr/bin/env bash
# What API.md §12 promises under the costliest requests an EDITOR may send, over HTTP on loopback
# (release server, rate limit off, token cache off so that every allowed mint signs):
#
#  a. Mints from an ES256 credential with the worst allowed_hosts allowed: 100 patterns of 1,024
#     characters, against an 8,192-character URL, wrk -t2 -c$CONNECTIONS. Two shapes:
#       stars:   example.com/*a*a…*a*b   (505 × "*a"), the shape a backtracking matcher fears;
#       literal: example.com/*aaa…ab     (one star, then 1,010 characters), the worst case of a
#                matcher that retries the text after its last star (quadratic: URL × pattern).
#     The first 99 patterns end in b, the 100th in c: a URL ending in a is refused (403) after all
#     100 fail; one ending in c is allowed (200) by the last pattern, after 99 failures.
#     A plain ES256 mint (no allowed_hosts, no body) is measured alongside, for reference.
#  b. Key checks at the KDF limits, alone (1 connection): creates of an RS256 credential whose
#     RSA-2048 key is encrypted PKCS#8 behind PBKDF2-HMAC-SHA256 and -SHA512 at 1,000,000
#     iterations, and behind scrypt N=2^16 r=8 p=8 (64 MiB, N·r·p = 2^22), each with a new name.
#  c. GET /healthz latency, 1 connection: alone first (before anything else runs), then while
#     4 connections mint with the costliest mint of (a) and 4 connections send the costliest key
#     check of (b). Also the mint and key-check rates during that run, and the server's peak RSS.
#
# usage: bench/limits.sh [SECONDS]     (needs wrk, openssl, python3; default 10 s per run, about
#        2 minutes in all. CONNECTIONS: connections of the mint runs in (a), default 4.
#        CREDVAULT_BIN: run another build, see bench/lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNECTIONS=${CONNECTIONS:-4}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
source bench/lib.sh
WORK=$(mktemp -d "$PWD/target/bench.XXXXXX")
trap 'kill ${SERVER_PID:-} $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=18187
URL=http://127.0.0.1:$PORT

# run CONNECTIONS SECONDS METHOD PATH STATUS [BODY_FILE [RUN]]: wrk with bench/limits.lua; prints
# its RESULT line. A long --timeout: key checks under load take seconds, and wrk leaves timed-out
# requests out of the latencies.
run() {
  BENCH_METHOD=$3 BENCH_PATH=$4 BENCH_STATUS=$5 BENCH_BODY_FILE=${6:-} BENCH_RUN=${7:-} \
    wrk -t"$(( $1 < 2 ? 1 : 2 ))" -c"$1" -d"$2s" --timeout 120s -s bench/limits.lua "$URL" \
    | grep '^RESULT'
}
field() { sed -n "s/^RESULT.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
figures() { # RESULT line → "X req/s, p50 Y ms, p99 Z ms, max W ms" (and any unexpected answers)
  local bad
  bad=$(( $(field unexpected "$1") + $(field socket_errors "$1") + $(field timeouts "$1") ))
  printf '%s req/s, p50 %s ms, p99 %s ms, max %s ms%s' "$(field rps "$1")" "$(field p50_ms "$1")" \
    "$(field p99_ms "$1")" "$(field max_ms "$1")" \
    "$([ "$bad" = 0 ] || echo " ($bad unexpected answers, errors or timeouts!)")"
}
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
once() { # PATH BODY_FILE: one POST with curl; prints "status, seconds"
  curl -s -o /dev/null -w '%{http_code} in %{time_total} s' -X POST "$URL$1" \
    -H "Authorization: Bearer $BENCH_KEY" -H 'content-type: application/json' -d @"$2"
}
create() { # BODY_FILE: creates a credential, prints its id
  curl -sf -X POST "$URL/api/v1/user_credentials" -H "Authorization: Bearer $BENCH_KEY" \
    -H 'content-type: application/json' -d @"$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

echo "== keys at the KDF limits (openssl $(openssl version | cut -d' ' -f2))"
RSA=$FIXTURES/rsa2048-pkcs8.pem
KDFS=(pbkdf2-sha256 pbkdf2-sha512 scrypt)
declare -A KDF_LABEL=(
  [pbkdf2-sha256]="PBKDF2-HMAC-SHA256, 1,000,000 iterations"
  [pbkdf2-sha512]="PBKDF2-HMAC-SHA512, 1,000,000 iterations"
  [scrypt]="scrypt N=65536 r=8 p=8 (64 MiB, N·r·p = 2^22)")
for prf in sha256 sha512; do
  openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf "hmacWith${prf^^}" -iter 1000000 -passout pass:bench \
    -in "$RSA" -out "$WORK/pbkdf2-$prf.pem"
done
# openssl pkcs8 -scrypt refuses more than 32 MiB; this writes the same structure at 64 MiB.
python3 bench/limits-scrypt-key.py "$RSA" "$WORK/scrypt.pem" bench 65536 8 8
for kdf in "${KDFS[@]}"; do
  python3 -c 'import json,sys; print(json.dumps({"name":"__NAME__","mode":"JWT","team_id":1,
    "jwt_algorithm":"RS256","jwt_payload":{"iss":"bench"},"jwt_private_key":open(sys.argv[1]).read(),
    "jwt_private_key_passphrase":"bench"}))' "$WORK/$kdf.pem" > "$WORK/create-$kdf.json"
  printf '%s: written, its KDF integers read back:' "${KDF_LABEL[$kdf]}"
  for hex in $(openssl asn1parse -in "$WORK/$kdf.pem" | sed -n 's/.*INTEGER *://p'); do
    printf ' %d' $((16#$hex))
  done
  echo
done

python3 - "$WORK" "$FIXTURES/ec-p256-pkcs8.pem" <<'PY'
import json, sys
work, key = sys.argv[1], open(sys.argv[2]).read()
shapes = {"stars": lambda end: "example.com/" + "*a" * 505 + "*" + end,
          "literal": lambda end: "example.com/*" + "a" * 1010 + end}
base = "https://example.com/"
def dump(name, doc):
    json.dump(doc, open(f"{work}/{name}.json", "w"))
dump("reference", {"name": "reference", "mode": "JWT", "team_id": 1, "jwt_algorithm": "ES256",
                   "jwt_payload": {"iss": "bench"}, "jwt_private_key": key})
for shape, pattern in shapes.items():
    hosts = [pattern("b")] * 99 + [pattern("c")]
    assert all(len(h) == 1024 for h in hosts), [len(h) for h in hosts[:1]]
    dump(f"worst-{shape}", {"name": f"worst {shape}", "mode": "JWT", "team_id": 1,
                            "jwt_algorithm": "ES256", "jwt_payload": {"iss": "bench"},
                            "jwt_private_key": key, "allowed_hosts": hosts})
refused, matching = base + "a" * (8192 - len(base)), base + "a" * (8191 - len(base)) + "c"
assert len(refused) == len(matching) == 8192
dump("url-refused", {"url": refused})
dump("url-matching", {"url": matching})
PY

TOKEN_CACHE_SECONDS=0 start_server $PORT
curl -sf "$URL/readyz" >/dev/null || { echo "the server did not start" >&2; exit 1; }

echo "== c (first). GET /healthz alone, 1 connection, ${SECS}s"
HEALTH_ALONE=$(run 1 "$SECS" GET /healthz 200)
echo "/healthz alone: $HEALTH_ALONE"

echo "== a. mints, ES256, token cache off, wrk -t2 -c$CONNECTIONS -d${SECS}s"
REF=$(create "$WORK/reference.json")
declare -A ID MINT
for shape in stars literal; do ID[$shape]=$(create "$WORK/worst-$shape.json"); done
echo "one request each (curl):"
for shape in stars literal; do
  for url in refused matching; do
    echo "  $shape pattern, $url URL: $(once "/api/v1/user_credentials/${ID[$shape]}/token" "$WORK/url-$url.json")"
  done
done
MINT[reference]=$(run "$CONNECTIONS" "$SECS" POST "/api/v1/user_credentials/$REF/token" 200)
echo "plain ES256 mint, no allowed_hosts: ${MINT[reference]}"
WORST=
for shape in stars literal; do
  for url in refused matching; do
    status=$([ $url = refused ] && echo 403 || echo 200)
    MINT[$shape-$url]=$(run "$CONNECTIONS" "$SECS" POST "/api/v1/user_credentials/${ID[$shape]}/token" \
      $status "$WORK/url-$url.json")
    echo "worst allowed_hosts ($shape), 8,192-character URL, $url ($status): ${MINT[$shape-$url]}"
    if [ -z "$WORST" ] || lt "$(field rps "${MINT[$shape-$url]}")" "$(field rps "${MINT[$WORST]}")"; then
      WORST=$shape-$url
    fi
  done
done

echo "== b. key checks at the KDF limits alone (RS256 creates, 1 connection, ${SECS}s each)"
declare -A KEYS
COSTLIEST=
for kdf in "${KDFS[@]}"; do
  KEYS[$kdf]=$(run 1 "$SECS" POST /api/v1/user_credentials 201 "$WORK/create-$kdf.json" "alone-$kdf")
  echo "${KDF_LABEL[$kdf]}: ${KEYS[$kdf]}"
  if [ -z "$COSTLIEST" ] || lt "$(field p50_ms "${KEYS[$COSTLIEST]}")" "$(field p50_ms "${KEYS[$kdf]}")"; then
    COSTLIEST=$kdf
  fi
done

LOAD_SECS=$((SECS + 4))
echo "== c. GET /healthz, 1 connection, ${SECS}s, while 4 connections mint ($WORST) and" \
  "4 connections send key checks (${KDF_LABEL[$COSTLIEST]}) for ${LOAD_SECS}s"
shape=${WORST%-*} url=${WORST#*-}
run 4 "$LOAD_SECS" POST "/api/v1/user_credentials/${ID[$shape]}/token" \
  "$([ "$url" = refused ] && echo 403 || echo 200)" "$WORK/url-$url.json" > "$WORK/load-mint.txt" &
LOAD_MINT=$!
run 4 "$LOAD_SECS" POST /api/v1/user_credentials 201 "$WORK/create-$COSTLIEST.json" load \
  > "$WORK/load-keys.txt" &
LOAD_KEYS=$!
sleep 2
HEALTH_LOADED=$(run 1 "$SECS" GET /healthz 200)
wait $LOAD_MINT $LOAD_KEYS
LOADED_MINT=$(cat "$WORK/load-mint.txt") LOADED_KEYS=$(cat "$WORK/load-keys.txt")
echo "/healthz under load: $HEALTH_LOADED"
echo "worst mints meanwhile ($WORST, 4 connections): $LOADED_MINT"
echo "key checks meanwhile ($COSTLIEST, 4 connections): $LOADED_KEYS"
PEAK_MIB=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$SERVER_PID/status)

echo "== summary (${SECS}s runs; binary: ${CREDVAULT_BIN:-target/release/credvault})"
printf '%-58s %s\n' \
  "plain ES256 mint, no allowed_hosts:" "$(figures "${MINT[reference]}")" \
  "worst allowed_hosts, stars, URL refused (403):" "$(figures "${MINT[stars-refused]}")" \
  "worst allowed_hosts, stars, URL allowed by the 100th (200):" "$(figures "${MINT[stars-matching]}")" \
  "worst allowed_hosts, literal, URL refused (403):" "$(figures "${MINT[literal-refused]}")" \
  "worst allowed_hosts, literal, URL allowed by the 100th (200):" "$(figures "${MINT[literal-matching]}")"
for kdf in "${KDFS[@]}"; do
  printf '%-58s %s\n' "key check alone, ${KDF_LABEL[$kdf]}:" "$(figures "${KEYS[$kdf]}")"
done
printf '%-58s %s\n' \
  "/healthz alone:" "$(figures "$HEALTH_ALONE")" \
  "/healthz under load:" "$(figures "$HEALTH_LOADED")" \
  "worst mints under load ($WORST, 4 connections):" "$(figures "$LOADED_MINT")" \
  "key checks under load ($COSTLIEST, 4 connections):" "$(figures "$LOADED_KEYS")" \
  "server peak RSS:" "$PEAK_MIB MiB"

#!/usr/bin/env bash
# In-process mint rate per algorithm (criterion, one core, cached key) against the raw signing
# rate of `openssl speed` for the same primitive, measured in the same run; and HS256 against
# the jsonwebtoken crate's encode. Prints mints/s, signs/s and the ratio.
#
# usage: bench/mint-vs-openssl.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "== openssl speed -seconds $SECS rsa2048 ecdsap256 ecdsap384 ecdsap521 ed25519" >&2
openssl speed -seconds "$SECS" rsa2048 ecdsap256 ecdsap384 ecdsap521 ed25519 2>/dev/null > "$OUT/openssl.txt"
echo "== cargo bench -p credvault-core --bench mint" >&2
cargo bench -q -p credvault-core --bench mint -- --warm-up-time 2 --measurement-time "$SECS" \
  --output-format bencher 2>/dev/null | grep '^test ' > "$OUT/criterion.txt"

python3 - "$OUT/openssl.txt" "$OUT/criterion.txt" <<'PY'
import re, sys
openssl = open(sys.argv[1]).read()
def sign_rate(pattern):
    m = re.search(pattern + r"\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)", openssl)
    return float(m.group(1)) if m else float("nan")
ref = {
    "RS256": sign_rate(r"rsa 2048 bits"), "PS256": sign_rate(r"rsa 2048 bits"),
    "ES256": sign_rate(r"ecdsa \(nistp256\)"), "ES384": sign_rate(r"ecdsa \(nistp384\)"),
    "ES512": sign_rate(r"ecdsa \(nistp521\)"), "EdDSA": sign_rate(r"EdDSA \(Ed25519\)"),
}
rates = {}
for line in open(sys.argv[2]):
    m = re.match(r"test (\S+)\s+\.\.\. bench:\s+([\d,.]+) ns/iter", line)
    if m:
        rates[m.group(1)] = 1e9 / float(m.group(2).replace(",", ""))
print(f"{'algorithm':<10} {'credvault mints/s':>18} {'reference /s':>14} {'ratio':>7}  reference")
for alg in ["RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA"]:
    r = rates.get(f"mint/{alg}", float("nan"))
    print(f"{alg:<10} {r:>18,.0f} {ref[alg]:>14,.0f} {r / ref[alg]:>7.2f}  openssl speed sign")
hs, jwt = rates.get("mint/HS256", float("nan")), rates.get("jsonwebtoken/HS256", float("nan"))
print(f"{'HS256':<10} {hs:>18,.0f} {jwt:>14,.0f} {hs / jwt:>7.2f}  jsonwebtoken::encode")
PY

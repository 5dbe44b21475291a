#!/usr/bin/env bash
# Load benchmark of pol-server (issue 15): 10-row /mask requests on the 20-column benchmark
# source (scripts/bench_sql/customers.pol) with wrk on loopback, at 1, 16 and 64 connections,
# then the same requests masked in-process (server/benches/in_process.rs) for the ratio.
# Needs wrk (Debian: apt-get install wrk). Not part of CI. Bounded: 3 runs of DURATION each.
#
#   scripts/bench_server.sh [DURATION=10s]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10s}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'kill "${PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# The server optimised (the wheel profile); polc only builds the bundle (dev profile).
cargo build -q --profile wheel -p pol-server --bin pol-server
cargo build -q -p pol-compiler --bin polc
BIN=target/wheel
target/debug/polc build scripts/bench_sql/customers.pol -o "$WORK/customers.polb" >/dev/null
printf 'pol-server benchmark secret, public, 32+ bytes long' > "$WORK/secret"
head -c 32 /dev/urandom > "$WORK/masking.key"
python3 - "$WORK" <<'PY'
import base64, hmac, hashlib, json, sys
work = sys.argv[1]
rows = []
for i in range(10):
    rows.append({"id": i, "email": f"user{i}@example.com", "phone": f"555-010-{i:04d}", "ssn": f"123-45-{i:04d}",
                 "first_name": "Jenny", "last_name": f"Doe{i}", "birth_date": "1990-01-31", "street": "1 Main St",
                 "zip": "12345", "country": "US" if i % 2 else "FR", "city": "Springfield", "team": "a" if i < 8 else "b",
                 "status": "active", "segment": "pro", "salary": 50000.5 + i, "balance": 1234.56 * i,
                 "credit_score": 700 + i, "created_at": "2025-11-02T10:00:00Z", "notes": "called twice"})
open(f"{work}/body.json", "w").write(json.dumps({"rows": rows}))
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
key = open(f"{work}/secret", "rb").read()
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b(json.dumps({"sub": "amy", "roles": ["support"], "team": "a", "exp": 4000000000}).encode())
token = h + "." + p + "." + b(hmac.new(key, (h + "." + p).encode(), hashlib.sha256).digest())
open(f"{work}/post.lua", "w").write(
    'wrk.method = "POST"\n'
    f'wrk.body = [[{open(f"{work}/body.json").read()}]]\n'
    'wrk.headers["Content-Type"] = "application/json"\n'
    f'wrk.headers["Authorization"] = "Bearer {token}"\n')
PY
PORT=18650
RUST_LOG=warn "$BIN/pol-server" --bundle "$WORK/customers.polb" --jwt-key "$WORK/secret" \
  --key-file "$WORK/masking.key" --listen "127.0.0.1:$PORT" --max-concurrent 1024 --watch-ms 0 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT/v1/sources/customers/mask"
# A sanity check: 10 rows in, 8 shown (own team), 2 hidden.
curl -sf -X POST -H "Authorization: $(sed -n 's/.*"Authorization"\] = "\(.*\)"/\1/p' "$WORK/post.lua")" \
  -H 'Content-Type: application/json' --data @"$WORK/body.json" "$URL" | python3 -c 'import json,sys; v=json.load(sys.stdin); assert len(v["rows"])==8 and v["hidden"]==2, v'
for C in 1 16 64; do
  echo "== $C connections, $DURATION"
  wrk -t "$([ "$C" = 1 ] && echo 1 || echo 2)" -c "$C" -d "$DURATION" --latency -s "$WORK/post.lua" "$URL" \
    | grep -E 'Requests/sec|^\s+(50|99)%|Non-2xx|Socket errors|requests in'
done
kill "$PID"; wait "$PID" 2>/dev/null || true
echo "== in-process (server/benches/in_process.rs)"
POL_BENCH_BUNDLE="$WORK/customers.polb" POL_BENCH_BODY="$WORK/body.json" POL_BENCH_SECRET="$WORK/secret" POL_BENCH_KEY="$WORK/masking.key" \
  cargo bench -q --profile wheel -p pol-server --bench in_process 2>/dev/null

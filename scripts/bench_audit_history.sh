#!/usr/bin/env bash
# `polc grants request` with an empty audit file and grant store, and with a large history in
# both (HISTORY_MB of audit records, HISTORY_MB / 5 of grant store lines), interleaved: median
# wall time and peak memory of each over N runs.
#   scripts/bench_audit_history.sh [HISTORY_MB] [RUNS] [POLC]
# POLC defaults to the dev build (`cargo build -p pol-compiler --bin polc`); pass another binary
# (e.g. one built from an older commit) to compare.
set -euo pipefail
cd "$(dirname "$0")/.."
MB="${1:-500}"
RUNS="${2:-7}"
POLC="${3:-}"
if [ -z "$POLC" ]; then
  cargo build -q -p pol-compiler --bin polc
  POLC="$PWD/target/debug/polc"
fi
DIR="${TMPDIR:-/tmp}/pol-bench-audit"
rm -rf "$DIR" && mkdir -p "$DIR"
SET="$DIR/set"
cp -r examples/support-desk "$SET"
cp examples/support-desk/demo/eli.json "$DIR/eli.json"
# One realistic record (330 bytes), repeated to the size asked.
LINE='{"time":"2026-03-02T09:05:00Z","subject":"eli","action":"grant","request":"unmask","source":"customers","key":"1","columns":[],"expiry":"2026-03-03T09:05:00Z","reason":"ticket 4411: refund to the card on file","detail":"granted by escalations for 86400s as grant g-4f0c9a1e7b2d4c8e9a35f6d7c8b1e203"}'
N=$(( MB * 1024 * 1024 / (${#LINE} + 1) ))
{ yes "$LINE" || true; } | head -n "$N" > "$DIR/history.jsonl"
GRANT='{"id":"g-4f0c9a1e7b2d4c8e9a35f6d7c8b1e203","source":"customers","key":"1","granted_to":"eli","rule":"escalations","granted_at":"2026-03-02T09:05:00Z","expires":"2026-03-03T09:05:00Z"}'
G=$(( MB * 1024 * 1024 / 5 / (${#GRANT} + 1) ))
{ yes "$GRANT" || true; } | head -n "$G" > "$DIR/store-history.jsonl"
echo "history: audit $(du -m "$DIR/history.jsonl" | cut -f1) MB ($N records), store $(du -m "$DIR/store-history.jsonl" | cut -f1) MB ($G grants)"
request() { # AUDIT STORE
  /usr/bin/time -f "%e %M" "$POLC" grants request "$SET" --subject "$DIR/eli.json" \
    --source customers --key 1 --reason bench --store "$2" --audit "$1" \
    --now 2026-03-02T09:05:00Z 2>&1 >/dev/null | tail -1
}
for i in $(seq "$RUNS"); do
  rm -f "$DIR/empty.jsonl" "$DIR/grants-a.jsonl"
  echo "empty $(request "$DIR/empty.jsonl" "$DIR/grants-a.jsonl")"
  echo "history $(request "$DIR/history.jsonl" "$DIR/store-history.jsonl")"
done > "$DIR/times"
for kind in empty history; do
  grep "^$kind " "$DIR/times" | cut -d' ' -f2- | sort -n | awk -v k="$kind" '
    { t[NR] = $1; if ($2 > m) m = $2 }
    END { printf "%-8s runs: %d  median: %.3f s  min: %.3f s  max: %.3f s  peak RSS: %.1f MB\n",
          k, NR, t[int((NR + 1) / 2)], t[1], t[NR], m / 1024 }'
done
rm -rf "$DIR"

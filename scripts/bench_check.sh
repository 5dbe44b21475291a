#!/usr/bin/env bash
# `polc check` on a generated 100k-line policy set: wall time and peak memory over N runs.
#   scripts/bench_check.sh [LINES] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
LINES="${1:-100000}"
RUNS="${2:-10}"
OUT="${TMPDIR:-/tmp}/pol-bench-$LINES"
cargo build --release -q -p pol-compiler --bin polc --example gen_policy_set
rm -rf "$OUT"
./target/release/examples/gen_policy_set "$OUT" "$LINES"
echo "lines: $(cat "$OUT"/*.pol | wc -l)"
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" ./target/release/polc check "$OUT" 2>&1 >/dev/null | tail -1
done | sort -n | awk '
  { t[NR] = $1; if ($2 > m) m = $2 }
  END { printf "runs: %d  min: %.2f s  median: %.2f s  max: %.2f s  peak RSS: %.0f MB\n",
        NR, t[1], t[int((NR + 1) / 2)], t[NR], m / 1024 }'

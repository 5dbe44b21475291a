#!/bin/sh
# Issue 9 figures: `polc check` on deep and wide inputs, wall time and peak memory.
#   scripts/bench_linear.sh [POLC]     (default: target/release/polc)
set -eu
POLC=${1:-target/release/polc}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { # name file
  /usr/bin/time -f "%e %M" "$POLC" check "$2" >/dev/null 2>"$dir/err" || true
  t=$(tail -1 "$dir/err")
  echo "$1: $(echo "$t" | awk '{printf "%.2f s, %.0f MB", $1, $2/1024}')"
}
for n in 10000 20000 40000; do
  python3 scripts/gen_wide.py path $n >"$dir/p.pol"; run "tag path of $n segments" "$dir/p.pol"
done
for n in 16000 32000 64000; do
  python3 scripts/gen_wide.py columns $n >"$dir/c.pol"; run "source of $n columns" "$dir/c.pol"
done
for k in and or add not list_type struct_type; do
  python3 scripts/gen_deep.py $k 100000 >"$dir/d.pol"; run "100k-deep $k" "$dir/d.pol"
done

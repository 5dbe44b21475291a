#!/usr/bin/env bash
# Latency of pol-lsp over stdio on a generated workspace (release build): didChange → publish-
# Diagnostics, hover and completion, p50 / p95 / max.
#   lsp/bench/latency.sh [LINES] [ROUNDS]      (defaults: 10000 lines, 40 rounds)
set -euo pipefail
cd "$(dirname "$0")/../.."
LINES="${1:-10000}"
ROUNDS="${2:-40}"
OUT="${TMPDIR:-/tmp}/pol-lsp-bench-$LINES"
cargo build --release -q -p pol-compiler --example gen_policy_set
cargo build --release -q -p pol-lsp --bin pol-lsp --example latency
rm -rf "$OUT"
./target/release/examples/gen_policy_set "$OUT" "$LINES"
./target/release/examples/latency ./target/release/pol-lsp "$OUT" "$ROUNDS"

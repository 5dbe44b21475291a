#!/usr/bin/env bash
# Latency of pol-lsp over stdio on a generated workspace: didChange → publishDiagnostics, hover
# and completion, p50 / p95 / max. Built with the `wheel` profile (optimised, thin LTO): the
# release profile's fat LTO takes too long to build on the shared 2-core machine, and the
# figures in docs/benchmarks.md are the wheel build's.
#   lsp/bench/latency.sh [LINES] [ROUNDS]      (defaults: 10000 lines, 40 rounds)
set -euo pipefail
cd "$(dirname "$0")/../.."
LINES="${1:-10000}"
ROUNDS="${2:-40}"
OUT="${TMPDIR:-/tmp}/pol-lsp-bench-$LINES"
cargo build --locked --profile wheel -q -p pol-compiler --example gen_policy_set
cargo build --locked --profile wheel -q -p pol-lsp --bin pol-lsp --example latency
rm -rf "$OUT"
./target/wheel/examples/gen_policy_set "$OUT" "$LINES"
./target/wheel/examples/latency ./target/wheel/pol-lsp "$OUT" "$ROUNDS"
